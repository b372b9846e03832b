// Auto-discovery in the API (Ironic's ramdisk controller, _auto_enroll): inspection data from a
// machine none of whose MACs is on a port becomes a node in `enroll` with the configured driver and
// a port per NIC; the node's conductor then applies the data and follows discovery.path (the
// `discovered` node task). The API only writes rows, as for any node it creates.
import { Conflict, NotFound } from '../../common/errors.ts';
import { normalizeMac } from '../../common/mac.ts';
import { ProvisionState } from '../../common/states.ts';
import { createDiscoveredNode } from '../../db/discovered.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { findPortByAddress } from '../../db/ports.ts';
import { enqueueTask } from '../../db/tasks.ts';
import { defaultInterfaces, getHardwareType } from '../../drivers/registry.ts';
import { emitNode } from '../notifications/index.ts';
import type { ApiContext } from './context.ts';
import { isUniqueViolation } from './validation.ts';

type Json = Record<string, unknown>;

/** The node created for an unknown machine's inspection data (`macs`: its NICs' valid MACs). */
export async function discoverNode(ctx: ApiContext, data: Json, macs: string[]): Promise<NodeRecord> {
  if (macs.length === 0) throw new NotFound('The inspection data names no NIC with a MAC address: a machine cannot be discovered without one');
  for (const mac of macs) {
    // A MAC already on a node is never discovered again (a port of two nodes' MACs, or of a node in another state).
    const port = await findPortByAddress(ctx.db.knex, mac);
    if (port) throw new NotFound(`MAC ${mac} is on port ${port.uuid} of an enrolled node, which is not waiting for inspection data; the machine is not discovered again`);
  }
  const hw = getHardwareType(ctx.config.discovery.driver, ctx.config.interfaces);
  const bootMac = ((data.inventory as Json).boot as Json | undefined)?.pxe_interface;
  const pxe = typeof bootMac === 'string' ? normalizeMac(bootMac) : undefined;
  const ports = macs.map((address) => ({ address, pxe_enabled: pxe === undefined || pxe === address }));
  let node: NodeRecord;
  try {
    node = await createDiscoveredNode(ctx.db.knex, {
      ...defaultInterfaces(hw),
      // Its data came from the agent: later inspections go the same way where the hardware type has it.
      ...(hw.interfaces.inspect.includes('agent') ? { inspect_interface: 'agent' } : {}),
      driver: hw.name,
      provision_state: ProvisionState.ENROLL,
      power_state: null,
    }, ports, `Node discovered from its inspection data (MACs ${macs.join(', ')}), created with driver ${hw.name} in state ${ProvisionState.ENROLL}`);
  } catch (err) {
    // Another post of the same machine won the race for the ports: the agent retries on 409 and then finds the node.
    if (isUniqueViolation(err, 'address')) {
      throw new Conflict(`Machine with MACs ${macs.join(', ')} is being discovered by another request; retry`);
    }
    throw err;
  }
  emitNode(ctx.db.knex, { service: 'api' }, 'create', 'end', 'info', 'NodeCRUDPayload', node);
  await enqueueTask(ctx.db, node, 'discovered', { data });
  return node;
}
