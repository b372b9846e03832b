// network_data.json from the wiring: a bond of two ports with its mode, options and MTU carrying
// one network untagged with an address from its subnet; a port with two VIFs a trunk with a VLAN
// link each; written into the config drive (read back from the ISO), the request's own
// network_data winning.
import { describe, expect, it } from 'vitest';
import type { NetworkRecord } from '../../../db/networks.ts';
import type { PortgroupRecord } from '../../../db/portgroups.ts';
import type { PortRecord } from '../../../db/ports.ts';
import { buildNetworkData } from '../../../drivers/network-data.ts';
import { configDriveFile, configDriveForDeploy, decodeConfigDrive } from '../../../images/configdrive.ts';

const net = (id: number, fields: Partial<NetworkRecord>): NetworkRecord => ({
  id, uuid: `0000000${id}-0000-4000-8000-000000000000`, name: `n${id}`, kind: 'tenant', vlan_id: null, physical_network: null, owner: null, mtu: null, cidr: null, gateway: null, extra: {}, created_at: 0, updated_at: null, ...fields,
});
const port = (id: number, mac: string, portgroup_id: number | null, name: string | null = null) => ({ id, uuid: `${id}aaaaaaa-0000`, address: mac, portgroup_id, name }) as unknown as PortRecord;
const bond = { id: 9, uuid: 'bbbbbbbb-1111', name: 'bond0', address: null, mode: '802.3ad', properties: { miimon: 100, xmit_hash_policy: 'layer3+4' } } as unknown as PortgroupRecord;
const ports = [port(1, '52:54:00:00:01:01', 9, 'eno1'), port(2, '52:54:00:00:01:02', 9, 'eno2'), port(3, '52:54:00:00:01:03', null, 'eno3')];
const wiring = {
  portgroups: [bond],
  vifs: [
    { network: net(1, { vlan_id: 201, mtu: 9000, cidr: '10.1.0.0/24', gateway: '10.1.0.1' }), port_id: null, portgroup_id: 9, address: '10.1.0.2' },
    { network: net(2, { vlan_id: 300, cidr: '10.3.0.0/28' }), port_id: 3, portgroup_id: null, address: '10.3.0.5' },
    { network: net(3, { vlan_id: 301 }), port_id: 3, portgroup_id: null, address: null },
  ],
};

describe('network_data.json', () => {
  it('describes the bond, the trunk and the addresses', () => {
    const data = buildNetworkData(ports, wiring)!;
    expect(data.links).toEqual([
      { id: 'eno1', type: 'phy', ethernet_mac_address: '52:54:00:00:01:01', mtu: 9000 },
      { id: 'eno2', type: 'phy', ethernet_mac_address: '52:54:00:00:01:02', mtu: 9000 },
      { id: 'bond0', type: 'bond', bond_links: ['eno1', 'eno2'], bond_mode: '802.3ad', ethernet_mac_address: '52:54:00:00:01:01', mtu: 9000, bond_miimon: 100, bond_xmit_hash_policy: 'layer3+4' },
      { id: 'eno3', type: 'phy', ethernet_mac_address: '52:54:00:00:01:03' },
      { id: 'eno3.300', type: 'vlan', vlan_link: 'eno3', vlan_id: 300, vlan_mac_address: '52:54:00:00:01:03' },
      { id: 'eno3.301', type: 'vlan', vlan_link: 'eno3', vlan_id: 301, vlan_mac_address: '52:54:00:00:01:03' },
    ]);
    expect(data.networks).toEqual([
      { id: 'network0', type: 'ipv4', link: 'bond0', ip_address: '10.1.0.2', netmask: '255.255.255.0', network_id: wiring.vifs[0].network.uuid, routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.1.0.1' }] },
      { id: 'network1', type: 'ipv4', link: 'eno3.300', ip_address: '10.3.0.5', netmask: '255.255.255.240', network_id: wiring.vifs[1].network.uuid, routes: [] },
    ]);
    expect(buildNetworkData(ports, { portgroups: [], vifs: [] })).toBeUndefined();
  });

  it('goes into the config drive; the request\'s own network_data wins', async () => {
    const generated = buildNetworkData(ports, wiring)!;
    const node = { uuid: '11111111-2222-4333-8444-555555555555', name: 'n1' };
    const read = async (encoded: string | null) => JSON.parse((await configDriveFile(decodeConfigDrive(encoded!), 'openstack/latest/network_data.json'))!.toString());
    expect(await read(await configDriveForDeploy(undefined, node, generated))).toEqual(generated);
    expect(await read(await configDriveForDeploy({ user_data: '#cloud-config\n' }, node, generated))).toEqual(generated);
    const own = { links: [], networks: [], services: [{ type: 'dns', address: '10.0.0.53' }] };
    expect(await read(await configDriveForDeploy({ network_data: own }, node, generated))).toEqual(own);
  }, 60_000);
});
