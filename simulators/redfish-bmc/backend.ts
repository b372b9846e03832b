// A backend serves the resources of one endpoint (generated systems, or a mockup tree); the server
// in front of it does auth, sessions, faults, tasks and the service root.
import type { Json, SimRequest, SimResponse } from './http.ts';
import type { FaultTable, TaskStore } from './support.ts';

export interface BackendContext {
  tasks: TaskStore;
  faults: FaultTable;
}

export interface Backend {
  /** The service root document (without SessionService/TaskService, which the server adds when missing). */
  root(): Json;
  /** The system a request path belongs to, for faults (null: service-level resources). */
  systemOf(key: string): string | null;
  /** null: no such resource. */
  handle(req: SimRequest, ctx: BackendContext): Promise<SimResponse | null>;
  systemIds(): string[];
  /** Whether its systems' BIOS attributes are those of bios-registry.ts (the server then serves the Registries collection). */
  readonly servesRegistries: boolean;
  close(): void;
}
