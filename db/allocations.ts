// Data access for allocations: a request for a node of a resource class (and traits), and the
// node chosen for it. Choosing is a compare-and-set on the node row, so two allocations never
// get the same node.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';
import { nodesOfProject } from './nodes.ts';
import { applyPage, type PageQuery } from './paging.ts';

export interface AllocationRecord {
  id: number;
  uuid: string;
  name: string | null;
  node_id: number | null;
  state: 'allocating' | 'active' | 'error';
  last_error: string | null;
  resource_class: string | null;
  traits: string[];
  candidate_nodes: string[];
  extra: Record<string, unknown>;
  owner: string | null;
  created_at: number;
  updated_at: number | null;
}

function rowToAllocation(row: Record<string, unknown>): AllocationRecord {
  return {
    ...(row as unknown as AllocationRecord),
    traits: fromJson(row.traits as string, []),
    candidate_nodes: fromJson(row.candidate_nodes as string, []),
    extra: fromJson(row.extra as string, {}),
  };
}

export async function createAllocation(knex: Knex, fields: Partial<AllocationRecord>): Promise<AllocationRecord> {
  const [row] = await knex('allocations')
    .insert({
      uuid: fields.uuid ?? randomUUID(),
      name: fields.name ?? null,
      state: 'allocating',
      resource_class: fields.resource_class ?? null,
      traits: toJson(fields.traits ?? []),
      candidate_nodes: toJson(fields.candidate_nodes ?? []),
      extra: toJson(fields.extra ?? {}),
      owner: fields.owner ?? null,
      created_at: now(),
    })
    .returning('*');
  return rowToAllocation(row);
}

export async function findAllocation(knex: Knex, ident: string, isUuid: boolean): Promise<AllocationRecord | undefined> {
  const row = await knex('allocations').where(isUuid ? { uuid: ident.toLowerCase() } : { name: ident }).first();
  return row ? rowToAllocation(row) : undefined;
}

export async function allocationOfNode(knex: Knex, nodeId: number): Promise<AllocationRecord | undefined> {
  const row = await knex('allocations').where({ node_id: nodeId }).first();
  return row ? rowToAllocation(row) : undefined;
}

export interface AllocationFilters { node_id?: number; resource_class?: string; state?: string; owner?: string; /** allocations this project owns */ project?: string }

export async function listAllocations(knex: Knex, f: AllocationFilters, page: PageQuery): Promise<AllocationRecord[]> {
  const q = knex('allocations').select('allocations.*');
  for (const k of ['node_id', 'resource_class', 'state', 'owner'] as const) if (f[k] !== undefined) q.where(`allocations.${k}`, f[k] as string | number);
  if (f.project !== undefined) q.where('allocations.owner', f.project);
  return (await applyPage(q, page, 'allocations')).map(rowToAllocation);
}

export async function updateAllocation(knex: Knex, id: number, fields: Partial<AllocationRecord>): Promise<AllocationRecord> {
  const row: Record<string, unknown> = { ...fields, updated_at: now() };
  for (const f of ['traits', 'candidate_nodes', 'extra'] as const) if (f in fields) row[f] = toJson(fields[f]);
  const [updated] = await knex('allocations').where({ id }).update(row).returning('*');
  return rowToAllocation(updated);
}

/**
 * Picks an available node matching the allocation (resource class, every trait, candidates) and
 * claims it: allocation_id and instance_uuid are set by compare-and-set, trying candidates in
 * random order so concurrent allocations spread out. Returns the node id, or undefined.
 */
export async function claimNodeFor(knex: Knex, a: AllocationRecord, candidateIds?: number[]): Promise<number | undefined> {
  const q = knex('nodes').select('id').where({ provision_state: 'available', maintenance: false }).whereNull('instance_uuid').whereNull('allocation_id').whereNull('reservation');
  if (a.resource_class !== null) q.where('resource_class', a.resource_class);
  if (candidateIds) q.whereIn('id', candidateIds);
  // A project's allocation gets only a node the project owns or leases (Ironic's conductor filters the same way).
  if (a.owner !== null) q.whereIn('id', nodesOfProject(knex, a.owner));
  for (const trait of a.traits) q.whereIn('id', knex('node_traits').select('node_id').where({ trait }));
  const ids = ((await q.limit(200)) as { id: number }[]).map((r) => r.id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  for (const id of ids) {
    const n = await knex('nodes').where({ id, provision_state: 'available' }).whereNull('instance_uuid').whereNull('allocation_id').whereNull('reservation')
      .update({ allocation_id: a.id, instance_uuid: a.uuid, updated_at: now() });
    if (n > 0) return id;
  }
  return undefined;
}

/** Gives the allocation the node it named (backfill) by compare-and-set: false when another allocation has it. */
export async function claimNamedNode(knex: Knex, a: AllocationRecord, node: { id: number; instance_uuid: string | null }): Promise<boolean> {
  const n = await knex('nodes').where({ id: node.id }).whereNull('allocation_id').update({ allocation_id: a.id, instance_uuid: node.instance_uuid ?? a.uuid });
  return n > 0;
}

/** uuid of each allocation id in `ids` (to render a node's allocation_uuid). */
export async function allocationUuidsByIds(knex: Knex, ids: readonly (number | null)[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids.filter((i): i is number => typeof i === 'number'))];
  if (unique.length === 0) return new Map();
  const rows = await knex('allocations').select('id', 'uuid').whereIn('id', unique);
  return new Map(rows.map((r: { id: number; uuid: string }) => [r.id, r.uuid]));
}

/** Deletes an allocation and frees its node (clearing instance_uuid only if the allocation set it). */
export async function deleteAllocation(knex: Knex, a: AllocationRecord): Promise<void> {
  await knex.transaction(async (trx) => {
    if (a.node_id !== null) {
      await trx('nodes').where({ id: a.node_id, allocation_id: a.id }).update({ allocation_id: null, updated_at: now() });
      await trx('nodes').where({ id: a.node_id, instance_uuid: a.uuid }).update({ instance_uuid: null });
    }
    await trx('allocations').where({ id: a.id }).delete();
  });
}
