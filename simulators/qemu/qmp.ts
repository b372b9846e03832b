// A QEMU Machine Protocol client: JSON lines over QEMU's unix socket. Commands are answered in
// order; asynchronous events (SHUTDOWN, RESET, ...) are emitted as 'event'.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

export class QmpError extends Error {}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class QmpClient extends EventEmitter {
  private buffer = '';
  private readonly pending: Pending[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', () => this.fail(new QmpError('QMP connection failed')));
    socket.on('close', () => this.fail(new QmpError('QMP connection closed')));
  }

  /** Connects to QEMU's socket (retrying while QEMU is still creating it) and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        await client.greeting();
        await client.execute('qmp_capabilities');
        return client;
      } catch (err) {
        if (Date.now() > deadline) throw new QmpError(`cannot reach QMP at ${path}: ${(err as Error).message}`);
        await sleep(50);
      }
    }
  }

  private greetingWaiter: Pending | null = null;

  private greeting(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.greetingWaiter = { resolve, reject };
    });
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new QmpError(`QMP ${command}: connection closed`));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ('QMP' in msg) {
        this.greetingWaiter?.resolve(msg);
        this.greetingWaiter = null;
      } else if ('event' in msg) {
        this.emit('event', msg as unknown as QmpEvent);
      } else if ('return' in msg) {
        this.pending.shift()?.resolve(msg.return);
      } else if ('error' in msg) {
        const e = msg.error as { class?: string; desc?: string };
        this.pending.shift()?.reject(new QmpError(`${e.class ?? 'Error'}: ${e.desc ?? 'unknown QMP error'}`));
      }
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.greetingWaiter?.reject(err);
    for (const p of this.pending.splice(0)) p.reject(err);
    this.emit('close');
  }
}
