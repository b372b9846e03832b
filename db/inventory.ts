// node_inventory: the hardware inventory an inspection found (GET /v1/nodes/{id}/inventory), one row a node.
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';

type Json = Record<string, unknown>;

export interface NodeInventory {
  inventory: Json;
  plugin_data: Json;
}

/** Stores (or replaces) the node's inventory. */
export async function saveInventory(knex: Knex, nodeId: number, found: NodeInventory): Promise<void> {
  const ts = now();
  const data = { inventory: toJson(found.inventory), plugin_data: toJson(found.plugin_data) };
  await knex('node_inventory').insert({ node_id: nodeId, ...data, created_at: ts, updated_at: null }).onConflict('node_id').merge({ ...data, updated_at: ts });
}

export async function inventoryOfNode(knex: Knex, nodeId: number): Promise<NodeInventory | undefined> {
  const row = await knex('node_inventory').where({ node_id: nodeId }).first();
  return row ? { inventory: fromJson(row.inventory, {}), plugin_data: fromJson(row.plugin_data, {}) } : undefined;
}
