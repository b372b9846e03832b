// What each switch should carry for a node, as a pure function of its ports, port groups, VIFs and
// the purpose (rules as data, no I/O). On a node-wide network (provisioning, cleaning...) every
// port is an access port of that network's VLAN and bonds are undone, so the ramdisk can PXE boot
// from any NIC. On the tenant networks a port (group) with one VIF is an access port of its VLAN,
// with several a trunk of all of them, a port group a bond (LACP for 802.3ad) on each switch it
// spans; a port without a VIF is parked on the isolation VLAN.
import { InvalidInput } from '../../common/errors.ts';
import type { NetworkRecord } from '../../db/networks.ts';
import type { PortgroupRecord } from '../../db/portgroups.ts';
import type { PortRecord } from '../../db/ports.ts';
import type { Vif } from '../interfaces.ts';
import { switchOfPort, type NetworkConfig, type Purpose } from './config.ts';
import type { BondSetting, PortSetting, SwitchBatch, VlanSetting } from './types.ts';

/** Where a port is plugged, from its local_link_connection; throws naming the port when it does not say. */
export function linkOf(port: PortRecord): { llc: Record<string, unknown>; portId: string } {
  const llc = port.local_link_connection ?? {};
  const portId = typeof llc.port_id === 'string' && llc.port_id ? llc.port_id : undefined;
  if (!portId || (llc.switch_info === undefined && llc.switch_id === undefined)) {
    throw new InvalidInput(`Port ${port.uuid} (${port.address}) has no local_link_connection with switch_info or switch_id and port_id: the switch network interface cannot tell where it is plugged`);
  }
  return { llc, portId };
}

/** A port's configured switch and its port there. */
export function portLocation(cfg: NetworkConfig, port: PortRecord): { switchName: string; portId: string } {
  const { llc, portId } = linkOf(port);
  const sw = switchOfPort(cfg, llc);
  if (!sw) throw new InvalidInput(`Port ${port.uuid} (${port.address}) is plugged into switch ${String(llc.switch_info ?? llc.switch_id)}, which is not configured (network.switches)`);
  return { switchName: sw.name, portId };
}

function vlanOf(network: NetworkRecord): number {
  if (network.vlan_id === null) throw new InvalidInput(`Network ${network.name} has no vlan_id: the switch network interface puts ports on VLANs`);
  return network.vlan_id;
}

function vlansFor(networks: readonly NetworkRecord[]): VlanSetting {
  if (networks.length === 1) return { untagged: vlanOf(networks[0]), tagged: [] };
  return { untagged: null, tagged: [...new Set(networks.map(vlanOf))].sort((a, b) => a - b) };
}

/** The switch-side name of a node's bond. */
export function bondName(group: PortgroupRecord): string {
  return group.name ?? `bond-${group.uuid.slice(0, 8)}`;
}

export interface PlanInput {
  cfg: NetworkConfig;
  ports: readonly PortRecord[];
  portgroups: readonly PortgroupRecord[];
  vifs: readonly Vif[];
  purpose: Purpose;
  /** The node-wide network of the purpose (unused for tenant). */
  network?: NetworkRecord;
}

export function plan(input: PlanInput): Map<string, SwitchBatch> {
  const { cfg, ports, portgroups, vifs, purpose } = input;
  const out = new Map<string, { ports: PortSetting[]; bonds: BondSetting[] }>();
  const batch = (name: string) => out.get(name) ?? out.set(name, { ports: [], bonds: [] }).get(name)!;
  const located = ports.map((p) => ({ port: p, ...portLocation(cfg, p) }));
  if (purpose !== 'tenant') {
    const access = { untagged: vlanOf(input.network!), tagged: [] };
    for (const l of located) batch(l.switchName).ports.push({ port: l.portId, vlans: access });
    return out;
  }
  const isolated: VlanSetting = { untagged: cfg.isolationVlan, tagged: [] };
  for (const group of portgroups) {
    const members = located.filter((l) => l.port.portgroup_id === group.id);
    const nets = vifs.filter((v) => v.portgroup_id === group.id).map((v) => v.network);
    if (members.length === 0 || nets.length === 0) continue;
    const vlans = vlansFor(nets);
    for (const sw of new Set(members.map((m) => m.switchName))) {
      batch(sw).bonds.push({ name: bondName(group), members: members.filter((m) => m.switchName === sw).map((m) => m.portId), lacp: group.mode === '802.3ad' || group.mode === '4', vlans });
    }
  }
  for (const l of located) {
    const group = l.port.portgroup_id;
    if (group !== null && vifs.some((v) => v.portgroup_id === group)) continue;
    const nets = vifs.filter((v) => v.port_id === l.port.id).map((v) => v.network);
    batch(l.switchName).ports.push({ port: l.portId, vlans: nets.length ? vlansFor(nets) : isolated });
  }
  return out;
}

/** The same ports parked on the isolation VLAN, bonds undone: the undo of a change with no known earlier state. */
export function isolatedBatch(batch: SwitchBatch, vlan: number): SwitchBatch {
  const vlans = { untagged: vlan, tagged: [] };
  return { ports: [...batch.ports.map((p) => p.port), ...batch.bonds.flatMap((b) => b.members)].map((port) => ({ port, vlans })), bonds: [] };
}
