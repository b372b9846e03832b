// Trait-based networking at deploy (Ironic 1.111) for the switch network interface: as the node
// starts deploying, its VIFs are put on the ports and port groups the instance's traits
// (instance_info.traits) choose, bonding ports into dynamic port groups where a trait says so;
// the switch and network_data.json then follow the VIFs as they would VIFs attached by hand.
// A node whose instance names none of the configured traits keeps its VIFs where they are.
import { DriverError } from '../../common/errors.ts';
import { planNetworks, traitsForInstance, type PlanPort, type PlanPortgroup } from '../../common/trait-networking/planner.ts';
import type { NetworkTrait } from '../../common/trait-networking/traits-config.ts';
import type { PortRecord } from '../../db/ports.ts';
import type { NodeWiring, TaskContext } from '../interfaces.ts';

function instanceTraits(ctx: TaskContext): string[] {
  const traits = ctx.node.instance_info.traits;
  return Array.isArray(traits) ? traits.filter((t): t is string => typeof t === 'string') : [];
}

const planPort = (p: PortRecord, groupUuid: (id: number) => string): PlanPort => ({
  kind: 'port', id: p.id, uuid: p.uuid, address: p.address, category: p.category, physical_network: p.physical_network, vendor: p.vendor,
  portgroupUuid: p.portgroup_id === null ? null : groupUuid(p.portgroup_id), availableForDynamicPortgroup: p.available_for_dynamic_portgroup,
});

function tagsOf(extra: Record<string, unknown>): string[] {
  return Array.isArray(extra.tags) ? extra.tags.filter((t): t is string => typeof t === 'string') : [];
}

/** Undoes an earlier placement's dynamic port groups (a redeploy places anew) and places the VIFs. */
export async function placeByTraits(ctx: TaskContext, wiring: NodeWiring, configured: readonly NetworkTrait[]): Promise<void> {
  const traits = traitsForInstance(configured, instanceTraits(ctx));
  if (traits.length === 0) return;
  await wiring.removeDynamicPortgroups();
  const [ports, fresh] = [await wiring.currentPorts(), await ctx.wiring!()];
  const groupUuids = new Map(fresh.portgroups.map((g) => [g.id, g.uuid]));
  const plan = planNetworks(
    traits,
    ports.map((p) => planPort(p, (id) => groupUuids.get(id)!)),
    fresh.portgroups.map((g): PlanPortgroup => ({ kind: 'portgroup', id: g.id, uuid: g.uuid, address: g.address, category: g.category, physical_network: g.physical_network, vendor: null })),
    fresh.vifs.map((v) => ({ uuid: v.network.uuid, name: v.network.name, tags: tagsOf(v.network.extra) })),
  );
  const names = traits.map((t) => t.name).join(', ');
  const networkName = (uuid: string) => fresh.vifs.find((v) => v.network.uuid === uuid)!.network.name;
  if (plan.unplaced.length > 0) {
    throw new DriverError(`Trait-based networking (${names}) found no port for ${plan.unplaced.map((u) => `network ${networkName(u.network)} (${u.reason})`).join('; ')}`, 'NoFreePhysicalPorts');
  }
  const portByUuid = new Map(ports.map((p) => [p.uuid, p]));
  const placed: string[] = [];
  for (const a of plan.attachments) {
    const network = fresh.vifs.find((v) => v.network.uuid === a.network)!.network;
    if (a.action === 'group_and_attach_ports') {
      const members = a.ports.map((uuid) => portByUuid.get(uuid)!);
      const groupId = await wiring.createDynamicPortgroup(members.map((m) => m.id), a.physicalNetwork);
      await wiring.moveVif(network.id, { port_id: null, portgroup_id: groupId });
      placed.push(`${network.name} on a dynamic LACP port group of ${members.map((m) => m.address).join(', ')} (${a.trait})`);
    } else if (a.action === 'attach_port') {
      const port = portByUuid.get(a.port)!;
      await wiring.moveVif(network.id, { port_id: port.id, portgroup_id: null });
      placed.push(`${network.name} on port ${port.address} (${a.trait})`);
    } else {
      const group = fresh.portgroups.find((g) => g.uuid === a.portgroup)!;
      await wiring.moveVif(network.id, { port_id: null, portgroup_id: group.id });
      placed.push(`${network.name} on port group ${group.name ?? group.uuid} (${a.trait})`);
    }
  }
  await ctx.note(`Trait-based networking (${names}): ${placed.join('; ') || 'no VIFs'}`);
}
