// A bounded pool of concurrent node work, at most one job per node: many nodes progress at once
// and a slow BMC holds up only its own node.
export class WorkerPool {
  private readonly running = new Map<number, Promise<void>>();
  private waiters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get size(): number {
    return this.running.size;
  }

  free(): number {
    return Math.max(0, this.limit - this.running.size);
  }

  has(key: number): boolean {
    return this.running.has(key);
  }

  /** Starts `work` for `key` unless that key is already running or the pool is full. */
  tryRun(key: number, work: () => Promise<void>, onDone?: () => void): boolean {
    if (this.running.has(key) || this.running.size >= this.limit) return false;
    const job = work()
      .catch(() => undefined)
      .finally(() => {
        this.running.delete(key);
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
        onDone?.();
      });
    this.running.set(key, job);
    return true;
  }

  /** Resolves when a running job ends (at once if nothing runs). */
  slotFreed(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when every job running now has ended. */
  async drain(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }
}
