// Trait-based networking's writes (1.111): dynamic port groups, bonds the planner makes of ports
// with available_for_dynamic_portgroup, and the VIFs it moves. Each is one transaction, so a node
// is never left with a group missing a member or a VIF on a group that is gone.
import type { Knex } from 'knex';
import { now } from './index.ts';
import { createPortgroup } from './portgroups.ts';

/** Creates an LACP port group of `portIds` (the node's), dynamic_portgroup true; answers its id. */
export async function createDynamicPortgroup(knex: Knex, nodeId: number, portIds: readonly number[], physicalNetwork: string | null): Promise<number> {
  return knex.transaction(async (trx) => {
    const group = await createPortgroup(trx, { node_id: nodeId, mode: '802.3ad', physical_network: physicalNetwork, dynamic_portgroup: true, standalone_ports_supported: false });
    await trx('ports').where({ node_id: nodeId }).whereIn('id', portIds).update({ portgroup_id: group.id, updated_at: now() });
    return group.id;
  });
}

/** Puts the node's VIF of `networkId` on a port or a port group. */
export async function moveAttachment(knex: Knex, nodeId: number, networkId: number, to: { port_id: number | null; portgroup_id: number | null }): Promise<void> {
  await knex('network_attachments').where({ node_id: nodeId, network_id: networkId }).update(to);
}

/**
 * Undoes the node's dynamic port groups: a VIF on one goes back to its newest member port (the VIF
 * stays the node's, as a VIF attached by hand does), the members leave it, the group is deleted.
 * Answers how many there were.
 */
export async function removeDynamicPortgroups(knex: Knex, nodeId: number): Promise<number> {
  return knex.transaction(async (trx) => {
    const groups: { id: number }[] = await trx('portgroups').select('id').where({ node_id: nodeId, dynamic_portgroup: true });
    for (const { id } of groups) {
      const newest: { id: number } | undefined = await trx('ports').select('id').where({ portgroup_id: id }).orderBy('id', 'desc').first();
      await trx('network_attachments').where({ node_id: nodeId, portgroup_id: id }).update({ portgroup_id: null, port_id: newest?.id ?? null });
      await trx('ports').where({ portgroup_id: id }).update({ portgroup_id: null, updated_at: now() });
      await trx('portgroups').where({ id }).delete();
    }
    return groups.length;
  });
}
