// DHCP leases in the database (table dhcp_leases): an address belongs to a MAC while its row has
// not expired. A client keeps getting the address it had before (its expired row is still its own
// until someone else needs the address).
import type { Knex } from 'knex';
import { now } from '../../../db/index.ts';
import { intToIp, ipToInt } from '../net.ts';

export type LeaseState = 'offered' | 'bound' | 'declined';

export interface Lease {
  ip: string;
  subnet: string;
  mac: string;
  state: LeaseState;
  hostname: string | null;
  expires_at: number;
}

export interface LeasePool {
  name: string;
  range: { start: string; end: string };
}

/** What the DHCP policy needs from lease storage. */
export interface LeaseStore {
  /** An address to offer `mac` (its own, else `requested` when free, else the first free one), held until `until`. */
  offer(pool: LeasePool, mac: string, requested: string | undefined, until: number): Promise<string | undefined>;
  /** Binds `ip` to `mac` until `until`; false when the address belongs to another client or was declined. */
  bind(pool: LeasePool, mac: string, ip: string, until: number, hostname?: string): Promise<boolean>;
  /** The client gave the address back: it is free, though the client gets it again first. */
  release(mac: string, ip: string): Promise<void>;
  /** The client found the address in use by someone else: nobody gets it until `until`. */
  decline(mac: string, ip: string, until: number): Promise<void>;
}

function inPool(pool: LeasePool, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= ipToInt(pool.range.start) && n <= ipToInt(pool.range.end);
}

function rowToLease(row: Record<string, unknown>): Lease {
  return { ...(row as unknown as Lease), expires_at: Number(row.expires_at) };
}

export function databaseLeases(knex: Knex): LeaseStore {
  /** Takes `ip` for `mac` if nobody else holds it; true on success. */
  async function claim(trx: Knex.Transaction, pool: LeasePool, mac: string, ip: string, state: LeaseState, until: number, hostname?: string): Promise<boolean> {
    const t = now();
    const row = await trx('dhcp_leases').where({ ip }).first();
    if (row) {
      const held = Number(row.expires_at) > t;
      if (row.state === 'declined' && held) return false;
      if (row.mac !== mac && held) return false;
      // A bound lease is not downgraded to an offer by a late DISCOVER.
      const keep = row.mac === mac && row.state === 'bound' && held && state === 'offered';
      await trx('dhcp_leases').where({ ip }).update({
        subnet: pool.name, mac, state: keep ? 'bound' : state, hostname: hostname ?? (row.mac === mac ? row.hostname : null),
        expires_at: keep ? Math.max(Number(row.expires_at), until) : until, updated_at: t,
      });
      return true;
    }
    await trx('dhcp_leases').insert({ ip, subnet: pool.name, mac, state, hostname: hostname ?? null, expires_at: until, created_at: t, updated_at: t });
    return true;
  }

  async function transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    // Two servers racing for one address: the loser's insert violates the primary key; try again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await knex.transaction(work);
      } catch (err) {
        if (attempt >= 3 || !/unique|duplicate/i.test((err as Error).message)) throw err;
      }
    }
  }

  return {
    async offer(pool, mac, requested, until) {
      // The common case, a client that holds its address already, needs no write.
      const bound = await knex('dhcp_leases').where({ mac, subnet: pool.name, state: 'bound' }).andWhere('expires_at', '>', now()).first('ip');
      if (bound && inPool(pool, bound.ip)) return bound.ip as string;
      return transaction(async (trx) => {
        const own = await trx('dhcp_leases').where({ mac, subnet: pool.name }).whereNot({ state: 'declined' }).orderBy('expires_at', 'desc').first();
        if (own && inPool(pool, own.ip) && (await claim(trx, pool, mac, own.ip, 'offered', until))) return own.ip as string;
        if (requested && inPool(pool, requested) && (await claim(trx, pool, mac, requested, 'offered', until))) return requested;
        const t = now();
        const rows: Array<{ ip: string; expires_at: number | string }> = await trx('dhcp_leases').where({ subnet: pool.name }).select('ip', 'expires_at');
        const held = new Set(rows.filter((r) => Number(r.expires_at) > t).map((r) => r.ip));
        // Free addresses never leased come first, so a returning client more likely finds its old one.
        const known = new Set(rows.map((r) => r.ip));
        const end = ipToInt(pool.range.end);
        let stale: string | undefined;
        for (let n = ipToInt(pool.range.start); n <= end; n++) {
          const ip = intToIp(n);
          if (held.has(ip)) continue;
          if (!known.has(ip)) return (await claim(trx, pool, mac, ip, 'offered', until)) ? ip : undefined;
          stale ??= ip;
        }
        if (stale && (await claim(trx, pool, mac, stale, 'offered', until))) return stale;
        return undefined;
      });
    },
    bind(pool, mac, ip, until, hostname) {
      if (!inPool(pool, ip)) return Promise.resolve(false);
      return transaction(async (trx) => {
        if (!(await claim(trx, pool, mac, ip, 'bound', until, hostname))) return false;
        // One address per client and subnet: an older lease of the same MAC is let go.
        await trx('dhcp_leases').where({ mac, subnet: pool.name }).whereNot({ ip }).whereNot({ state: 'declined' }).del();
        return true;
      });
    },
    async release(mac, ip) {
      await knex('dhcp_leases').where({ ip, mac }).whereNot({ state: 'declined' }).update({ expires_at: now(), updated_at: now() });
    },
    async decline(mac, ip, until) {
      await knex('dhcp_leases').where({ ip, mac }).update({ state: 'declined', expires_at: until, updated_at: now() });
    },
  };
}

export async function listLeases(knex: Knex): Promise<Lease[]> {
  return (await knex('dhcp_leases').orderBy('ip')).map(rowToLease);
}
