// Nodes and ports for netboot tests, written straight to the database as the API would.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../../db/index.ts';
import { createNode, type NodeRecord } from '../../../db/nodes.ts';

export async function enrollNode(db: Database, opts: { mac: string; state: string; driver_info?: Record<string, unknown>; driver_internal_info?: Record<string, unknown>; boot_interface?: string }): Promise<NodeRecord> {
  const node = await createNode(db.knex, {
    driver: 'fake-hardware',
    provision_state: opts.state,
    driver_info: opts.driver_info ?? {},
    driver_internal_info: opts.driver_internal_info ?? {},
    boot_interface: opts.boot_interface ?? null,
  });
  await db.knex('ports').insert({ uuid: randomUUID(), address: opts.mac.toLowerCase(), node_id: node.id, created_at: Date.now() });
  return node;
}
