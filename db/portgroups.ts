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
  created_at: number;
  updated_at: number | null;
}

const JSON_FIELDS = ['properties', 'extra', 'internal_info'] as const;

function rowToPortgroup(row: Record<string, unknown>): PortgroupRecord {
  const pg = { ...row } as Record<string, unknown>;
  for (const f of JSON_FIELDS) pg[f] = fromJson(row[f] as string, {});
  pg.standalone_ports_supported = toBool(row.standalone_ports_supported);
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

export interface PortgroupFilters { node_id?: number; address?: string; /** port groups of nodes this project owns or leases */ project?: string }

export async function listPortgroups(knex: Knex, filters: PortgroupFilters, page: PageQuery): Promise<PortgroupRecord[]> {
  const q = knex('portgroups').select('portgroups.*');
  if (filters.node_id !== undefined) q.where('portgroups.node_id', filters.node_id);
  if (filters.address !== undefined) q.where('portgroups.address', filters.address);
  if (filters.project !== undefined) q.whereIn('portgroups.node_id', nodesOfProject(knex, filters.project));
  return (await applyPage(q, page, 'portgroups')).map(rowToPortgroup);
}

export async function updatePortgroup(knex: Knex, id: number, fields: Partial<PortgroupRecord>): Promise<PortgroupRecord> {
  const [row] = await knex('portgroups').where({ id }).update(toRow({ ...fields, updated_at: now() })).returning('*');
  return rowToPortgroup(row);
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
