// A discovered machine's node and its ports, written in one transaction: ports' addresses are
// unique, so of two machines' posts racing with one MAC (or one machine's two boots) one wins.
import type { Knex } from 'knex';
import { recordHistory } from './history.ts';
import { createNode, type NewNode, type NodeRecord } from './nodes.ts';
import { createPort } from './ports.ts';

export async function createDiscoveredNode(knex: Knex, node: NewNode, ports: { address: string; pxe_enabled: boolean }[], event: string): Promise<NodeRecord> {
  return knex.transaction(async (trx) => {
    const created = await createNode(trx, node);
    for (const port of ports) await createPort(trx, { node_id: created.id, ...port });
    await recordHistory(trx, created, { event, event_type: 'inspection' });
    return created;
  });
}
