// Data access for the nodes table. Field names are Ironic's; JSON columns and booleans are
// decoded here so nothing above this module sees storage details.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { BoundedMemo } from '../common/bounded-memo.ts';
import { directConnection, fromJson, selectDecoded, whereContains, whereInMany, now, toBool, toJson, toNullableBool } from './index.ts';
import { firstRow, insertRow, updateRows } from './direct.ts';
import { applyPage, type PageQuery } from './paging.ts';
import type { PowerRequest, ProvisionRequest } from './requests.ts';

export const INTERFACE_NAMES = ['bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage', 'vendor'] as const;
export type InterfaceName = (typeof INTERFACE_NAMES)[number];

type Json = Record<string, unknown>;

export interface NodeRecord {
  id: number;
  uuid: string;
  name: string | null;
  driver: string;
  driver_info: Json;
  /** Conductor and driver progress; every key is declared in drivers/internal-info.ts. */
  driver_internal_info: Json;
  instance_info: Json;
  instance_uuid: string | null;
  instance_name: string | null;
  /** The BMC's health of the system (Redfish Status.Health: OK, Warning, Critical), set by the power sync (1.109). */
  health: string | null;
  properties: Json;
  extra: Json;
  resource_class: string | null;
  conductor_group: string;
  reservation: string | null;
  provision_state: string;
  target_provision_state: string | null;
  provision_updated_at: number | null;
  power_state: string | null;
  target_power_state: string | null;
  last_error: string | null;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  console_enabled: boolean;
  automated_clean: boolean | null;
  protected: boolean;
  protected_reason: string | null;
  owner: string | null;
  lessee: string | null;
  description: string | null;
  chassis_id: number | null;
  bios_interface: string | null;
  boot_interface: string | null;
  console_interface: string | null;
  deploy_interface: string | null;
  firmware_interface: string | null;
  inspect_interface: string | null;
  management_interface: string | null;
  network_interface: string | null;
  power_interface: string | null;
  raid_interface: string | null;
  rescue_interface: string | null;
  storage_interface: string | null;
  vendor_interface: string | null;
  boot_mode: string | null;
  secure_boot: boolean | null;
  retired: boolean;
  retired_reason: string | null;
  network_data: Json;
  shard: string | null;
  parent_node: string | null;
  disable_power_off: boolean;
  clean_step: Json | null;
  deploy_step: Json | null;
  service_step: Json | null;
  raid_config: Json;
  target_raid_config: Json;
  inspection_started_at: number | null;
  inspection_finished_at: number | null;
  allocation_id: number | null;
  created_at: number;
  updated_at: number | null;
  /** Arguments of the provision operation in progress (db/requests.ts). */
  provision_request: ProvisionRequest | null;
  /** A power change the API recorded and no conductor has made yet. */
  power_request: PowerRequest | null;
}

const JSON_FIELDS = ['driver_info', 'driver_internal_info', 'instance_info', 'properties', 'extra', 'network_data', 'raid_config', 'target_raid_config'] as const;
const NULLABLE_JSON_FIELDS = ['clean_step', 'deploy_step', 'service_step', 'provision_request', 'power_request'] as const;
/** Columns stored as JSON text (they can't be sorted on). */
export const NODE_JSON_COLUMNS: readonly string[] = [...JSON_FIELDS, ...NULLABLE_JSON_FIELDS];
const BOOL_FIELDS = ['maintenance', 'console_enabled', 'protected', 'retired', 'disable_power_off'] as const;
const NULLABLE_BOOL_FIELDS = ['automated_clean', 'secure_boot'] as const;

type Decoder = (row: unknown[]) => NodeRecord;

/** How each decoded column is read from storage; the other columns are as stored. */
const COLUMN_DECODERS: Record<string, (value: unknown) => unknown> = {
  ...Object.fromEntries(JSON_FIELDS.map((f) => [f, (v: unknown) => fromJson(v as string, {})])),
  ...Object.fromEntries(NULLABLE_JSON_FIELDS.map((f) => [f, (v: unknown) => fromJson(v as string, null)])),
  ...Object.fromEntries(BOOL_FIELDS.map((f) => [f, toBool])),
  ...Object.fromEntries(NULLABLE_BOOL_FIELDS.map((f) => [f, toNullableBool])),
};

/**
 * The decoder of rows with these columns, made once per column list: an object literal with
 * every field in place builds the node in one go, where adding 65 keys one by one cost several
 * times more (and a spread copy of a partial row hit a slow path of ~50 µs a row). The decoded
 * fields are always set (a column not selected reads as its empty value), as they always were.
 */
function compileDecoder(columns: readonly string[]): Decoder {
  const at = new Map(columns.map((c, i) => [c, i]));
  const decoders: ((value: unknown) => unknown)[] = [];
  const fields: string[] = [];
  for (const [f, decode] of Object.entries(COLUMN_DECODERS)) {
    decoders.push(decode);
    fields.push(`${JSON.stringify(f)}: d[${decoders.length - 1}](${at.has(f) ? `r[${at.get(f)}]` : 'undefined'})`);
  }
  for (const [c, i] of at) if (!(c in COLUMN_DECODERS)) fields.push(`${JSON.stringify(c)}: r[${i}]`);
  // Column names come from the schema, quoted by JSON.stringify; no request data reaches this text.
  return new Function('d', `return (r) => ({ ${fields.join(', ')} });`)(decoders) as Decoder;
}

/** Decoders by column list (`fields=` makes many lists). */
const decoders = new BoundedMemo<Decoder>(64);

export function nodeDecoder(columns: readonly string[]): Decoder {
  return decoders.get(columns.join(','), () => compileDecoder(columns));
}

export function rowToNode(row: Record<string, unknown>): NodeRecord {
  return nodeDecoder(Object.keys(row))(Object.values(row));
}

/** Encodes a partial node for an insert or update. */
export function nodeToRow(fields: Partial<NodeRecord>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fields };
  for (const f of JSON_FIELDS) if (f in fields) row[f] = toJson(fields[f]);
  for (const f of NULLABLE_JSON_FIELDS) if (f in fields) row[f] = fields[f] === null ? null : toJson(fields[f]);
  return row;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

export type NewNode = Partial<NodeRecord> & { driver: string; provision_state: string };

export async function createNode(knex: Knex, fields: NewNode): Promise<NodeRecord> {
  const ts = now();
  const row = nodeToRow({ uuid: randomUUID(), conductor_group: '', ...fields, created_at: ts, updated_at: null, provision_updated_at: fields.provision_updated_at ?? ts });
  const conn = directConnection(knex);
  if (conn) return insertRow(conn, 'nodes', row, nodeDecoder);
  const [inserted] = await knex('nodes').insert(row).returning('*');
  return rowToNode(inserted);
}

/** The node matching `where` (a unique column). */
async function nodeWhere(knex: Knex, where: Record<string, unknown>): Promise<NodeRecord | undefined> {
  const conn = directConnection(knex);
  if (conn) return firstRow(conn, 'nodes', where, nodeDecoder);
  const row = await knex('nodes').where(where).first();
  return row ? rowToNode(row) : undefined;
}

export async function getNodeById(knex: Knex, id: number): Promise<NodeRecord | undefined> {
  return nodeWhere(knex, { id });
}

/** Finds a node by UUID or by name (Ironic's `{node_ident}`). */
export async function findNode(knex: Knex, ident: string): Promise<NodeRecord | undefined> {
  return nodeWhere(knex, isUuid(ident) ? { uuid: ident.toLowerCase() } : { name: ident });
}

/** Who a node belongs to and who leases it (the policy's node.owner / node.lessee), by id. */
export interface NodeTenancy { uuid: string; name: string | null; owner: string | null; lessee: string | null }

export async function tenancyOfNode(knex: Knex, id: number): Promise<NodeTenancy | undefined> {
  return knex('nodes').first('uuid', 'name', 'owner', 'lessee').where({ id });
}

/** The same for the nodes with any of these uuids or names. */
export async function tenancyOfNodes(knex: Knex, uuidsOrNames: readonly string[]): Promise<NodeTenancy[]> {
  if (uuidsOrNames.length === 0) return [];
  return knex('nodes').select('uuid', 'name', 'owner', 'lessee').whereIn('uuid', uuidsOrNames).orWhereIn('name', uuidsOrNames);
}

/** The id of the node named `name`, if any (names are unique). */
export async function nodeIdByName(knex: Knex, name: string): Promise<number | undefined> {
  const row = await knex('nodes').select('id').where({ name }).first();
  return row?.id;
}

/**
 * Changes driver_internal_info of an unlocked node by compare-and-set on its current value (the
 * API's writes beside a conductor that may take the lock at any time). False when the node is
 * locked or changed meanwhile.
 */
export async function changeUnlockedInternalInfo(knex: Knex, id: number, change: (info: Json) => Json): Promise<boolean> {
  const current = await knex('nodes').where({ id }).first('driver_internal_info');
  if (!current) return false;
  const next = change(fromJson(current.driver_internal_info, {}));
  const changed = await knex('nodes').where({ id, driver_internal_info: current.driver_internal_info }).whereNull('reservation').update({ driver_internal_info: toJson(next) });
  return changed === 1;
}

/** Updates fields of a node and bumps updated_at; returns the new row, or undefined if `where` did not match. */
export async function updateNode(knex: Knex, id: number, fields: Partial<NodeRecord>, where: Record<string, unknown> = {}): Promise<NodeRecord | undefined> {
  return updateOne(knex, id, nodeToRow({ ...fields, updated_at: now() }), where);
}

/** Writes `row` into node `id` if `where` matches it; the updated node, or undefined. */
async function updateOne(knex: Knex, id: number, row: Record<string, unknown>, where: Record<string, unknown>): Promise<NodeRecord | undefined> {
  const conn = directConnection(knex);
  if (conn) return updateRows(conn, 'nodes', row, { id, ...where }, nodeDecoder)[0];
  const [updated] = await knex('nodes').where({ id, ...where }).update(row).returning('*');
  return updated ? rowToNode(updated) : undefined;
}

/**
 * Takes the node lock by compare-and-set on `reservation`: succeeds only if no one holds it.
 * Returns the locked node, or undefined if another host has it.
 */
export async function reserveNode(knex: Knex, id: number, host: string): Promise<NodeRecord | undefined> {
  return updateOne(knex, id, { reservation: host, updated_at: now() }, { reservation: null });
}

/** Releases the node lock if `host` holds it. */
export async function releaseNode(knex: Knex, id: number, host: string): Promise<boolean> {
  const n = await knex('nodes').where({ id, reservation: host }).update({ reservation: null });
  return n > 0;
}

/** Clears every lock held by `host` (a dead conductor's, or our own at start-up). */
export async function releaseAllReservations(knex: Knex, host: string): Promise<number> {
  return knex('nodes').where({ reservation: host }).update({ reservation: null });
}

/** The few columns a conductor needs to decide whether a node is its to work. */
export interface NodeSummary {
  id: number;
  uuid: string;
  conductor_group: string;
  provision_state: string;
  target_provision_state: string | null;
  provision_updated_at: number | null;
  inspection_started_at: number | null;
  reservation: string | null;
}

const SUMMARY_COLUMNS = ['id', 'uuid', 'conductor_group', 'provision_state', 'target_provision_state', 'provision_updated_at', 'inspection_started_at', 'reservation'];

/**
 * Unlocked nodes of a conductor group that have conductor work: a working provision state (in
 * maintenance too: the conductor finishes or aborts it) or a requested power change.
 */
export async function nodesNeedingWork(knex: Knex, group: string, workingStates: Iterable<string>): Promise<NodeSummary[]> {
  return knex('nodes')
    .select(SUMMARY_COLUMNS)
    .where({ conductor_group: group })
    .whereNull('reservation')
    .where((q) => q.whereIn('provision_state', [...workingStates]).orWhereNotNull('target_power_state'))
    .orderBy('id');
}

/** Unlocked nodes of a group, in maintenance or not, in `state` since before `cutoff` ms (the timeout check). */
export async function nodesInStateSince(knex: Knex, group: string, state: string, cutoff: number, column: 'provision_updated_at' | 'inspection_started_at' = 'provision_updated_at'): Promise<NodeSummary[]> {
  return knex('nodes')
    .select(SUMMARY_COLUMNS)
    .where({ conductor_group: group, provision_state: state })
    .whereNull('reservation')
    .where((q) => q.where(column, '<', cutoff).orWhere((w) => w.whereNull(column).where('provision_updated_at', '<', cutoff)))
    .orderBy('id');
}

/** Unlocked nodes of a group whose power state a conductor may sync: not in maintenance, no power change pending, not mid-operation. */
export async function nodesForPowerSync(knex: Knex, group: string, unstableStates: Iterable<string>): Promise<NodeSummary[]> {
  return knex('nodes')
    .select(SUMMARY_COLUMNS)
    .where({ conductor_group: group, maintenance: false })
    .whereNull('reservation')
    .whereNull('target_power_state')
    .whereNotIn('provision_state', [...unstableStates])
    .orderBy('id');
}

/** Nodes of the group whose console is recorded as enabled (a conductor serves them again after a restart or take-over). */
export async function nodesWithConsoleEnabled(knex: Knex, group: string): Promise<NodeRecord[]> {
  return (await knex('nodes').where({ conductor_group: group, console_enabled: true }).orderBy('id')).map(rowToNode);
}

/** Nodes whose lock `host` holds (a dead conductor's, or our own left from a previous run). */
export async function nodesReservedBy(knex: Knex, hosts: string[]): Promise<NodeSummary[]> {
  if (hosts.length === 0) return [];
  return knex('nodes').select(SUMMARY_COLUMNS).whereIn('reservation', hosts).orderBy('id');
}

/** Conductor groups that have nodes with conductor work waiting (to tell of groups no conductor serves). */
export async function groupsWithWork(knex: Knex, workingStates: Iterable<string>): Promise<string[]> {
  const rows = await knex('nodes')
    .distinct('conductor_group')
    .where((q) => q.whereIn('provision_state', [...workingStates]).orWhereNotNull('target_power_state'));
  return rows.map((r: { conductor_group: string }) => r.conductor_group);
}

/** Hosts that hold node locks (to find a dead conductor's leftovers). */
export async function reservationHolders(knex: Knex): Promise<string[]> {
  const rows = await knex('nodes').distinct('reservation').whereNotNull('reservation');
  return rows.map((r: { reservation: string }) => r.reservation);
}

/** Filters of GET /v1/nodes, in Ironic's names. */
export interface NodeFilters {
  provision_state?: string;
  maintenance?: boolean;
  associated?: boolean;
  retired?: boolean;
  driver?: string;
  resource_class?: string;
  conductor_group?: string;
  /** Only these nodes (the API's `conductor` filter: the nodes a conductor owns on the hash ring). */
  ids?: readonly number[];
  fault?: string;
  owner?: string;
  lessee?: string;
  instance_uuid?: string;
  instance_name?: string;
  chassis_id?: number;
  description_contains?: string;
  shard?: string[];
  sharded?: boolean;
  parent_node?: string;
  /** Child nodes (with parent_node set) are left out unless asked for, as in Ironic >= 1.83. */
  include_children?: boolean;
  /** Nodes this project owns or leases (the `project` filter, or a project-scoped caller's share). */
  project?: string;
}

/** Ids of the nodes a project owns or leases, as a subquery. */
export function nodesOfProject(knex: Knex, project: string): Knex.QueryBuilder {
  return knex('nodes').select('id').where('owner', project).orWhere('lessee', project);
}

export function applyNodeFilters(q: Knex.QueryBuilder, f: NodeFilters): Knex.QueryBuilder {
  const eq = ['provision_state', 'driver', 'resource_class', 'conductor_group', 'fault', 'owner', 'lessee', 'instance_uuid', 'instance_name', 'chassis_id', 'parent_node'] as const;
  for (const k of eq) if (f[k] !== undefined) q.where(`nodes.${k}`, f[k] as string | number);
  if (f.ids) whereInMany(q, 'nodes.id', f.ids);
  if (f.maintenance !== undefined) q.where('nodes.maintenance', f.maintenance);
  if (f.retired !== undefined) q.where('nodes.retired', f.retired);
  if (f.associated !== undefined) {
    if (f.associated) q.whereNotNull('nodes.instance_uuid');
    else q.whereNull('nodes.instance_uuid');
  }
  if (f.description_contains !== undefined) whereContains(q, 'nodes.description', f.description_contains);
  if (f.shard) q.whereIn('nodes.shard', f.shard);
  if (f.sharded !== undefined) {
    if (f.sharded) q.whereNotNull('nodes.shard');
    else q.whereNull('nodes.shard');
  }
  if (f.parent_node === undefined && !f.include_children) q.whereNull('nodes.parent_node');
  if (f.project !== undefined) q.where((w) => w.where('nodes.owner', f.project as string).orWhere('nodes.lessee', f.project as string));
  return q;
}

/** id, uuid and conductor group of every node the filters select (to find their hash ring owners). */
export async function nodeRingKeys(knex: Knex, filters: NodeFilters): Promise<{ id: number; uuid: string; conductor_group: string }[]> {
  return applyNodeFilters(knex('nodes').select('nodes.id', 'nodes.uuid', 'nodes.conductor_group'), filters);
}

/**
 * One page of nodes. `columns` narrows the SELECT to what the caller renders (list views need
 * a handful of columns, not every JSON blob); `id` is always included for the keyset.
 */
export async function listNodes(knex: Knex, filters: NodeFilters, page: PageQuery, columns?: readonly string[]): Promise<NodeRecord[]> {
  const cols = columns ? [...new Set(['id', page.sortKey, ...columns])].map((c) => `nodes.${c}`) : ['nodes.*'];
  const q = applyNodeFilters(knex('nodes').select(cols), filters);
  return selectDecoded(knex, applyPage(q, page, 'nodes'), nodeDecoder);
}

export async function deleteNode(knex: Knex, id: number, where: Record<string, unknown> = {}): Promise<boolean> {
  return (await knex('nodes').where({ id, ...where }).delete()) > 0;
}

/** uuid of each node id in `ids` (to render node_uuid of ports and portgroups). */
export async function nodeUuidsByIds(knex: Knex, ids: readonly number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await knex('nodes').select('id', 'uuid').whereIn('id', unique);
  return new Map(rows.map((r: { id: number; uuid: string }) => [r.id, r.uuid]));
}

/** Takes the locks of several nodes in one compare-and-set; returns the nodes it got (the others are held elsewhere). */
export async function claimNodes(knex: Knex, ids: number[], host: string): Promise<NodeRecord[]> {
  if (ids.length === 0) return [];
  const rows = await knex('nodes').whereIn('id', ids).whereNull('reservation').update({ reservation: host, updated_at: now() }).returning('*');
  return rows.map(rowToNode);
}

/** Releases the locks `host` holds on these nodes. */
export async function releaseNodes(knex: Knex, ids: number[], host: string): Promise<number> {
  if (ids.length === 0) return 0;
  return knex('nodes').whereIn('id', ids).where({ reservation: host }).update({ reservation: null });
}

/** Nodes per shard, the largest first; nodes without a shard count under null (Ironic's get_shard_list). */
export async function shardCounts(knex: Knex): Promise<{ shard: string | null; count: number }[]> {
  const rows = (await knex('nodes').select('shard').count({ count: 'id' }).groupBy('shard')) as { shard: string | null; count: number | string }[];
  return rows.map((r) => ({ shard: r.shard ?? null, count: Number(r.count) })).sort((a, b) => b.count - a.count);
}

/** UUIDs of the nodes whose parent_node is `parentUuid`, in creation order; with `project`, those it owns or leases. */
export async function childNodeUuids(knex: Knex, parentUuid: string, project?: string): Promise<string[]> {
  const q = knex('nodes').select('uuid').where({ parent_node: parentUuid }).orderBy('id');
  if (project !== undefined) q.where((w) => w.where('owner', project).orWhere('lessee', project));
  const rows = await q;
  return rows.map((r: { uuid: string }) => r.uuid);
}

/** How many nodes have each value of each of `columns` (the fleet gauges of /metrics): one grouped query. */
export async function fleetCounts(knex: Knex): Promise<{ provision_state: string; power_state: string | null; maintenance: boolean; fault: string | null; count: number }[]> {
  const rows = (await knex('nodes').select('provision_state', 'power_state', 'maintenance', 'fault').count({ count: 'id' })
    .groupBy('provision_state', 'power_state', 'maintenance', 'fault')) as { provision_state: string; power_state: string | null; maintenance: unknown; fault: string | null; count: number | string }[];
  return rows.map((r) => ({ provision_state: r.provision_state, power_state: r.power_state ?? null, maintenance: Boolean(r.maintenance), fault: r.fault ?? null, count: Number(r.count) }));
}
