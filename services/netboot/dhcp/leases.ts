// Choosing DHCP addresses from a pool, over the leases kept in the database (db/dhcp-leases.ts).
// A client keeps getting the address it had before (its expired row is still its own until
// someone else needs the address).
import type { Knex } from 'knex';
import { boundAddressOf, claimLease, declineLease, dropOtherLeases, lastLeaseOf, leasesOfSubnet, leaseTransaction, releaseLease } from '../../../db/dhcp-leases.ts';
import { now } from '../../../db/index.ts';
import { intToIp, ipToInt } from '../net.ts';

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

export function databaseLeases(knex: Knex): LeaseStore {
  return {
    async offer(pool, mac, requested, until) {
      // The common case, a client that holds its address already, needs no write.
      const bound = await boundAddressOf(knex, mac, pool.name);
      if (bound && inPool(pool, bound)) return bound;
      return leaseTransaction(knex, async (trx) => {
        const take = (ip: string): Promise<boolean> => claimLease(trx, pool.name, mac, ip, 'offered', until);
        const own = await lastLeaseOf(trx, mac, pool.name);
        if (own && inPool(pool, own.ip) && (await take(own.ip))) return own.ip;
        if (requested && inPool(pool, requested) && (await take(requested))) return requested;
        const t = now();
        const rows = await leasesOfSubnet(trx, pool.name);
        const held = new Set(rows.filter((r) => r.expires_at > t).map((r) => r.ip));
        // Free addresses never leased come first, so a returning client more likely finds its old one.
        const known = new Set(rows.map((r) => r.ip));
        const end = ipToInt(pool.range.end);
        let stale: string | undefined;
        for (let n = ipToInt(pool.range.start); n <= end; n++) {
          const ip = intToIp(n);
          if (held.has(ip)) continue;
          if (!known.has(ip)) return (await take(ip)) ? ip : undefined;
          stale ??= ip;
        }
        if (stale && (await take(stale))) return stale;
        return undefined;
      });
    },
    bind(pool, mac, ip, until, hostname) {
      if (!inPool(pool, ip)) return Promise.resolve(false);
      return leaseTransaction(knex, async (trx) => {
        if (!(await claimLease(trx, pool.name, mac, ip, 'bound', until, hostname))) return false;
        await dropOtherLeases(trx, mac, pool.name, ip);
        return true;
      });
    },
    release: (mac, ip) => releaseLease(knex, mac, ip),
    decline: (mac, ip, until) => declineLease(knex, mac, ip, until),
  };
}
