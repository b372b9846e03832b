import { describe, expect, it } from 'vitest';
import { anvilConfig, netbootConfig } from './config-fixture.ts';
import { parseNetbootConfig } from '../../../services/netboot/config.ts';
import { InvalidInput } from '../../../common/errors.ts';

const leaf = (over: Record<string, unknown> = {}) => ({ name: 'leaf', cidr: '10.5.0.0/24', range: { start: '10.5.0.10', end: '10.5.0.20' }, ...over });
const bad = (netboot: Record<string, unknown>) => () => parseNetbootConfig(anvilConfig(netboot));

describe('netboot configuration', () => {
  it('fills defaults and derives the HTTP URL from the server address', () => {
    const c = netbootConfig({ http: {} });
    expect(c.dhcp).toMatchObject({ enabled: true, host: '0.0.0.0', port: 67, discovery: false });
    expect(c.tftp).toMatchObject({ port: 69, root: '/tmp/anvil-netboot-test/data/tftpboot' });
    expect(c.http.publicUrl).toBe('http://10.0.0.1:8080');
    expect(c.bootFiles).toEqual({ bios: 'undionly.kpxe', uefi: 'ipxe.efi', uefiArm64: 'ipxe-arm64.efi', httpClient: 'ipxe.efi' });
    expect(c.subnets.map((s) => [s.name, s.direct, s.leaseTime])).toEqual([['prov', true, 600], ['leaf1', false, 1200], ['leaf2', false, 3600]]);
  });

  it('refuses a relayed subnet without a range', () => {
    expect(bad({ subnets: [{ name: 'leaf', cidr: '10.5.0.0/24' }] })).toThrow('netboot.subnets[0] (leaf) has no range: a relayed subnet needs "range: {start, end}"');
  });

  it('refuses overlapping subnets', () => {
    expect(bad({ subnets: [leaf(), leaf({ name: 'wide', cidr: '10.5.0.0/16', range: { start: '10.5.1.10', end: '10.5.1.20' } })] }))
      .toThrow('netboot.subnets: leaf (10.5.0.0/24) and wide (10.5.0.0/16) overlap');
  });

  it('refuses addresses outside the subnet', () => {
    expect(bad({ subnets: [leaf({ range: { start: '10.5.0.10', end: '10.5.1.20' } })] })).toThrow('netboot.subnets[0] (leaf).range.end 10.5.1.20 is outside the subnet 10.5.0.0/24');
    expect(bad({ subnets: [leaf({ router: '10.6.0.1' })] })).toThrow('router 10.6.0.1 is outside the subnet 10.5.0.0/24');
    expect(bad({ subnets: [leaf({ range: { start: '10.5.0.0', end: '10.5.0.20' } })] })).toThrow("range.start 10.5.0.0 is the subnet's network or broadcast address");
  });

  it('refuses other mistakes with messages that name the key', () => {
    expect(bad({ subnets: [leaf({ range: { start: '10.5.0.30', end: '10.5.0.20' } })] })).toThrow('range starts at 10.5.0.30, after its end 10.5.0.20');
    expect(bad({ subnets: [leaf({ router: '10.5.0.15' })] })).toThrow('router 10.5.0.15 lies inside the lease range');
    expect(bad({ subnets: [leaf({ cidr: '10.5.0.0/33' })] })).toThrow('cidr is not an IPv4 CIDR');
    expect(bad({ subnets: [leaf(), leaf({ cidr: '10.6.0.0/24', range: { start: '10.6.0.10', end: '10.6.0.20' } })] })).toThrow('the name "leaf" is used twice');
    expect(bad({ subnets: [leaf({ direct: true }), leaf({ name: 'b', direct: true, cidr: '10.6.0.0/24', range: { start: '10.6.0.10', end: '10.6.0.20' } })] })).toThrow('only one subnet may be direct');
    expect(bad({ subnets: [leaf({ lease: 5 })] })).toThrow('unknown key "lease"');
    expect(bad({ subnets: [leaf({ leaseTime: 5 })] })).toThrow('leaseTime must be an integer from 60');
    expect(bad({ serverAddress: 'tftp.example' })).toThrow('netboot.serverAddress is not an IPv4 address: "tftp.example"');
    expect(bad({ hosts: [{ mac: 'zz:00:00:00:00:00' }] })).toThrow('netboot.hosts[0].mac is not a MAC address');
    expect(bad({ hosts: [{ mac: '52:54:00:00:00:01', purpose: 'boot' }] })).toThrow('purpose must be one of deploy, clean, inspect, rescue');
    expect(bad({ dhcp: { listen: 'nowhere' } })).toThrow('netboot.dhcp.listen must be HOST:PORT');
    expect(bad({ tftp: { timeoutSec: 0 } })).toThrow(InvalidInput);
  });
});
