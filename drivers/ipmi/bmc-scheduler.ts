// BMCs fall over under concurrent sessions and rapid-fire commands: every IPMI call to one BMC goes
// through here, which keeps at most `maxInFlight` calls running per BMC and leaves at least
// `minIntervalMs` between the end of one and the start of the next (Ironic's min_command_interval).
import { setTimeout as sleep } from 'node:timers/promises';

export interface ScheduleLimits {
  maxInFlight: number;
  minIntervalMs: number;
}

interface BmcSlot {
  running: number;
  lastEnd: number;
  waiting: (() => void)[];
}

export class BmcScheduler {
  private readonly slots = new Map<string, BmcSlot>();

  async run<T>(bmc: string, limits: ScheduleLimits, fn: () => Promise<T>): Promise<T> {
    let slot = this.slots.get(bmc);
    if (!slot) {
      slot = { running: 0, lastEnd: 0, waiting: [] };
      this.slots.set(bmc, slot);
    }
    while (slot.running >= Math.max(1, limits.maxInFlight)) await new Promise<void>((resolve) => slot!.waiting.push(resolve));
    slot.running++;
    try {
      const wait = slot.lastEnd + limits.minIntervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      return await fn();
    } finally {
      slot.running--;
      slot.lastEnd = Date.now();
      const next = slot.waiting.shift();
      if (next) next();
      else if (slot.running === 0 && limits.minIntervalMs <= 0) this.slots.delete(bmc);
    }
  }
}
