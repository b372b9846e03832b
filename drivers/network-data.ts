// network_data.json (OpenStack's config drive network metadata) for a node, from its ports, port
// groups and VIFs, so cloud-init on the instance configures what the switches were set to: a
// port group is a bond link (mode, members, MTU, its properties as bond_ options), a port or bond
// with one VIF carries that network untagged, with several a VLAN link per network (a trunk);
// a network with a subnet gives the attachment's address, netmask and default route.
import { netmask, parseCidr } from '../common/ipv4.ts';
import type { PortgroupRecord } from '../db/portgroups.ts';
import type { PortRecord } from '../db/ports.ts';
import type { NodeWiring, TaskContext, Vif } from './interfaces.ts';

type Json = Record<string, unknown>;

function linkId(kind: 'port' | 'bond', record: { uuid: string; name: string | null }): string {
  return record.name ?? `${kind}-${record.uuid.slice(0, 8)}`;
}

function mtuOf(vifs: readonly Vif[]): number | undefined {
  const mtus = vifs.map((v) => v.network.mtu).filter((m): m is number => m !== null);
  return mtus.length ? Math.max(...mtus) : undefined;
}

/** Bond options from the port group's properties (Ironic's convention: miimon, xmit_hash_policy... become bond_miimon...). */
function bondOptions(group: PortgroupRecord): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(group.properties ?? {})) out[k.startsWith('bond_') ? k : `bond_${k}`] = v;
  return out;
}

export function buildNetworkData(ports: readonly PortRecord[], wiring: Pick<NodeWiring, 'portgroups' | 'vifs'>): Json | undefined {
  if (wiring.vifs.length === 0) return undefined;
  const links: Json[] = [];
  const networks: Json[] = [];
  const carry = (link: string, mac: string | null, vifs: readonly Vif[]) => {
    const trunk = vifs.length > 1;
    for (const vif of vifs) {
      let on = link;
      if (trunk && vif.network.vlan_id !== null) {
        on = `${link}.${vif.network.vlan_id}`;
        links.push({ id: on, type: 'vlan', vlan_link: link, vlan_id: vif.network.vlan_id, vlan_mac_address: mac, ...(vif.network.mtu ? { mtu: vif.network.mtu } : {}) });
      }
      if (!vif.network.cidr || !vif.address) continue;
      const subnet = parseCidr(vif.network.cidr);
      networks.push({
        id: `network${networks.length}`, type: 'ipv4', link: on, ip_address: vif.address, netmask: netmask(subnet.prefix), network_id: vif.network.uuid,
        routes: vif.network.gateway ? [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: vif.network.gateway }] : [],
      });
    }
  };
  for (const group of wiring.portgroups) {
    const vifs = wiring.vifs.filter((v) => v.portgroup_id === group.id);
    const members = ports.filter((p) => p.portgroup_id === group.id);
    if (vifs.length === 0 || members.length === 0) continue;
    const mtu = mtuOf(vifs);
    for (const m of members) links.push({ id: linkId('port', m), type: 'phy', ethernet_mac_address: m.address, ...(mtu ? { mtu } : {}) });
    const id = linkId('bond', group);
    const mac = group.address ?? members[0].address;
    links.push({
      id, type: 'bond', bond_links: members.map((m) => linkId('port', m)), bond_mode: group.mode ?? 'active-backup', ethernet_mac_address: mac,
      ...(mtu ? { mtu } : {}), ...bondOptions(group),
    });
    carry(id, mac, vifs);
  }
  for (const port of ports) {
    const vifs = wiring.vifs.filter((v) => v.port_id === port.id);
    if (vifs.length === 0) continue;
    const mtu = mtuOf(vifs);
    const id = linkId('port', port);
    links.push({ id, type: 'phy', ethernet_mac_address: port.address, ...(mtu ? { mtu } : {}) });
    carry(id, port.address, vifs);
  }
  return { links, networks, services: [] };
}

/**
 * The network_data a deploy's config drive gets when the request's own has none: the node's
 * network_data field (API 1.66) if set, else the one built from its VIFs.
 */
export async function nodeNetworkData(ctx: TaskContext): Promise<Json | undefined> {
  if (Object.keys(ctx.node.network_data ?? {}).length > 0) return ctx.node.network_data;
  if (!ctx.wiring) return undefined;
  return buildNetworkData(ctx.ports, await ctx.wiring());
}
