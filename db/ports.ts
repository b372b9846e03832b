// Data access for ports (a node's NICs, by MAC address).
import type { Knex } from 'knex';
import { fromJson, toBool } from './index.ts';

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
  created_at: number;
  updated_at: number | null;
}

export function rowToPort(row: Record<string, unknown>): PortRecord {
  return {
    ...(row as unknown as PortRecord),
    pxe_enabled: toBool(row.pxe_enabled),
    is_smartnic: toBool(row.is_smartnic),
    local_link_connection: fromJson(row.local_link_connection as string, {}),
    internal_info: fromJson(row.internal_info as string, {}),
    extra: fromJson(row.extra as string, {}),
  };
}

export async function portsOfNode(knex: Knex, nodeId: number): Promise<PortRecord[]> {
  const rows = await knex('ports').where({ node_id: nodeId }).orderBy('id');
  return rows.map(rowToPort);
}

/** MAC addresses are stored lower-case, as Ironic does. */
export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase();
}
