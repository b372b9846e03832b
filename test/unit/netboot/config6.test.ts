import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../common/errors.ts';
import { parseNetbootConfig } from '../../../services/netboot/config.ts';
import { SERVER_DUID_FILE, serverDuid } from '../../../services/netboot/dhcp6/server-duid.ts';
import { anvilConfig, netbootConfig } from './config-fixture.ts';

const leaf6 = (over: Record<string, unknown> = {}) => ({ name: 'leaf6', prefix: '2001:DB8:1:0::/64', range: { start: '2001:db8:1::10', end: '2001:db8:1::ff' }, ...over });
const bad = (netboot: Record<string, unknown>) => () => parseNetbootConfig(anvilConfig({ serverAddress6: '2001:db8::1', ...netboot }));

describe('netboot DHCPv6 configuration', () => {
  it('leaves DHCPv6 off without subnets6, and fills defaults when there are some', () => {
    expect(netbootConfig().dhcp6.enabled).toBe(false);
    const c = netbootConfig({ serverAddress6: '2001:DB8::0001', subnets6: [leaf6(), leaf6({ name: 'prov6', prefix: '2001:db8::/64', interface: 'eth1', range: { start: '2001:db8::10', end: '2001:db8::20' } })] });
    expect(c.serverAddress6).toBe('2001:db8::1');
    expect(c.dhcp6).toEqual({ enabled: true, host: '::', port: 547, interfaces: ['eth1'], serverDuid: undefined, offerSeconds: 30, rapidCommit: true });
    expect(c.subnets6[0]).toEqual({ name: 'leaf6', prefix: '2001:db8:1::/64', interface: undefined, range: { start: '2001:db8:1::10', end: '2001:db8:1::ff' }, dns: [], ntp: [], preferredLifetime: 3600, validLifetime: 7200, serverAddress: undefined });
  });

  it.each([
    [{ subnets6: [leaf6({ prefix: '10.0.0.0/24' })] }, 'netboot.subnets6[0] (leaf6).prefix is not an IPv6 prefix such as 2001:db8:1::/64: "10.0.0.0/24"'],
    [{ subnets6: [leaf6({ range: undefined })] }, 'netboot.subnets6[0] (leaf6) needs "range: {start, end}"'],
    [{ subnets6: [leaf6({ range: { start: '2001:db8:2::1', end: '2001:db8:1::ff' } })] }, 'range.start 2001:db8:2::1 is outside the prefix'],
    [{ subnets6: [leaf6({ range: { start: '2001:db8:1::ff', end: '2001:db8:1::10' } })] }, 'starts at 2001:db8:1::ff, after its end 2001:db8:1::10'],
    [{ subnets6: [leaf6({ dns: ['10.0.0.53'] })] }, 'dns must be a list of IPv6 addresses'],
    [{ subnets6: [leaf6({ preferredLifetime: 900, validLifetime: 600 })] }, 'validLifetime 600 is shorter than preferredLifetime 900'],
    [{ subnets6: [leaf6(), leaf6({ name: 'other', prefix: '2001:db8:1::/48', range: { start: '2001:db8:1::1', end: '2001:db8:1::2' } })] }, 'leaf6 (2001:db8:1::/64) and other (2001:db8:1::/48) overlap'],
    [{ subnets6: [leaf6({ interface: 'eth1' }), leaf6({ name: 'b', prefix: '2001:db8:2::/64', interface: 'eth1', range: { start: '2001:db8:2::1', end: '2001:db8:2::2' } })] }, 'leaf6 and b are both on interface eth1'],
    [{ serverAddress6: undefined, subnets6: [leaf6()] }, 'has no serverAddress and netboot.serverAddress6 is not set'],
    [{ dhcp6: { serverDuid: 'zz' } }, 'netboot.dhcp6.serverDuid must be 3 to 130 bytes of hex'],
    [{ dhcp6: { bogus: 1 } }, 'netboot.dhcp6: unknown key "bogus"'],
  ])('refuses %j', (netboot, message) => {
    expect(bad(netboot)).toThrow(InvalidInput);
    expect(bad(netboot)).toThrow(message);
  });

  it('keeps one server DUID per data directory, unless the config names one', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-duid-'));
    try {
      const made = serverDuid(undefined, dir);
      expect(made.readUInt16BE(0)).toBe(4);
      expect(made.length).toBe(18);
      expect(serverDuid(undefined, dir)).toEqual(made);
      expect(readFileSync(path.join(dir, SERVER_DUID_FILE), 'utf8').trim()).toBe(made.toString('hex'));
      expect(serverDuid('000300015254001234ab', dir)).toEqual(Buffer.from('000300015254001234ab', 'hex'));
      writeFileSync(path.join(dir, SERVER_DUID_FILE), 'nonsense');
      expect(() => serverDuid(undefined, dir)).toThrow(/holds no DUID/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
