// What the web console reads that the Ironic API has no call for: one page of the fleet with its
// total (a virtualised table needs to know how tall it is), the change stream
// (migrations 008 and 019), and the provision-state transitions the fleet picture is drawn from.
import type { Knex } from 'knex';
import { toBool } from './index.ts';

/** The columns of a fleet row: what the fleet view shows and filters on. */
export const FLEET_COLUMNS = [
  'uuid', 'name', 'provision_state', 'target_provision_state', 'power_state', 'target_power_state', 'maintenance',
  'maintenance_reason', 'fault', 'last_error', 'owner', 'lessee', 'resource_class', 'driver', 'provision_updated_at', 'updated_at',
] as const;

export interface FleetRow {
  uuid: string;
  name: string | null;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
  target_power_state: string | null;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  last_error: string | null;
  owner: string | null;
  lessee: string | null;
  resource_class: string | null;
  driver: string;
  provision_updated_at: number | null;
  updated_at: number | null;
}

export interface FleetFilter {
  /** A piece of the name or uuid, case-insensitive. */
  search?: string;
  provision_state?: string[];
  owner?: string;
  maintenance?: boolean;
  /** Only nodes with a last_error or a fault. */
  problems?: boolean;
  /** A project-scoped caller's share: nodes it owns or leases. */
  project?: string;
}

export const FLEET_SORT_KEYS = ['name', 'provision_state', 'power_state', 'owner', 'updated_at'] as const;
export type FleetSortKey = (typeof FLEET_SORT_KEYS)[number];

function toRow(r: Record<string, unknown>): FleetRow {
  return { ...(r as unknown as FleetRow), maintenance: toBool(r.maintenance) };
}

function project(q: Knex.QueryBuilder, p: string | undefined): Knex.QueryBuilder {
  if (p !== undefined) q.where((w) => w.where('owner', p).orWhere('lessee', p));
  return q;
}

function applyFleetFilter(q: Knex.QueryBuilder, f: FleetFilter): Knex.QueryBuilder {
  if (f.search) {
    const like = `%${f.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q.where((w) => w.whereRaw("lower(coalesce(name, '')) like ? escape '\\'", [like]).orWhereRaw("lower(uuid) like ? escape '\\'", [like]));
  }
  if (f.provision_state?.length) q.whereIn('provision_state', f.provision_state);
  if (f.owner !== undefined) q.where('owner', f.owner);
  if (f.maintenance !== undefined) q.where('maintenance', f.maintenance);
  if (f.problems) q.where((w) => w.whereNotNull('last_error').orWhereNotNull('fault'));
  return project(q, f.project);
}

/** Rows offset..offset+limit of the filtered fleet in `sort` order, and how many match in all. */
export async function fleetPage(knex: Knex, f: FleetFilter, sort: FleetSortKey, desc: boolean, offset: number, limit: number): Promise<{ total: number; nodes: FleetRow[] }> {
  const [{ n }] = await applyFleetFilter(knex('nodes'), f).count({ n: '*' });
  const dir = desc ? 'desc' : 'asc';
  const rows = await applyFleetFilter(knex('nodes').select(FLEET_COLUMNS), f)
    .orderByRaw(`(?? is null) ${desc ? 'asc' : 'desc'}`, [sort]).orderBy(sort, dir).orderBy('id', dir)
    .offset(offset).limit(limit);
  return { total: Number(n), nodes: rows.map(toRow) };
}

/** The fleet rows of these nodes (those that still exist). */
export async function fleetRows(knex: Knex, uuids: readonly string[]): Promise<FleetRow[]> {
  const out: FleetRow[] = [];
  // SQLite binds at most 32766 parameters; stay far below.
  for (let i = 0; i < uuids.length; i += 500) out.push(...(await knex('nodes').select(FLEET_COLUMNS).whereIn('uuid', uuids.slice(i, i + 500))).map(toRow));
  return out;
}

/**
 * Where a reader of the change stream is: on SQLite (one writer at a time) the last seq read; on
 * PostgreSQL seqs are handed out before commit, so a later seq can commit first: the position is
 * (transaction id, seq), and a read takes only the changes of transactions older than its
 * snapshot's horizon (all of them ended: committed and visible, or rolled back).
 */
export interface ChangeCursor {
  xid: number;
  seq: number;
}

/** Every transaction of this database older than it had ended when the statement's snapshot was taken (migration 019). */
const PG_HORIZON = 'anvil_change_horizon()::text::bigint';

/** The position after every change written so far. */
export async function changeCursorNow(knex: Knex): Promise<ChangeCursor> {
  if (knex.client.config.client === 'pg') {
    const { rows } = await knex.raw(`select ${PG_HORIZON} as xid`);
    return { xid: Number(rows[0].xid), seq: 0 };
  }
  const row = await knex('node_changes').max({ seq: 'seq' }).first();
  return { xid: 0, seq: Number(row?.seq ?? 0) };
}

/** The nodes changed after `cursor`, and the cursor to read from next. */
export async function changesAfter(knex: Knex, cursor: ChangeCursor, limit = 20_000): Promise<{ cursor: ChangeCursor; uuids: string[] }> {
  if (knex.client.config.client === 'pg') {
    // One statement: the horizon and the rows come from the same snapshot.
    const { rows } = await knex.raw(
      `select h.horizon, c.seq, c.node_uuid, c.xid::text::bigint as xid
         from (select ${PG_HORIZON} as horizon) h
         left join lateral (select seq, node_uuid, xid from node_changes
                             where (xid, seq) > (?::text::xid8, ?) and xid < h.horizon::text::xid8
                             order by xid, seq limit ?) c on true`,
      [String(cursor.xid), cursor.seq, limit],
    ) as { rows: { horizon: number; seq: number | null; node_uuid: string | null; xid: number | null }[] };
    const changes = rows.filter((r) => r.seq !== null);
    const last = changes[changes.length - 1];
    // A full page stops mid-way: go on after its last row; otherwise every older transaction was read.
    const next = changes.length === limit ? { xid: last.xid!, seq: last.seq! } : { xid: Number(rows[0].horizon), seq: 0 };
    return { cursor: next, uuids: [...new Set(changes.map((r) => r.node_uuid!))] };
  }
  const rows: { seq: number; node_uuid: string }[] = await knex('node_changes').select('seq', 'node_uuid').where('seq', '>', cursor.seq).orderBy('seq').limit(limit);
  return { cursor: { xid: 0, seq: rows.length ? rows[rows.length - 1].seq : cursor.seq }, uuids: [...new Set(rows.map((r) => r.node_uuid))] };
}

/**
 * Forgets at most `limit` of the oldest changes written before `before` (ms), which every reader
 * has long read; returns how many. Bounded, so that one statement never holds a long backlog's locks.
 */
export async function pruneChanges(knex: Knex, before: number, limit: number): Promise<number> {
  return knex('node_changes').whereIn('seq', knex('node_changes').select('seq').where('at', '<', before).orderBy('seq').limit(limit)).delete();
}

/** Forgets at most `limit` of the oldest provision-state transitions recorded before `before` (ms); returns how many. */
export async function pruneTransitions(knex: Knex, before: number, limit: number): Promise<number> {
  return knex('node_transitions').whereIn('id', knex('node_transitions').select('id').where('at', '<', before).orderBy('id').limit(limit)).delete();
}

export async function stateCounts(knex: Knex, p?: string): Promise<Record<string, number>> {
  const rows: { provision_state: string; n: number | string }[] = await project(knex('nodes').select('provision_state').count({ n: '*' }).groupBy('provision_state'), p);
  return Object.fromEntries(rows.map((r) => [r.provision_state, Number(r.n)]));
}

export interface Transition {
  node_uuid: string;
  from_state: string | null;
  to_state: string;
  last_error: string | null;
  at: number;
}

/** Provision-state transitions since `since` (ms), oldest first, of the project's nodes if one is given. */
export async function transitionsSince(knex: Knex, since: number, p?: string): Promise<Transition[]> {
  const q = knex('node_transitions').select('node_uuid', 'from_state', 'to_state', 'last_error', 'at').where('at', '>=', since).orderBy('id');
  if (p !== undefined) q.whereIn('node_uuid', project(knex('nodes').select('uuid'), p));
  return (await q).map((r: Transition) => ({ ...r, at: Number(r.at) }));
}
