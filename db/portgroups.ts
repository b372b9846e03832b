// Data access for portgroups (bonds of a node's ports).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toBool, toJson } from './index.ts';
import { nodesOfProject } from './nodes.ts';
import { applyPage, type PageQuery } from './paging.ts';

type Json = Record<string, unknown>;

export interface PortgroupRecord {
  id: number;
  uuid: string;
  name: string | null;
  address: string | null;
  node_id: number;
  mode: string | null;
  properties: Json;
  standalone_ports_supported: boolean;
  extra: Json;
  internal_info: Json;
  physical_network: string | null;
  category: string | null;
  /** Built by the network from ports available for dynamic port groups (1.111); read-only in the API. */
  dynamic_portgroup: boolean;
  created_at: number;
  updated_at: number | null;
}

const JSON_FIELDS = ['properties', 'extra', 'internal_info'] as const;

function rowToPortgroup(row: Record<string, unknown>): PortgroupRecord {
  const pg = { ...row } as Record<string, unknown>;
  for (const f of JSON_FIELDS) pg[f] = fromJson(row[f] as string, {});
  pg.standalone_ports_supported = toBool(row.standalone_ports_supported);
  pg.dynamic_portgroup = toBool(row.dynamic_portgroup);
  return pg as unknown as PortgroupRecord;
}

function toRow(fields: Partial<PortgroupRecord>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fields };
  for (const f of JSON_FIELDS) if (f in fields) row[f] = toJson(fields[f]);
  return row;
}

export async function createPortgroup(knex: Knex, fields: Partial<PortgroupRecord> & { node_id: number }): Promise<PortgroupRecord> {
  const [row] = await knex('portgroups').insert(toRow({ uuid: randomUUID(), ...fields, created_at: now(), updated_at: null })).returning('*');
  return rowToPortgroup(row);
}

/** By UUID or name. */
export async function findPortgroup(knex: Knex, ident: string, isUuid: boolean): Promise<PortgroupRecord | undefined> {
  const row = await knex('portgroups').where(isUuid ? { uuid: ident.toLowerCase() } : { name: ident }).first();
  return row ? rowToPortgroup(row) : undefined;
}

export async function getPortgroupById(knex: Knex, id: number): Promise<PortgroupRecord | undefined> {
  const row = await knex('portgroups').where({ id }).first();
  return row ? rowToPortgroup(row) : undefined;
}

export interface PortgroupFilters {
  node_id?: number;
  address?: string;
  /** port groups of nodes in these shards */
  node_shards?: string[];
  /** port groups of nodes in any of these conductor groups */
  node_conductor_groups?: string[];
  /** port groups of nodes this project owns or leases */
  project?: string;
}

export async function listPortgroups(knex: Knex, filters: PortgroupFilters, page: PageQuery): Promise<PortgroupRecord[]> {
  const q = knex('portgroups').select('portgroups.*');
  if (filters.node_id !== undefined) q.where('portgroups.node_id', filters.node_id);
  if (filters.address !== undefined) q.where('portgroups.address', filters.address);
  if (filters.node_shards) q.whereIn('portgroups.node_id', knex('nodes').select('id').whereIn('shard', filters.node_shards));
  if (filters.node_conductor_groups) q.whereIn('portgroups.node_id', knex('nodes').select('id').whereIn('conductor_group', filters.node_conductor_groups));
  if (filters.project !== undefined) q.whereIn('portgroups.node_id', nodesOfProject(knex, filters.project));
  return (await applyPage(q, page, 'portgroups')).map(rowToPortgroup);
}

/** A new physical_network is also that of the group's ports (Ironic's Portgroup.update_physical_network). */
export async function updatePortgroup(knex: Knex, id: number, fields: Partial<PortgroupRecord>): Promise<PortgroupRecord> {
  return knex.transaction(async (trx) => {
    const at = now();
    const [row] = await trx('portgroups').where({ id }).update(toRow({ ...fields, updated_at: at })).returning('*');
    if ('physical_network' in fields) {
      await trx('ports').where({ portgroup_id: id }).whereRaw('physical_network is distinct from ?', [fields.physical_network ?? null]).update({ physical_network: fields.physical_network ?? null, updated_at: at });
    }
    return rowToPortgroup(row);
  });
}

export async function deletePortgroup(knex: Knex, id: number): Promise<void> {
  await knex('portgroups').where({ id }).delete();
}

export async function portgroupHasPorts(knex: Knex, id: number): Promise<boolean> {
  return Boolean(await knex('ports').select('id').where({ portgroup_id: id }).first());
}

export async function portgroupUuidsByIds(knex: Knex, ids: readonly (number | null)[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids.filter((i): i is number => i !== null && i !== undefined))];
  if (unique.length === 0) return new Map();
  const rows = await knex('portgroups').select('id', 'uuid').whereIn('id', unique);
  return new Map(rows.map((r: { id: number; uuid: string }) => [r.id, r.uuid]));
}

export async function portgroupsOfNode(knex: Knex, nodeId: number): Promise<PortgroupRecord[]> {
  return (await knex('portgroups').where({ node_id: nodeId }).orderBy('id')).map(rowToPortgroup);
}
