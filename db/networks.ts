// Data access for networks (Anvil's /v1/networks) and their attachments to nodes (the VIFs of
// Ironic's VIF API). A VIF's id is its network's UUID: a node has at most one attachment per
// network, on one of its ports or port groups; one port carrying several networks is a trunk.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';

type Json = Record<string, unknown>;

/** What a network is for: the node-wide networks of Ironic's [neutron] options, and tenants' own. */
export const NETWORK_KINDS = ['provisioning', 'cleaning', 'rescuing', 'inspection', 'servicing', 'tenant'] as const;
export type NetworkKind = (typeof NETWORK_KINDS)[number];

export interface NetworkRecord {
  id: number;
  uuid: string;
  name: string;
  kind: NetworkKind;
  /** The 802.1Q VLAN id on the switches; null: untagged (a flat network). */
  vlan_id: number | null;
  physical_network: string | null;
  /** The project whose network it is; null: the operator's (only system-scoped callers attach it). */
  owner: string | null;
  mtu: number | null;
  /** IPv4 subnet in CIDR notation; attachments then get an address from it (network_data.json). */
  cidr: string | null;
  gateway: string | null;
  extra: Json;
  created_at: number;
  updated_at: number | null;
}

export interface AttachmentRecord {
  id: number;
  node_id: number;
  network_id: number;
  port_id: number | null;
  portgroup_id: number | null;
  address: string | null;
  created_at: number;
}

function rowToNetwork(row: Record<string, unknown>): NetworkRecord {
  return { ...(row as unknown as NetworkRecord), extra: fromJson(row.extra as string, {}) };
}

export async function createNetwork(knex: Knex, fields: Partial<NetworkRecord> & { name: string; kind: NetworkKind }): Promise<NetworkRecord> {
  const row = { uuid: randomUUID(), ...fields, extra: toJson(fields.extra), created_at: now(), updated_at: null };
  const [created] = await knex('networks').insert(row).returning('*');
  return rowToNetwork(created);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** By UUID or name. */
export async function findNetwork(knex: Knex, ident: string): Promise<NetworkRecord | undefined> {
  const row = await knex('networks').where(UUID_RE.test(ident) ? { uuid: ident.toLowerCase() } : { name: ident }).first();
  return row ? rowToNetwork(row) : undefined;
}

export async function networksByIds(knex: Knex, ids: readonly number[]): Promise<Map<number, NetworkRecord>> {
  if (ids.length === 0) return new Map();
  const rows = await knex('networks').whereIn('id', [...new Set(ids)]);
  return new Map(rows.map((r: Record<string, unknown>) => [r.id as number, rowToNetwork(r)]));
}

/** Every network, or a project's own. */
export async function listNetworks(knex: Knex, filters: { owner?: string; kind?: string }): Promise<NetworkRecord[]> {
  const q = knex('networks').orderBy('id');
  if (filters.owner !== undefined) q.where({ owner: filters.owner });
  if (filters.kind !== undefined) q.where({ kind: filters.kind });
  return (await q).map(rowToNetwork);
}

export async function networkInUse(knex: Knex, id: number): Promise<boolean> {
  return Boolean(await knex('network_attachments').where({ network_id: id }).first('id'));
}

export async function deleteNetwork(knex: Knex, id: number): Promise<void> {
  await knex('networks').where({ id }).delete();
}

export async function attachmentsOfNode(knex: Knex, nodeId: number): Promise<AttachmentRecord[]> {
  return knex('network_attachments').where({ node_id: nodeId }).orderBy('id');
}

/** Addresses already handed out on a network (to pick the next free one). */
export async function addressesOnNetwork(knex: Knex, networkId: number): Promise<string[]> {
  const rows = await knex('network_attachments').where({ network_id: networkId }).whereNotNull('address').select('address');
  return rows.map((r: { address: string }) => r.address);
}

export async function createAttachment(knex: Knex, fields: Omit<AttachmentRecord, 'id' | 'created_at'>): Promise<AttachmentRecord> {
  const [row] = await knex('network_attachments').insert({ ...fields, created_at: now() }).returning('*');
  return row as AttachmentRecord;
}

/** false when the node had no attachment to that network. */
export async function deleteAttachment(knex: Knex, nodeId: number, networkId: number): Promise<boolean> {
  return (await knex('network_attachments').where({ node_id: nodeId, network_id: networkId }).delete()) > 0;
}
