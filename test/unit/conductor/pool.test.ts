import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../services/conductor/pool.ts';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { open, opened };
}

describe('WorkerPool', () => {
  it('runs at most `limit` jobs and one job per key', async () => {
    const pool = new WorkerPool(2);
    const g = gate();
    let running = 0;
    let peak = 0;
    const job = async () => {
      running++;
      peak = Math.max(peak, running);
      await g.opened;
      running--;
    };
    expect(pool.tryRun(1, job)).toBe(true);
    expect(pool.tryRun(1, job)).toBe(false);
    expect(pool.tryRun(2, job)).toBe(true);
    expect(pool.tryRun(3, job)).toBe(false);
    expect(pool.free()).toBe(0);
    expect(pool.has(2)).toBe(true);
    const freed = pool.slotFreed();
    g.open();
    await freed;
    await pool.drain();
    expect(peak).toBe(2);
    expect(pool.size).toBe(0);
    expect(pool.tryRun(3, job)).toBe(true);
    await pool.drain();
  });

  it('frees the slot of a job that throws and calls onDone', async () => {
    const pool = new WorkerPool(1);
    let done = 0;
    pool.tryRun(7, async () => { throw new Error('boom'); }, () => { done++; });
    await pool.drain();
    expect(done).toBe(1);
    expect(pool.free()).toBe(1);
  });
});
