// What every simulated endpoint shares: injected faults, sessions, and the task service that
// answers 202 + Location task monitors.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { collection, type Json } from './http.ts';

/** Faults a tester injects, per system (or '*' for every request). */
export interface Faults {
  /** Milliseconds added before each answer. */
  latencyMs?: number;
  /** Never answer: the client's call times out (the socket stays open until the simulator closes). */
  hang?: boolean;
  /** Answer this HTTP status (e.g. 500, 503) instead of doing the work. */
  errorStatus?: number;
  /** Only the next N requests get errorStatus (default: all of them until cleared). */
  errorCount?: number;
  /** Forget every session at the next request: clients get 401 and must log in again. */
  dropSessions?: boolean;
  /** Reset actions are accepted (204) but the power state never changes. */
  powerStuck?: boolean;
  /** The system's asynchronous tasks (iRMC's BIOS settings) end in Exception with this message. */
  taskFails?: string;
}

export class FaultTable {
  private readonly table = new Map<string, Faults>();

  /** Sets the faults of one system id, or of '*' (every request). */
  set(systemId: string, faults: Faults): void {
    this.table.set(systemId.toLowerCase(), { ...faults });
  }

  clear(systemId?: string): void {
    if (systemId === undefined) this.table.clear();
    else this.table.delete(systemId.toLowerCase());
  }

  /** The faults in force for a request that belongs to `systemId` (null: a service-level path). */
  for(systemId: string | null): Faults | null {
    return (systemId ? this.table.get(systemId.toLowerCase()) : undefined) ?? this.table.get('*') ?? null;
  }

  /** Whether this request gets the injected error status; counts it down. */
  takeError(faults: Faults): boolean {
    if (!faults.errorStatus) return false;
    if (faults.errorCount === undefined) return true;
    if (faults.errorCount <= 0) return false;
    faults.errorCount -= 1;
    return true;
  }
}

export interface Session {
  id: string;
  token: string;
  user: string;
  created: number;
}

export class SessionStore {
  private readonly byId = new Map<string, Session>();
  private readonly byToken = new Map<string, Session>();
  constructor(readonly max: number) {}

  /** null when the limit is reached (iLO's SessionLimitExceeded). */
  create(user: string): Session | null {
    if (this.byId.size >= this.max) return null;
    const s: Session = { id: randomBytes(8).toString('hex'), token: randomBytes(24).toString('hex'), user, created: Date.now() };
    this.byId.set(s.id, s);
    this.byToken.set(s.token, s);
    return s;
  }

  find(token: string): Session | undefined {
    return this.byToken.get(token);
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  delete(id: string): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    this.byId.delete(id);
    this.byToken.delete(s.token);
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.byToken.clear();
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

export type TaskState = 'New' | 'Running' | 'Completed' | 'Exception';

export interface SimTask {
  id: string;
  name: string;
  state: TaskState;
  message: string;
  started: number;
  ended: number | null;
}

export const TASKS_PATH = '/redfish/v1/TaskService/Tasks';
export const MONITORS_PATH = '/redfish/v1/TaskService/TaskMonitors';

/** Asynchronous operations: each runs after `durationMs` and is polled through its task monitor. */
export class TaskStore {
  private readonly tasks = new Map<string, SimTask>();

  create(name: string, durationMs: number, work: () => Promise<void> | void, id = randomUUID().slice(0, 8)): SimTask {
    const task: SimTask = { id, name, state: 'Running', message: 'The task is running.', started: Date.now(), ended: null };
    this.tasks.set(id.toLowerCase(), task);
    void (async () => {
      if (durationMs > 0) await sleep(durationMs, undefined, { ref: false });
      try {
        await work();
        task.state = 'Completed';
        task.message = 'The task has completed successfully.';
      } catch (err) {
        task.state = 'Exception';
        task.message = (err as Error).message;
      }
      task.ended = Date.now();
    })();
    return task;
  }

  get(id: string): SimTask | undefined {
    return this.tasks.get(id.toLowerCase());
  }

  ids(): string[] {
    return [...this.tasks.values()].map((t) => t.id);
  }

  render(task: SimTask): Json {
    return {
      '@odata.id': `${TASKS_PATH}/${task.id}`,
      '@odata.type': '#Task.v1_4_3.Task',
      Id: task.id,
      Name: task.name,
      TaskState: task.state,
      TaskStatus: task.state === 'Exception' ? 'Critical' : 'OK',
      PercentComplete: task.state === 'Completed' || task.state === 'Exception' ? 100 : 50,
      StartTime: new Date(task.started).toISOString(),
      ...(task.ended ? { EndTime: new Date(task.ended).toISOString() } : {}),
      TaskMonitor: `${MONITORS_PATH}/${task.id}`,
      Messages: [{ MessageId: task.state === 'Exception' ? 'Base.1.8.InternalError' : 'TaskEvent.1.0.TaskProgressChanged', Message: task.message, Severity: task.state === 'Exception' ? 'Critical' : 'OK' }],
    };
  }

  collection(): Json {
    return collection(TASKS_PATH, 'TaskCollection', 'Task Collection', this.ids().map((id) => `${TASKS_PATH}/${id}`));
  }
}
