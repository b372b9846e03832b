// Waiting for what a peer does in its own time (a BMC's power change, an iDRAC job, iLO's POST, the
// agent powering its machine off): one helper, so every wait has the deadline its caller was given,
// stops as soon as the caller's AbortSignal fires, and backs off the same way.
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Seconds the wait may take. */
  timeoutSec: number;
  /** Ends the wait at once (the conductor stops, the step times out, the operation is aborted). */
  signal?: AbortSignal;
  /** Milliseconds before the second check (default 50), doubled after each one up to maxIntervalMs (default 1000). */
  intervalMs?: number;
  maxIntervalMs?: number;
}

/**
 * Calls `check` until it returns something other than undefined, and returns that. When the time
 * is up, throws what `timedOut` makes, or (without it) returns undefined. No pause runs past the
 * deadline; an aborted signal rejects the pending pause with an AbortError.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, opts: PollOptions & { timedOut: () => Error }): Promise<T>;
export async function pollUntil<T>(check: () => Promise<T | undefined>, opts: PollOptions): Promise<T | undefined>;
export async function pollUntil<T>(check: () => Promise<T | undefined>, opts: PollOptions & { timedOut?: () => Error }): Promise<T | undefined> {
  const deadline = Date.now() + opts.timeoutSec * 1000;
  const max = opts.maxIntervalMs ?? 1000;
  let pause = Math.min(opts.intervalMs ?? 50, max);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) {
      if (opts.timedOut) throw opts.timedOut();
      return undefined;
    }
    await sleep(Math.min(pause, left), undefined, opts.signal ? { signal: opts.signal } : undefined);
    pause = Math.min(pause * 2, max);
  }
}
