// A node's `conductor` as Ironic's API computes it: the owner of the node on the hash ring of its
// conductor group over the alive conductors, the same rings (common/hash-ring.ts, from the same
// conductors table) the conductors claim their nodes by. The `conductor` filter selects by it too.
import type { Knex } from 'knex';
import { GroupRings } from '../../common/hash-ring.ts';
import { aliveConductors } from '../../db/conductors.ts';
import { nodeRingKeys, type NodeFilters } from '../../db/nodes.ts';
import type { ApiContext } from './context.ts';

export async function conductorRings(knex: Knex, heartbeatTimeoutMs: number): Promise<GroupRings> {
  return new GroupRings(await aliveConductors(knex, heartbeatTimeoutMs));
}

/**
 * The filters narrowed to the nodes `host` owns: none when it is not alive; its whole group when it
 * is the group's only conductor; else the ids of the group's nodes whose ring owner it is.
 */
export async function ownedByFilter(ctx: ApiContext, host: string, filters: NodeFilters): Promise<NodeFilters> {
  const alive = await aliveConductors(ctx.db.knex, ctx.config.conductor.heartbeatTimeout * 1000);
  const me = alive.find((c) => c.hostname === host);
  if (!me) return { ...filters, ids: [] };
  const group = me.conductor_group.toLowerCase();
  if (filters.conductor_group !== undefined && filters.conductor_group !== group) return { ...filters, ids: [] };
  const scoped = { ...filters, conductor_group: group };
  if (alive.filter((c) => c.conductor_group.toLowerCase() === group).length === 1) return scoped;
  const rings = new GroupRings(alive);
  const nodes = await nodeRingKeys(ctx.db.knex, scoped);
  return { ...scoped, ids: nodes.filter((n) => rings.ownerOf(n) === host).map((n) => n.id) };
}
