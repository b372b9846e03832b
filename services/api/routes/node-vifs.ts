// Ironic's VIF API (1.28): GET/POST /v1/nodes/{ident}/vifs, DELETE /v1/nodes/{ident}/vifs/{vif}.
// A VIF id is an Anvil network (its UUID; a name is accepted too): attaching it records which of
// the node's ports or port groups carries that network. Ironic's rule for picking one: the port
// (group) named, else a free port group, else a free port (PXE-enabled first) whose
// physical_network matches the network's. Anvil's extension: a port named again for a second
// network becomes a trunk (the first network untagged, the others tagged).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { nextFreeAddress, parseCidr } from '../../../common/ipv4.ts';
import { ProvisionState as S, UNSTABLE_STATES } from '../../../common/states.ts';
import { addressesOnNetwork, attachmentsOfNode, createAttachment, deleteAttachment, findNetwork, networksByIds, type AttachmentRecord, type NetworkRecord } from '../../../db/networks.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { portgroupsOfNode, type PortgroupRecord } from '../../../db/portgroups.ts';
import { portsOfNode, type PortRecord } from '../../../db/ports.ts';
import type { ApiContext } from '../context.ts';
import { noContent } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { isUniqueViolation } from '../validation.ts';
import { requireEndpoint } from '../version.ts';
import { lockedOrChanged } from './nodes.ts';

type Target = { port_id: number | null; portgroup_id: number | null };

const ATTACH_SCHEMA = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 255 }, port_uuid: { type: 'string' }, portgroup_uuid: { type: 'string' } },
};

/** The switch ports' VLANs are set while the node deploys; changing them under an instance is not done (yet). */
function checkState(node: NodeRecord): void {
  if (UNSTABLE_STATES.has(node.provision_state) || node.provision_state === S.ACTIVE || node.provision_state === S.RESCUE) {
    throw new Conflict(`Cannot change the VIFs of node ${node.uuid} in provision state "${node.provision_state}": attach and detach them before deploying or after tearing down`, 'InvalidStateRequested');
  }
}

/** Ironic's vif_attach port choice, with Anvil's trunk extension for an explicitly named port. */
export function chooseTarget(vif: string, network: NetworkRecord, ports: readonly PortRecord[], groups: readonly PortgroupRecord[], attached: readonly AttachmentRecord[], body: { port_uuid?: string; portgroup_uuid?: string }): Target {
  const { port_uuid: portUuid, portgroup_uuid: groupUuid } = body;
  if (portUuid !== undefined) {
    const port = ports.find((p) => p.uuid === portUuid.toLowerCase());
    if (!port) throw new InvalidInput(`Port ${body.port_uuid} is not a port of this node`, 'PortNotFound');
    return { port_id: port.id, portgroup_id: null };
  }
  if (groupUuid !== undefined) {
    const group = groups.find((g) => g.uuid === groupUuid.toLowerCase());
    if (!group) throw new InvalidInput(`Port group ${body.portgroup_uuid} is not a port group of this node`, 'PortgroupNotFound');
    return { port_id: null, portgroup_id: group.id };
  }
  const physnetFits = (physnet: string | null) => !network.physical_network || !physnet || physnet === network.physical_network;
  const freeGroup = groups.find((g) => !attached.some((a) => a.portgroup_id === g.id)
    && ports.some((p) => p.portgroup_id === g.id && physnetFits(p.physical_network)));
  if (freeGroup) return { port_id: null, portgroup_id: freeGroup.id };
  const free = ports.filter((p) => p.portgroup_id === null && !attached.some((a) => a.port_id === p.id) && physnetFits(p.physical_network));
  const port = free.find((p) => p.pxe_enabled) ?? free[0];
  if (!port) throw new InvalidInput(`Unable to attach VIF ${vif}, not enough free physical ports.`, 'NoFreePhysicalPorts');
  return { port_id: port.id, portgroup_id: null };
}

async function writableNode(req: FastifyRequest<{ Params: { ident: string } }>, ctx: ApiContext): Promise<NodeRecord> {
  requireEndpoint(req, 28);
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  if (node.reservation) throw await lockedOrChanged(ctx, node, req.params.ident);
  checkState(node);
  return node;
}

export const nodeVifRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const knex = ctx.db.knex;
  app.get<{ Params: { ident: string } }>('/nodes/:ident/vifs', async (req) => {
    requireEndpoint(req, 28);
    const node = await findNodeOr404(knex, req.params.ident);
    const attached = await attachmentsOfNode(knex, node.id);
    const networks = await networksByIds(knex, attached.map((a) => a.network_id));
    return { vifs: attached.map((a) => ({ id: networks.get(a.network_id)!.uuid })) };
  });
  app.post<{ Params: { ident: string }; Body: { id: string; port_uuid?: string; portgroup_uuid?: string } }>('/nodes/:ident/vifs', { schema: { body: ATTACH_SCHEMA } }, async (req, reply) => {
    const node = await writableNode(req, ctx);
    const network = await findNetwork(knex, req.body.id);
    if (!network) throw new InvalidInput(`Network ${req.body.id} could not be found: a VIF id names an Anvil network (GET /v1/networks)`, 'NetworkNotFound');
    const attached = await attachmentsOfNode(knex, node.id);
    if (attached.some((a) => a.network_id === network.id)) {
      throw new Conflict(`Unable to attach VIF ${network.uuid}: it is already attached to node ${node.uuid}.`, 'VifAlreadyAttached');
    }
    const target = chooseTarget(req.body.id, network, await portsOfNode(knex, node.id), await portgroupsOfNode(knex, node.id), attached, req.body);
    let address: string | null = null;
    if (network.cidr) {
      address = nextFreeAddress(parseCidr(network.cidr), await addressesOnNetwork(knex, network.id), network.gateway) ?? null;
      if (!address) throw new Conflict(`Network ${network.name} has no free address left in ${network.cidr}`, 'NetworkFull');
    }
    await createAttachment(knex, { node_id: node.id, network_id: network.id, ...target, address }).catch((err) => {
      if (isUniqueViolation(err)) throw new Conflict(`VIF ${network.uuid} of node ${node.uuid} was attached concurrently; please retry.`, 'VifAlreadyAttached');
      throw err;
    });
    return noContent(reply);
  });
  app.delete<{ Params: { ident: string; vif: string } }>('/nodes/:ident/vifs/:vif', async (req, reply) => {
    const node = await writableNode(req, ctx);
    const network = await findNetwork(knex, req.params.vif);
    if (!network || !(await deleteAttachment(knex, node.id, network.id))) {
      throw new InvalidInput(`Unable to detach VIF ${req.params.vif} from node ${node.uuid} because it is not attached to it.`, 'VifNotAttached');
    }
    return noContent(reply);
  });
};
