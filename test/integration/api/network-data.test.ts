// A node's network_data (1.66) is checked before it is stored: a DHCP-less boot configures the
// ramdisk from it, so what would not configure is refused with 400 and says what is wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

const STATIC = {
  links: [
    { id: 'eth0', type: 'phy', ethernet_mac_address: '52:54:00:12:34:56', mtu: 1500 },
    { id: 'eth1', type: 'phy', ethernet_mac_address: '52:54:00:12:34:57' },
    { id: 'bond0', type: 'bond', bond_links: ['eth0', 'eth1'], bond_mode: '802.3ad', bond_miimon: 100 },
    { id: 'bond0.42', type: 'vlan', vlan_link: 'bond0', vlan_id: 42 },
  ],
  networks: [
    { id: 'v4', type: 'ipv4', link: 'bond0.42', ip_address: '192.0.2.10', netmask: '255.255.255.0', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.0.2.1' }] },
    { id: 'v6', type: 'ipv6', link: 'bond0.42', ip_address: '2001:db8::10/64', routes: [{ network: '::', netmask: '::', gateway: '2001:db8::1' }] },
  ],
  services: [{ type: 'dns', address: '192.0.2.53' }],
};

describe.each(BACKENDS)('node network_data on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  it('stores a static configuration with a bond, a VLAN, IPv4 and IPv6, and an empty one', async () => {
    const n = await createNode(h, { name: `nd-ok-${backend}`, network_data: STATIC });
    expect(n.network_data).toEqual(STATIC);
    const cleared = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'replace', path: '/network_data', value: {} }]);
    expect(cleared.status, cleared.raw).toBe(200);
    expect(cleared.body.network_data).toEqual({});
  });

  it.each([
    ['a network on no link', { ...STATIC, networks: [{ ...STATIC.networks[0], link: 'eth9' }] }, /\/networks\/0 \(v4\) is on link eth9, which is not among the links/],
    ['an unknown network type', { ...STATIC, networks: [{ ...STATIC.networks[0], type: 'ipv5' }] }, /\/networks\/0\/type must be equal to one of the allowed values \(ipv4, ipv6/],
    ['an IPv4 address without a prefix', { ...STATIC, networks: [{ id: 'x', type: 'ipv4', link: 'eth0', ip_address: '192.0.2.10' }] }, /needs an IPv4 ip_address with a prefix/],
    ['an IPv6 address on an ipv4 network', { ...STATIC, networks: [{ id: 'x', type: 'ipv4', link: 'eth0', ip_address: '2001:db8::1', netmask: '255.255.255.0' }] }, /needs an IPv4 ip_address/],
    ['a netmask with holes', { ...STATIC, networks: [{ id: 'x', type: 'ipv4', link: 'eth0', ip_address: '192.0.2.10', netmask: '255.0.255.0' }] }, /needs an IPv4 ip_address with a prefix/],
    ['a VLAN without an id', { links: [{ id: 'eth0', type: 'phy' }, { id: 'v', type: 'vlan', vlan_link: 'eth0' }] }, /\/links\/1 must have required property 'vlan_id'/],
    ['a bond of an unknown NIC', { links: [{ id: 'b', type: 'bond', bond_links: ['eth7'] }] }, /\/links\/0 \(b\) refers to link eth7/],
    ['a bad MAC', { links: [{ id: 'eth0', type: 'phy', ethernet_mac_address: '52:54:00' }] }, /ethernet_mac_address must match pattern/],
    ['a route to a name', { ...STATIC, networks: [{ ...STATIC.networks[0], routes: [{ network: '0.0.0.0', netmask: '0', gateway: 'router' }] }] }, /routes\/0 needs IP addresses/],
    ['a DNS server by name', { ...STATIC, services: [{ type: 'dns', address: 'ns.example' }] }, /\/services\/0 is a dns service at "ns.example", which is no IP address/],
    ['links that are not a list', { links: { id: 'eth0' } }, /\/links must be array/],
  ])('refuses %s with 400 (create and PATCH)', async (_what, bad, message) => {
    const created = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', network_data: bad });
    expect(created.status, created.raw).toBe(400);
    expect(fault(created)).toMatch(message);
    const n = await createNode(h);
    const patched = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/network_data', value: bad }]);
    expect(patched.status, patched.raw).toBe(400);
    expect(fault(patched)).toMatch(message);
    expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).body.network_data).toEqual({});
  });
});
