// node_traits: a node's traits (CUSTOM_* or standard os-traits names), read a page at a time.
import type { Knex } from 'knex';
import { now } from './index.ts';

/** Traits of every node in `nodeIds`, in one query. */
export async function traitsOfNodes(knex: Knex, nodeIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(nodeIds.map((id) => [id, []]));
  if (nodeIds.length === 0) return out;
  const rows = await knex('node_traits').select('node_id', 'trait').whereIn('node_id', [...new Set(nodeIds)]).orderBy(['node_id', 'trait']);
  for (const r of rows as { node_id: number; trait: string }[]) out.get(r.node_id)!.push(r.trait);
  return out;
}

export async function traitsOfNode(knex: Knex, nodeId: number): Promise<string[]> {
  return (await traitsOfNodes(knex, [nodeId])).get(nodeId)!;
}

/** Replaces all traits of a node. */
export async function setTraits(knex: Knex, nodeId: number, traits: readonly string[]): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('node_traits').where({ node_id: nodeId }).delete();
    const unique = [...new Set(traits)];
    if (unique.length) await trx('node_traits').insert(unique.map((trait) => ({ node_id: nodeId, trait, created_at: now() })));
  });
}

export async function addTrait(knex: Knex, nodeId: number, trait: string): Promise<void> {
  await knex('node_traits').insert({ node_id: nodeId, trait, created_at: now() }).onConflict(['node_id', 'trait']).ignore();
}

/** Removes one trait; false when the node did not have it. */
export async function removeTrait(knex: Knex, nodeId: number, trait: string): Promise<boolean> {
  return (await knex('node_traits').where({ node_id: nodeId, trait }).delete()) > 0;
}

export async function countTraits(knex: Knex, nodeId: number): Promise<number> {
  const row = await knex('node_traits').where({ node_id: nodeId }).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
