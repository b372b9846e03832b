// The switch plan as a pure function: access ports, trunks of several VIFs, bonds per switch,
// ports without a VIF parked on the isolation VLAN, node-wide networks undoing bonds.
import { describe, expect, it } from 'vitest';
import type { NetworkRecord } from '../../../db/networks.ts';
import type { PortgroupRecord } from '../../../db/portgroups.ts';
import type { PortRecord } from '../../../db/ports.ts';
import { networkConfig } from '../../../drivers/switch/config.ts';
import { isolatedBatch, plan } from '../../../drivers/switch/plan.ts';
import { defaultConfig } from '../../../common/config.ts';

const config = defaultConfig('/tmp');
config.network = { isolationVlan: 999, switches: { s1: { driver: 'fake' }, s2: { driver: 'fake', switchId: '00:00:00:00:00:02' } } };
const cfg = networkConfig(config);
const net = (id: number, vlan: number | null): NetworkRecord => ({ id, uuid: `u${id}`, name: `n${id}`, kind: 'tenant', vlan_id: vlan, physical_network: null, owner: null, mtu: null, cidr: null, gateway: null, extra: {}, created_at: 0, updated_at: null });
const port = (id: number, llc: Record<string, unknown>, portgroup_id: number | null = null) => ({ id, uuid: `p${id}`, address: `52:54:00:00:00:0${id}`, portgroup_id, local_link_connection: llc }) as unknown as PortRecord;
const group = { id: 7, uuid: '12345678-aaaa', name: null, mode: 'active-backup' } as unknown as PortgroupRecord;

describe('switch plan', () => {
  const ports = [port(1, { switch_info: 's1', port_id: 'x1' }), port(2, { switch_id: '00:00:00:00:00:02', port_id: 'y1' }), port(3, { switch_info: 's1', port_id: 'x3' }, 7), port(4, { switch_info: 's1', port_id: 'x4' }, 7), port(5, { switch_info: 's2', port_id: 'y5' })];

  it('makes access ports, trunks, bonds and parks ports without a VIF', () => {
    const vifs = [
      { network: net(1, 10), port_id: 1, portgroup_id: null, address: null },
      { network: net(2, 30), port_id: 2, portgroup_id: null, address: null },
      { network: net(3, 20), port_id: 2, portgroup_id: null, address: null },
      { network: net(4, 40), port_id: null, portgroup_id: 7, address: null },
    ];
    const out = plan({ cfg, ports, portgroups: [group], vifs, purpose: 'tenant' });
    expect(out.get('s1')).toEqual({ ports: [{ port: 'x1', vlans: { untagged: 10, tagged: [] } }], bonds: [{ name: 'bond-12345678', members: ['x3', 'x4'], lacp: false, vlans: { untagged: 40, tagged: [] } }] });
    expect(out.get('s2')).toEqual({ ports: [{ port: 'y1', vlans: { untagged: null, tagged: [20, 30] } }, { port: 'y5', vlans: { untagged: 999, tagged: [] } }], bonds: [] });
  });

  it('puts every port alone on a node-wide network, and refuses networks without a VLAN', () => {
    const out = plan({ cfg, ports, portgroups: [group], vifs: [], purpose: 'cleaning', network: net(9, 110) });
    expect(out.get('s1')!.ports.map((p) => p.port)).toEqual(['x1', 'x3', 'x4']);
    expect(out.get('s1')!.bonds).toEqual([]);
    expect(() => plan({ cfg, ports, portgroups: [], vifs: [], purpose: 'cleaning', network: net(9, null) })).toThrow('has no vlan_id');
    expect(() => plan({ cfg, ports: [port(6, { switch_info: 'nowhere', port_id: 'z' })], portgroups: [], vifs: [], purpose: 'cleaning', network: net(9, 5) })).toThrow('switch nowhere, which is not configured');
  });

  it('parks a batch on the isolation VLAN with its bonds undone', () => {
    expect(isolatedBatch({ ports: [{ port: 'a', vlans: { untagged: 1, tagged: [] } }], bonds: [{ name: 'b', members: ['c', 'd'], lacp: true, vlans: { untagged: 2, tagged: [] } }] }, 999).ports.map((p) => p.port)).toEqual(['a', 'c', 'd']);
  });
});
