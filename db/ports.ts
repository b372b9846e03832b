// Data access for ports (a node's NICs, by MAC address).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { normalizeMac } from '../common/mac.ts';
import { fromJson, whereContains, now, toBool, toJson } from './index.ts';
import { getNodeById, nodesOfProject, type NodeRecord } from './nodes.ts';
import { applyPage, type PageQuery } from './paging.ts';

type Json = Record<string, unknown>;

export interface PortRecord {
  id: number;
  uuid: string;
  address: string;
  node_id: number;
  portgroup_id: number | null;
  pxe_enabled: boolean;
  local_link_connection: Json;
  physical_network: string | null;
  internal_info: Json;
  extra: Json;
  is_smartnic: boolean;
  name: string | null;
  description: string | null;
  vendor: string | null;
  category: string | null;
  /** May a dynamic port group (1.111) take this port in? */
  available_for_dynamic_portgroup: boolean;
  created_at: number;
  updated_at: number | null;
}

export function rowToPort(row: Record<string, unknown>): PortRecord {
  return {
    ...(row as unknown as PortRecord),
    pxe_enabled: toBool(row.pxe_enabled),
    is_smartnic: toBool(row.is_smartnic),
    available_for_dynamic_portgroup: toBool(row.available_for_dynamic_portgroup),
    local_link_connection: fromJson(row.local_link_connection as string, {}),
    internal_info: fromJson(row.internal_info as string, {}),
    extra: fromJson(row.extra as string, {}),
  };
}

/** The node owning any of these MACs, when exactly one does (the agent's lookup). */
export async function nodeOwningMacs(knex: Knex, macs: readonly string[]): Promise<NodeRecord | undefined> {
  if (macs.length === 0) return undefined;
  const rows = await knex('ports').whereIn('address', macs.map(normalizeMac)).distinct('node_id');
  if (rows.length !== 1) return undefined;
  return getNodeById(knex, rows[0].node_id);
}

export async function portsOfNode(knex: Knex, nodeId: number): Promise<PortRecord[]> {
  const rows = await knex('ports').where({ node_id: nodeId }).orderBy('id');
  return rows.map(rowToPort);
}

/** The distinct physical networks of a port group's member ports, but one port's (the one being changed). */
export async function physicalNetworksInPortgroup(knex: Knex, portgroupId: number, exceptPortId?: number): Promise<(string | null)[]> {
  const q = knex('ports').where({ portgroup_id: portgroupId }).distinct('physical_network');
  if (exceptPortId !== undefined) q.whereNot({ id: exceptPortId });
  return (await q).map((r: { physical_network: string | null }) => r.physical_network);
}

function portToRow(fields: Partial<PortRecord>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fields };
  for (const f of ['local_link_connection', 'internal_info', 'extra'] as const) if (f in fields) row[f] = toJson(fields[f]);
  return row;
}

export async function createPort(knex: Knex, fields: Partial<PortRecord> & { address: string; node_id: number }): Promise<PortRecord> {
  const [row] = await knex('ports').insert(portToRow({ uuid: randomUUID(), ...fields, address: normalizeMac(fields.address), created_at: now(), updated_at: null })).returning('*');
  return rowToPort(row);
}

export async function findPortByUuid(knex: Knex, uuid: string): Promise<PortRecord | undefined> {
  const row = await knex('ports').where({ uuid: uuid.toLowerCase() }).first();
  return row ? rowToPort(row) : undefined;
}

export async function findPortByName(knex: Knex, name: string): Promise<PortRecord | undefined> {
  const row = await knex('ports').where({ name }).first();
  return row ? rowToPort(row) : undefined;
}

export async function findPortByAddress(knex: Knex, address: string): Promise<PortRecord | undefined> {
  const row = await knex('ports').where({ address: normalizeMac(address) }).first();
  return row ? rowToPort(row) : undefined;
}

export interface PortFilters {
  node_id?: number;
  address?: string;
  portgroup_id?: number;
  node_shards?: string[];
  /** ports of nodes in any of these conductor groups */
  node_conductor_groups?: string[];
  description_contains?: string;
  /** ports of nodes this project owns or leases */
  project?: string;
}

export async function listPorts(knex: Knex, filters: PortFilters, page: PageQuery): Promise<PortRecord[]> {
  const q = knex('ports').select('ports.*');
  if (filters.node_id !== undefined) q.where('ports.node_id', filters.node_id);
  if (filters.address !== undefined) q.where('ports.address', normalizeMac(filters.address));
  if (filters.portgroup_id !== undefined) q.where('ports.portgroup_id', filters.portgroup_id);
  if (filters.node_shards) q.whereIn('ports.node_id', knex('nodes').select('id').whereIn('shard', filters.node_shards));
  if (filters.node_conductor_groups) q.whereIn('ports.node_id', knex('nodes').select('id').whereIn('conductor_group', filters.node_conductor_groups));
  if (filters.description_contains !== undefined) whereContains(q, 'ports.description', filters.description_contains);
  if (filters.project !== undefined) q.whereIn('ports.node_id', nodesOfProject(knex, filters.project));
  return (await applyPage(q, page, 'ports')).map(rowToPort);
}

export async function updatePort(knex: Knex, id: number, fields: Partial<PortRecord>): Promise<PortRecord> {
  const row = portToRow({ ...fields, updated_at: now() });
  if (typeof row.address === 'string') row.address = normalizeMac(row.address);
  const [updated] = await knex('ports').where({ id }).update(row).returning('*');
  return rowToPort(updated);
}

export async function deletePort(knex: Knex, id: number): Promise<void> {
  await knex('ports').where({ id }).delete();
}

/** Ports of several nodes in one query, by node id (the conductor loads a batch of nodes at once). */
export async function portsOfNodes(knex: Knex, nodeIds: number[]): Promise<Map<number, PortRecord[]>> {
  const byNode = new Map<number, PortRecord[]>();
  if (nodeIds.length === 0) return byNode;
  for (const row of await knex('ports').whereIn('node_id', nodeIds).orderBy('id')) {
    const port = rowToPort(row);
    byNode.set(port.node_id, [...(byNode.get(port.node_id) ?? []), port]);
  }
  return byNode;
}
