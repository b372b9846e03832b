// dhcp_leases and dhcp6_leases: the netboot role's DHCP and DHCPv6 leases, one row per leased
// address, so a restart (or another netboot process on the same database) loses none. An address
// belongs to a MAC while its row has not expired; an expired row still names its last client, who
// gets the address back first. Both tables have one shape and one set of reads (leaseRows).
import type { Knex } from 'knex';
import { now } from './index.ts';

export type LeaseState = 'offered' | 'bound' | 'declined';
export type LeaseTable = 'dhcp_leases' | 'dhcp6_leases';

export interface Lease {
  ip: string;
  subnet: string;
  mac: string;
  state: LeaseState;
  hostname: string | null;
  expires_at: number;
  /** dhcp6_leases only: hex of the client's DUID and the IAID of its IA_NA. */
  duid?: string | null;
  iaid?: number | string | null;
}

function rowToLease(row: Record<string, unknown>): Lease {
  return { ...(row as unknown as Lease), expires_at: Number(row.expires_at) };
}

/** Runs `work` in a transaction; two servers racing for one address make the loser's insert fail: it tries again. */
export async function leaseTransaction<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await knex.transaction(work);
    } catch (err) {
      if (attempt >= 3 || !/unique|duplicate/i.test((err as Error).message)) throw err;
    }
  }
}

/** The reads and writes of one lease table; `extra` columns (dhcp6_leases: duid, iaid) are written with a claim. */
export function leaseRows(table: LeaseTable) {
  /** Takes `ip` of `subnet` for `mac` until `until` if nobody else holds it; true on success. */
  async function claimLease(trx: Knex.Transaction, subnet: string, mac: string, ip: string, state: LeaseState, until: number, hostname?: string, extra: Record<string, unknown> = {}): Promise<boolean> {
    const t = now();
    const row = await trx(table).where({ ip }).first();
    if (row) {
      const held = Number(row.expires_at) > t;
      if (row.state === 'declined' && held) return false;
      if (row.mac !== mac && held) return false;
      // A bound lease is not downgraded to an offer by a late DISCOVER.
      const keep = row.mac === mac && row.state === 'bound' && held && state === 'offered';
      await trx(table).where({ ip }).update({
        subnet, mac, state: keep ? 'bound' : state, hostname: hostname ?? (row.mac === mac ? row.hostname : null),
        expires_at: keep ? Math.max(Number(row.expires_at), until) : until, updated_at: t, ...extra,
      });
      return true;
    }
    await trx(table).insert({ ip, subnet, mac, state, hostname: hostname ?? null, expires_at: until, created_at: t, updated_at: t, ...extra });
    return true;
  }

  /** The address `mac` holds bound in `subnet` now, if any. */
  async function boundAddressOf(knex: Knex, mac: string, subnet: string): Promise<string | undefined> {
    const row = await knex(table).where({ mac, subnet, state: 'bound' }).andWhere('expires_at', '>', now()).first('ip');
    return row?.ip;
  }

  /** The lease `mac` had last in `subnet` (expired or not), declined ones left out. */
  async function lastLeaseOf(trx: Knex.Transaction, mac: string, subnet: string): Promise<Lease | undefined> {
    const row = await trx(table).where({ mac, subnet }).whereNot({ state: 'declined' }).orderBy('expires_at', 'desc').first();
    return row ? rowToLease(row) : undefined;
  }

  /** Every address of `subnet` that has a row, with its expiry. */
  async function leasesOfSubnet(trx: Knex.Transaction, subnet: string): Promise<Array<{ ip: string; expires_at: number }>> {
    const rows: Array<{ ip: string; expires_at: number | string }> = await trx(table).where({ subnet }).select('ip', 'expires_at');
    return rows.map((r) => ({ ip: r.ip, expires_at: Number(r.expires_at) }));
  }

  /** One address per client and subnet: lets go of the other leases `mac` holds in `subnet`. */
  async function dropOtherLeases(trx: Knex.Transaction, mac: string, subnet: string, keep: string): Promise<void> {
    await trx(table).where({ mac, subnet }).whereNot({ ip: keep }).whereNot({ state: 'declined' }).del();
  }

  /** The client gave the address back: it is free, though the client gets it again first. */
  async function releaseLease(knex: Knex, mac: string, ip: string): Promise<void> {
    await knex(table).where({ ip, mac }).whereNot({ state: 'declined' }).update({ expires_at: now(), updated_at: now() });
  }

  /** The client found the address in use by someone else: nobody gets it until `until`. */
  async function declineLease(knex: Knex, mac: string, ip: string, until: number): Promise<void> {
    await knex(table).where({ ip, mac }).update({ state: 'declined', expires_at: until, updated_at: now() });
  }

  async function listLeases(knex: Knex): Promise<Lease[]> {
    return (await knex(table).orderBy('ip')).map(rowToLease);
  }

  return { claimLease, boundAddressOf, lastLeaseOf, leasesOfSubnet, dropOtherLeases, releaseLease, declineLease, listLeases };
}

export const { claimLease, boundAddressOf, lastLeaseOf, leasesOfSubnet, dropOtherLeases, releaseLease, declineLease, listLeases } = leaseRows('dhcp_leases');
