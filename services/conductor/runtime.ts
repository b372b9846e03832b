// What every part of a conductor shares: the database, its identity, its view of the ring and the
// signal that tells running work the conductor is going away.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AnvilConfig } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/index.ts';

export interface Runtime {
  readonly db: Database;
  readonly config: AnvilConfig;
  readonly logger: Logger;
  /** This conductor's hostname: the value it writes in `reservation`. */
  readonly host: string;
  readonly group: string;
  /** Whether this conductor owns the node on the current hash ring of its group. */
  owns(node: { uuid: string; conductor_group: string }): boolean;
  /** Aborted when the conductor stops and its grace period is over. */
  readonly stopSignal: AbortSignal;
  /** True once the conductor is stopping: running work finishes its current step and takes no next one. */
  readonly stopping: boolean;
}

/** Thrown into work that the conductor's stop interrupted: the node is handed back, not failed. */
export class ConductorStopping extends Error {
  constructor(host: string) {
    super(`conductor ${host} is stopping`);
    this.name = 'ConductorStopping';
  }
}

/** Settles as `work` does, or rejects with the signal's reason as soon as it aborts (a driver that ignores the signal can't hold a node). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/**
 * What `work` says once its signal aborted it: a driver that honours the signal ends at once with
 * what it was waiting for ("no answer from the BMC at ... after 30 s"), which the deadline alone
 * cannot know. Undefined when the work says nothing of its own within `graceMs`.
 */
export async function reasonAfterAbort(work: Promise<unknown>, graceMs = 1000): Promise<string | undefined> {
  const settled = await Promise.race([work.then(() => undefined, (err: unknown) => err), sleep(graceMs, undefined, { ref: false })]);
  if (!(settled instanceof Error) || settled.name === 'AbortError' || settled.name === 'TimeoutError' || settled instanceof ConductorStopping) return undefined;
  return settled.message;
}
