// The DHCP-less ramdisk's plan from network_data: NICs by MAC, bonds through sysfs (mode before
// members), VLANs on bonds, static IPv4/IPv6 with routes, DHCP and SLAAC links, DNS; bad input refused.
import { describe, expect, it } from 'vitest';
import { planNetwork } from '../../../ramdisk/static-network.ts';

const NICS = [{ name: 'enp1s0', mac: '52:54:00:00:00:01' }, { name: 'enp2s0', mac: '52:54:00:00:00:02' }, { name: 'enp3s0', mac: '52:54:00:00:00:03' }];

describe('static network plan', () => {
  it('builds a bond of two NICs with a VLAN on it, IPv4 and IPv6 with routes, and DNS', () => {
    const plan = planNetwork({
      links: [
        { id: 'vlan-link-with-a-long-name', type: 'vlan', vlan_link: 'bond0', vlan_id: 42, mtu: 9000 },
        { id: 'bond0', type: 'bond', bond_links: ['a', 'b'], bond_mode: '802.3ad', bond_miimon: 100, bond_xmit_hash_policy: 'layer3+4', mtu: 9000 },
        { id: 'a', type: 'phy', ethernet_mac_address: '52:54:00:00:00:01' },
        { id: 'b', type: 'phy', ethernet_mac_address: '52:54:00:00:00:02' },
      ],
      networks: [
        { id: 'n4', type: 'ipv4', link: 'vlan-link-with-a-long-name', ip_address: '192.0.2.10', netmask: '255.255.255.0', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.0.2.1' }, { network: '198.51.100.0', netmask: '255.255.255.0', gateway: '192.0.2.2' }], dns_nameservers: ['192.0.2.53'] },
        { id: 'n6', type: 'ipv6', link: 'vlan-link-with-a-long-name', ip_address: '2001:db8::10', netmask: 'ffff:ffff:ffff:ffff::', routes: [{ network: '::', netmask: '::', gateway: '2001:db8::1' }] },
      ],
      services: [{ type: 'dns', address: '2001:db8::53' }, { type: 'dns', address: '192.0.2.53' }],
    }, NICS);
    expect(plan.steps).toEqual([
      { run: ['modprobe', 'bonding', 'max_bonds=0'] },
      { run: ['ip', 'link', 'add', 'name', 'bond0', 'type', 'bond'] },
      { write: '/sys/class/net/bond0/bonding/mode', value: '802.3ad' },
      { write: '/sys/class/net/bond0/bonding/miimon', value: '100' },
      { write: '/sys/class/net/bond0/bonding/xmit_hash_policy', value: 'layer3+4' },
      { run: ['ip', 'link', 'set', 'dev', 'enp1s0', 'down'] },
      { write: '/sys/class/net/bond0/bonding/slaves', value: '+enp1s0' },
      { run: ['ip', 'link', 'set', 'dev', 'enp2s0', 'down'] },
      { write: '/sys/class/net/bond0/bonding/slaves', value: '+enp2s0' },
      { run: ['ip', 'link', 'set', 'dev', 'bond0', 'mtu', '9000'] },
      { run: ['modprobe', '8021q'] },
      { run: ['ip', 'link', 'add', 'link', 'bond0', 'name', 'vlan0', 'type', 'vlan', 'id', '42'] },
      { run: ['ip', 'link', 'set', 'dev', 'vlan0', 'mtu', '9000'] },
      { run: ['ip', 'link', 'set', 'dev', 'enp1s0', 'up'] },
      { run: ['ip', 'link', 'set', 'dev', 'enp2s0', 'up'] },
      { run: ['ip', 'link', 'set', 'dev', 'bond0', 'up'] },
      { run: ['ip', 'link', 'set', 'dev', 'vlan0', 'up'] },
      { run: ['ip', '-4', 'addr', 'add', '192.0.2.10/24', 'dev', 'vlan0'] },
      { run: ['ip', '-4', 'route', 'replace', 'default', 'via', '192.0.2.1', 'dev', 'vlan0'] },
      { run: ['ip', '-4', 'route', 'replace', '198.51.100.0/24', 'via', '192.0.2.2', 'dev', 'vlan0'] },
      { run: ['ip', '-6', 'addr', 'add', '2001:db8::10/64', 'dev', 'vlan0'] },
      { run: ['ip', '-6', 'route', 'replace', 'default', 'via', '2001:db8::1', 'dev', 'vlan0'] },
    ]);
    expect(plan.resolv).toBe('nameserver 192.0.2.53\nnameserver 2001:db8::53\n');
  });

  it('runs udhcpc for an ipv4_dhcp network and leaves SLAAC to the kernel', () => {
    const plan = planNetwork({
      links: [{ id: 'p', type: 'phy', ethernet_mac_address: '52:54:00:00:00:03' }],
      networks: [{ id: 'd', type: 'ipv4_dhcp', link: 'p' }, { id: 's', type: 'ipv6_slaac', link: 'p' }],
    }, NICS);
    expect(plan.steps).toEqual([
      { run: ['ip', 'link', 'set', 'dev', 'enp3s0', 'up'] },
      { run: ['udhcpc', '-i', 'enp3s0', '-s', '/etc/anvil/udhcpc.sh', '-n', '-q', '-t', '6', '-T', '2'] },
    ]);
    expect(plan.resolv).toBe('');
  });

  it('runs ramdisk/dhcp6.sh for the DHCPv6 network types: stateful for ipv6_dhcp and -stateful, DNS only for -stateless', () => {
    const plan = planNetwork({
      links: [{ id: 'p', type: 'phy', ethernet_mac_address: '52:54:00:00:00:03' }, { id: 'q', type: 'phy', ethernet_mac_address: '52:54:00:00:00:02' }],
      networks: [{ id: 'a', type: 'ipv6_dhcpv6-stateful', link: 'p' }, { id: 'b', type: 'ipv6_dhcpv6-stateless', link: 'q' }, { id: 'c', type: 'ipv6_dhcp', link: 'q' }],
    }, NICS);
    expect(plan.steps.slice(2)).toEqual([
      { run: ['/etc/anvil/dhcp6.sh', 'enp3s0', 'stateful'] },
      { run: ['/etc/anvil/dhcp6.sh', 'enp2s0', 'stateless'] },
      { run: ['/etc/anvil/dhcp6.sh', 'enp2s0', 'stateful'] },
    ]);
  });

  it('refuses a link whose MAC no NIC has, and network_data that does not validate', () => {
    expect(() => planNetwork({ links: [{ id: 'p', type: 'phy', ethernet_mac_address: '52:54:00:00:00:09' }] }, NICS))
      .toThrow('network_data link p (52:54:00:00:00:09) matches no NIC of this machine (enp1s0 52:54:00:00:00:01, enp2s0 52:54:00:00:00:02, enp3s0 52:54:00:00:00:03)');
    expect(() => planNetwork({ networks: [{ id: 'x', type: 'ipv4', link: 'p', ip_address: '10.0.0.1/24' }] } as never, NICS)).toThrow('is on link p, which is not among the links');
  });
});
