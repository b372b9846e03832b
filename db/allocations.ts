// Data access for allocations: a request for a node of a resource class (and traits), and the
// node a conductor chose for it. Giving a node is a compare-and-set on the node row, so two
// allocations never get the same node.
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
  /** The conductor processing it while it is allocating (another takes it over if that one dies). */
  conductor_affinity: string | null;
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
      // A backfill names its node at once: no conductor picks one for it.
      node_id: fields.node_id ?? null,
      created_at: now(),
    })
    .returning('*');
  return rowToAllocation(row);
}

export async function findAllocation(knex: Knex, ident: string, isUuid: boolean): Promise<AllocationRecord | undefined> {
  const row = await knex('allocations').where(isUuid ? { uuid: ident.toLowerCase() } : { name: ident }).first();
  return row ? rowToAllocation(row) : undefined;
}

export async function getAllocation(knex: Knex, id: number): Promise<AllocationRecord | undefined> {
  const row = await knex('allocations').where({ id }).first();
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

/** A node an allocation may get, as the choice needs it. */
export interface SuitableNode { id: number; uuid: string; name: string | null }

/** The conditions a node must still meet when it is given (checked again in the compare-and-set). */
function whereFree(q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q.where({ provision_state: 'available', maintenance: false }).whereNotNull('power_state').whereNull('instance_uuid').whereNull('allocation_id');
}

/**
 * Nodes that match the allocation as Ironic's conductor filters them: available, out of
 * maintenance, with a known power state, unassociated, of its resource class, among its
 * candidates, owned or leased by its owner, and (`withTraits`) carrying every trait. At most
 * `limit` of them, in id order.
 */
export async function suitableNodes(knex: Knex, a: AllocationRecord, withTraits: boolean, limit = 200): Promise<SuitableNode[]> {
  const q = whereFree(knex('nodes').select('id', 'uuid', 'name'));
  q.where('resource_class', a.resource_class as string);
  if (a.candidate_nodes.length) q.whereIn('uuid', a.candidate_nodes);
  if (a.owner !== null) q.whereIn('id', nodesOfProject(knex, a.owner));
  if (withTraits) for (const trait of a.traits) q.whereIn('id', knex('node_traits').select('node_id').where({ trait }));
  return (await q.orderBy('id').limit(limit)) as SuitableNode[];
}

/**
 * Allocations waiting for a node that `host` may process: unclaimed, its own, or claimed by a
 * conductor that has not heart-beaten within `heartbeatTimeoutMs` (one query, the poll's).
 */
export async function allocationsToProcess(knex: Knex, host: string, heartbeatTimeoutMs: number, limit: number): Promise<AllocationRecord[]> {
  const alive = knex('conductors').select('hostname').where({ online: true }).where('updated_at', '>=', now() - heartbeatTimeoutMs);
  const rows = await knex('allocations').where({ state: 'allocating' }).whereNull('node_id')
    .where((w) => w.whereNull('conductor_affinity').orWhere('conductor_affinity', host).orWhereNotIn('conductor_affinity', alive))
    .orderBy('id').limit(limit);
  return rows.map(rowToAllocation);
}

/** Makes `host` the allocation's conductor by compare-and-set on the one it had; undefined when another conductor took it first. */
export async function takeAllocation(knex: Knex, a: AllocationRecord, host: string): Promise<AllocationRecord | undefined> {
  const q = knex('allocations').where({ id: a.id, state: 'allocating' });
  if (a.conductor_affinity === null) q.whereNull('conductor_affinity');
  else q.where('conductor_affinity', a.conductor_affinity);
  const [row] = await q.update({ conductor_affinity: host, updated_at: now() }).returning('*');
  return row ? rowToAllocation(row) : undefined;
}

/** What giving a node to an allocation came to. */
export type Assignment = 'assigned' | 'node taken' | 'node locked' | 'allocation gone';

/**
 * Gives the node to the allocation in one transaction: the allocation turns active only while it
 * is still allocating and `host`'s (not deleted meanwhile), and the node is taken by
 * compare-and-set on being free and unlocked, so no node goes to two allocations.
 */
export async function assignNode(knex: Knex, a: AllocationRecord, node: SuitableNode, host: string): Promise<Assignment> {
  try {
    return await knex.transaction(async (trx) => {
      const mine = await trx('allocations').where({ id: a.id, state: 'allocating', conductor_affinity: host })
        .update({ state: 'active', node_id: node.id, last_error: null, updated_at: now() });
      if (mine === 0) return 'allocation gone';
      const taken = await whereFree(trx('nodes').where({ id: node.id, resource_class: a.resource_class as string })).whereNull('reservation')
        .update({ allocation_id: a.id, instance_uuid: a.uuid, updated_at: now() });
      if (taken > 0) return 'assigned';
      const row = await trx('nodes').where({ id: node.id }).first('reservation');
      throw new NodeNotFree(row?.reservation ? 'node locked' : 'node taken');
    });
  } catch (err) {
    if (err instanceof NodeNotFree) return err.outcome;
    throw err;
  }
}

/** Rolls assignNode's transaction back (the allocation stays allocating). */
class NodeNotFree extends Error {
  constructor(readonly outcome: Assignment) {
    super(outcome);
  }
}

/** Records why the allocation got no node, if it is still `host`'s and allocating. */
export async function failAllocation(knex: Knex, a: AllocationRecord, host: string, lastError: string): Promise<boolean> {
  return (await knex('allocations').where({ id: a.id, state: 'allocating', conductor_affinity: host })
    .update({ state: 'error', node_id: null, last_error: lastError, updated_at: now() })) > 0;
}

/**
 * Backfill: gives the allocation the node it named, in one transaction, by compare-and-set on the
 * node having no allocation (its instance_uuid is kept when it has one) and on the allocation
 * still waiting (not deleted meanwhile).
 */
export async function backfillNode(knex: Knex, a: AllocationRecord, node: { id: number; instance_uuid: string | null }): Promise<Assignment> {
  try {
    return await knex.transaction(async (trx) => {
      const waiting = await trx('allocations').where({ id: a.id, state: 'allocating' }).update({ state: 'active', node_id: node.id, last_error: null, updated_at: now() });
      if (waiting === 0) return 'allocation gone';
      const taken = await trx('nodes').where({ id: node.id }).whereNull('allocation_id').update({ allocation_id: a.id, instance_uuid: node.instance_uuid ?? a.uuid, updated_at: now() });
      if (taken === 0) throw new NodeNotFree('node taken');
      return 'assigned';
    });
  } catch (err) {
    if (err instanceof NodeNotFree) return err.outcome;
    throw err;
  }
}

/** uuid of each allocation id in `ids` (to render a node's allocation_uuid). */
export async function allocationUuidsByIds(knex: Knex, ids: readonly (number | null)[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids.filter((i): i is number => typeof i === 'number'))];
  if (unique.length === 0) return new Map();
  const rows = await knex('allocations').select('id', 'uuid').whereIn('id', unique);
  return new Map(rows.map((r: { id: number; uuid: string }) => [r.id, r.uuid]));
}

/**
 * Deletes an allocation and frees the node it has (clearing instance_uuid only if the allocation
 * set it). The row goes first: on PostgreSQL that waits for a conductor giving it a node right
 * now, and the node is then found by allocation_id, not by what the caller read before.
 */
export async function deleteAllocation(knex: Knex, a: AllocationRecord): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('allocations').where({ id: a.id }).delete();
    await trx('nodes').where({ allocation_id: a.id, instance_uuid: a.uuid }).update({ instance_uuid: null });
    await trx('nodes').where({ allocation_id: a.id }).update({ allocation_id: null, updated_at: now() });
  });
}
