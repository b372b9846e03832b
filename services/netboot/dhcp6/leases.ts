// Choosing DHCPv6 addresses from a pool, over the leases kept in the database (dhcp6_leases, read
// through db/dhcp-leases.ts like the v4 table). IPv6 pools are large, so a new client's address is
// not the first free one but one picked by a hash of its MAC, then the next free after it: the same
// machine gets the same address again even when its lease row is long gone, and allocation costs one
// read of the pool's held rows, not a walk over the range.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { leaseRows, leaseTransaction } from '../../../db/dhcp-leases.ts';
import { now } from '../../../db/index.ts';
import { big6ToText, bigOf6 } from '../net6.ts';

export interface Pool6 {
  name: string;
  range: { start: string; end: string };
}

/** Who holds a lease: the MAC boot records are keyed by, and the DUID (hex) and IAID it asked with. */
export interface Client6 {
  mac: string;
  duid: string;
  iaid: number;
}

/** What the DHCPv6 policy needs from lease storage. */
export interface Lease6Store {
  /** An address for `client` (its own, else `requested` when free, else its hashed pick), held until `until`. */
  offer(pool: Pool6, client: Client6, requested: string | undefined, until: number): Promise<string | undefined>;
  /** Binds `ip` to `client` until `until`; false when the address belongs to another client or was declined. */
  bind(pool: Pool6, client: Client6, ip: string, until: number): Promise<boolean>;
  release(client: Client6, ip: string): Promise<void>;
  decline(client: Client6, ip: string, until: number): Promise<void>;
}

const rows = leaseRows('dhcp6_leases');

function inPool(pool: Pool6, ip: string): boolean {
  const n = bigOf6(ip);
  return n >= bigOf6(pool.range.start) && n <= bigOf6(pool.range.end);
}

/** Where in the pool a client's search starts: a hash of its MAC, so it is the same on every server. */
function hashedOffset(mac: string, size: bigint): bigint {
  return BigInt(`0x${createHash('sha256').update(mac).digest('hex').slice(0, 32)}`) % size;
}

export function databaseLeases6(knex: Knex): Lease6Store {
  const extra = (c: Client6): Record<string, unknown> => ({ duid: c.duid, iaid: c.iaid });
  return {
    async offer(pool, client, requested, until) {
      const bound = await rows.boundAddressOf(knex, client.mac, pool.name);
      if (bound && inPool(pool, bound)) return bound;
      return leaseTransaction(knex, async (trx) => {
        const take = (ip: string): Promise<boolean> => rows.claimLease(trx, pool.name, client.mac, ip, 'offered', until, undefined, extra(client));
        const own = await rows.lastLeaseOf(trx, client.mac, pool.name);
        if (own && inPool(pool, own.ip) && (await take(own.ip))) return own.ip;
        if (requested && inPool(pool, requested) && (await take(requested))) return requested;
        const t = now();
        const held = new Set((await rows.leasesOfSubnet(trx, pool.name)).filter((r) => r.expires_at > t).map((r) => r.ip));
        const start = bigOf6(pool.range.start);
        const size = bigOf6(pool.range.end) - start + 1n;
        const offset = hashedOffset(client.mac, size);
        // At most held.size addresses are taken, so one more step than that finds a free one if any is.
        const steps = BigInt(held.size + 1) < size ? BigInt(held.size + 1) : size;
        for (let i = 0n; i < steps; i++) {
          const ip = big6ToText(start + ((offset + i) % size));
          if (!held.has(ip) && (await take(ip))) return ip;
        }
        return undefined;
      });
    },
    bind(pool, client, ip, until) {
      if (!inPool(pool, ip)) return Promise.resolve(false);
      return leaseTransaction(knex, async (trx) => {
        if (!(await rows.claimLease(trx, pool.name, client.mac, ip, 'bound', until, undefined, extra(client)))) return false;
        await rows.dropOtherLeases(trx, client.mac, pool.name, ip);
        return true;
      });
    },
    release: (client, ip) => rows.releaseLease(knex, client.mac, ip),
    decline: (client, ip, until) => rows.declineLease(knex, client.mac, ip, until),
  };
}

export const listLeases6 = (knex: Knex) => rows.listLeases(knex);
