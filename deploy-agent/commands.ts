// The agent's commands, as ironic-python-agent's extensions have them: `<extension>.<command>`,
// each synchronous (the result is in the reply) or asynchronous (RUNNING at once, polled later).
import type { Logger } from '../common/logger.ts';
import type { Hardware } from './hardware.ts';
import type { ImageStore } from './image-store.ts';
import { rootDeviceHints } from './root-device.ts';
import type { StepCatalog } from './steps.ts';
import type { Dispatcher } from 'undici';

type Json = Record<string, unknown>;

/** What commands work with: the machine, where images go, what lookup told about the node. */
export interface AgentRuntime {
  readonly hardware: Hardware;
  readonly images: ImageStore;
  /** For https image downloads when anvil.api_ca is given: trusts that CA as well as Node's (set as the agent starts). */
  downloadDispatcher?: Dispatcher;
  readonly logger: Logger;
  readonly version: string;
  /** The node as the lookup returned it (uuid, properties, instance_info, driver_internal_info). */
  node: Json | null;
  /** Runs another command of any extension, as IPA's `self.execute(...)` does (write_image → prepare_image). */
  run(name: string, params: Json): Promise<unknown>;
  /** Recent log lines, for log.collect_system_logs. */
  recentLogs(): string[];
  /** The steps offered: the agent's own and its plugins', once the plugins are loaded. */
  steps: Promise<StepCatalog>;
  /** Rescue is finalized: the agent answers this command, then stops (no more heart-beats, no command API). */
  endForRescue(): void;
}

export interface CommandSpec {
  async: boolean;
  run(params: Json, rt: AgentRuntime): Promise<unknown>;
}

export type Extension = Readonly<Record<string, CommandSpec>>;

/** An error with IPA's serialised shape (`type`, `code`, `message`, `details`). */
export class AgentCommandError extends Error {
  constructor(message: string, readonly type = 'CommandExecutionError', readonly code = 500, readonly details = message) {
    super(message);
  }
}

export function commandError(err: unknown): { type: string; code: number; message: string; details: string } {
  if (err instanceof AgentCommandError) return { type: err.type, code: err.code, message: err.message, details: err.details };
  const e = err as Error & { code?: unknown };
  const message = e?.message ?? String(err);
  return { type: typeof e?.code === 'string' ? e.code : (e?.name ?? 'CommandExecutionError'), code: 500, message, details: message };
}

/** The root disk for the node the agent serves (root device hints from the node, if any). */
export function rootDiskOf(rt: AgentRuntime) {
  return rt.hardware.rootDisk(rootDeviceHints(rt.node));
}

/** Steps carry the node as the conductor sees it now: newer than the lookup's copy. */
export function updateNode(rt: AgentRuntime, params: Json): void {
  const node = params.node as Json | undefined;
  if (node && typeof node === 'object' && typeof node.uuid === 'string') rt.node = { ...(rt.node ?? {}), ...node };
}

/** Fails the command when the hardware was told to (simulated agents' failure injection). */
export function checkInjected(rt: AgentRuntime, step: string): void {
  const message = rt.hardware.injectedFailure?.(step);
  if (message) throw new AgentCommandError(message, 'InjectedFailure');
}
