// Repeated failed authentication from one client gets 429 with a growing wait: after `failures`
// wrong credentials in a row, each further one doubles the time the client must wait (from
// baseSeconds up to maxSeconds). A success clears the client's record; records are bounded.
import type { AuthConfig } from '../../../common/config.ts';

interface Record { failures: number; blockedUntil: number; last: number }

const FORGET_AFTER_MS = 15 * 60_000;

export class AuthBackoff {
  private readonly clients = new Map<string, Record>();

  constructor(private readonly config: AuthConfig['backoff'], private readonly now: () => number = Date.now, private readonly maxClients = 100_000) {}

  /** Seconds the client must still wait (0: it may try). */
  waitSeconds(client: string): number {
    const r = this.clients.get(client);
    if (!r) return 0;
    const t = this.now();
    if (t - r.last > FORGET_AFTER_MS) {
      this.clients.delete(client);
      return 0;
    }
    return r.blockedUntil > t ? Math.ceil((r.blockedUntil - t) / 1000) : 0;
  }

  failed(client: string): void {
    const t = this.now();
    let r = this.clients.get(client);
    if (!r || t - r.last > FORGET_AFTER_MS) {
      if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value as string);
      r = { failures: 0, blockedUntil: 0, last: t };
      this.clients.set(client, r);
    }
    r.failures++;
    r.last = t;
    const over = r.failures - this.config.failures;
    if (over >= 0) r.blockedUntil = t + Math.min(this.config.maxSeconds, this.config.baseSeconds * 2 ** over) * 1000;
  }

  succeeded(client: string): void {
    this.clients.delete(client);
  }
}
