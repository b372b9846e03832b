// Nodes and ports for netboot tests, written straight to the database as the API would, with the
// boot record the node's network boot interface wrote when the conductor prepared its ramdisk.
import type { Database } from '../../../db/index.ts';
import { setBootRecords, type RamdiskPurpose } from '../../../db/boot-records.ts';
import { createNode, type NodeRecord } from '../../../db/nodes.ts';
import { createPort } from '../../../db/ports.ts';
import { ramdiskBootRecords } from '../../../drivers/pxe/index.ts';

/** The ramdisk a node in these states runs (the flows that prepare it, and the wait states that follow). */
const RAMDISK_OF_STATE: Record<string, RamdiskPurpose> = {
  deploying: 'deploy', 'wait call-back': 'deploy', cleaning: 'clean', 'clean wait': 'clean',
  inspecting: 'inspect', 'inspect wait': 'inspect', rescuing: 'rescue', 'rescue wait': 'rescue',
};

export async function enrollNode(db: Database, opts: {
  mac: string;
  state: string;
  driver_info?: Record<string, unknown>;
  /** The ramdisk the boot interface is booting; default: the one of `state`; null: no network boot (virtual media). */
  booting?: RamdiskPurpose | null;
}): Promise<NodeRecord> {
  const node = await createNode(db.knex, { driver: 'fake-hardware', provision_state: opts.state, driver_info: opts.driver_info ?? {} });
  const port = await createPort(db.knex, { address: opts.mac, node_id: node.id, pxe_enabled: true });
  const purpose = opts.booting === undefined ? RAMDISK_OF_STATE[opts.state] : opts.booting;
  if (purpose) await setBootRecords(db.knex, node, ramdiskBootRecords(node, [port], purpose));
  return node;
}
