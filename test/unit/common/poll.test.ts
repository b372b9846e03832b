import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../../common/poll.ts';

describe('pollUntil', () => {
  it('returns the first value a check gives', async () => {
    let calls = 0;
    const got = await pollUntil(async () => (++calls === 4 ? `after ${calls}` : undefined), { timeoutSec: 30, intervalMs: 1, maxIntervalMs: 2 });
    expect(got).toBe('after 4');
  });

  it('throws what timedOut makes once the time is up, or returns undefined without it', async () => {
    let calls = 0;
    await expect(pollUntil(async () => { calls++; return undefined; }, { timeoutSec: 0.05, intervalMs: 5, timedOut: () => new Error('never came') })).rejects.toThrow('never came');
    expect(calls).toBeGreaterThan(1);
    expect(await pollUntil(async () => undefined, { timeoutSec: 0 })).toBeUndefined();
  });

  it('passes on what a check throws', async () => {
    await expect(pollUntil(async () => { throw new Error('job failed'); }, { timeoutSec: 30 })).rejects.toThrow('job failed');
  });

  it('stops at once when its signal is aborted, however long the pause', async () => {
    const controller = new AbortController();
    let calls = 0;
    const waiting = pollUntil(async () => {
      if (++calls === 1) setImmediate(() => controller.abort(new Error('conductor stopping')));
      return undefined;
    }, { timeoutSec: 3600, intervalMs: 600_000, signal: controller.signal });
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(1);
  });
});
