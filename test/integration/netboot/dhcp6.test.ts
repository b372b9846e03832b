// Anvil's DHCPv6 server against real peers in network namespaces: ISC dhclient -6 on a direct link
// and on a routed leaf behind ISC dhcrelay -6 (with INTERFACE-ID), radvd announcing the leaf with the
// managed flag, and the boot files fetched over IPv6 by curl (HTTP) and tftp-hpa (TFTP). The same
// server keeps serving IPv4 on its dual-stack TFTP and HTTP sockets.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLeases6 } from '../../../services/netboot/dhcp6/leases.ts';
import { enrollNode } from './fixtures.ts';
import { canUseNetns } from './netns.ts';
import { DIRECT_SERVER6, HTTP_PORT, SERVER, SERVER6, buildTopology, clientScript, parseEnv, randomMac, type Topology } from './topology.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function waitFor<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('DHCPv6 in network namespaces (routed leaf through dhcrelay -6, and a direct link)', () => {
  let topo: Topology;
  const httpLoader = randomBytes(200 * 1024 + 5);
  const efiLoader = randomBytes(150 * 1024 + 3);

  /** Runs dhclient -6 once on `ifname` of `role` as the given client and returns what its script saw. */
  async function dhclient6(role: string, ifname: string, name: string, conf: string[]): Promise<Record<string, string>> {
    const { script, result } = clientScript(topo.dir, name);
    const cf = path.join(topo.dir, `${name}.conf`);
    writeFileSync(cf, ['timeout 20;', 'also request dhcp6.bootfile-url;', 'also request dhcp6.name-servers;', ...conf, ''].join('\n'));
    topo.ns.spawn(role, ['dhclient', '-6', '-d', '-1', '-cf', cf, '-sf', script, '-lf', path.join(topo.dir, `${name}.leases`), '-pf', path.join(topo.dir, `${name}.pid`), ifname]);
    return parseEnv(await waitFor(`a DHCPv6 lease for ${name}`, 20000, () => (existsSync(result) ? readFileSync(result, 'utf8') : undefined)));
  }

  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    topo = await buildTopology({ ipv6: true });
    writeFileSync(path.join(topo.httpRoot, 'ipxe.efi'), httpLoader);
    writeFileSync(path.join(topo.tftpRoot, 'ipxe.efi'), efiLoader);
    // The leaf router: radvd says "addresses by DHCPv6" (managed flag, no SLAAC), dhcrelay -6 relays to Anvil.
    const radvd = path.join(topo.dir, 'radvd.conf');
    writeFileSync(radvd, 'interface l1 {\n  AdvSendAdvert on;\n  AdvManagedFlag on;\n  AdvOtherConfigFlag on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous off; };\n};\n');
    topo.ns.spawn('leaf', ['radvd', '-n', '-C', radvd, '-p', path.join(topo.dir, 'radvd.pid'), '-m', 'stderr']);
    topo.ns.spawn('leaf', ['dhcrelay', '-6', '-d', '--no-pid', '-I', '-l', 'l1', '-u', `${SERVER6}%l0`]);
    await new Promise((r) => setTimeout(r, 500));
  }, 60000);

  afterAll(async () => {
    await topo?.stop();
  }, 20000);

  it('leases a relayed UEFI HTTP client an address of the leaf with its loader URL, and the node routes by radvd', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'deploying' });
    // Down and up with its new MAC: the node solicits a router advertisement from radvd at once.
    await topo.ns.run('node', ['ip', 'link', 'set', 'n0', 'down']);
    await topo.ns.run('node', ['ip', 'link', 'set', 'n0', 'address', mac, 'up']);
    const env = await dhclient6('node', 'n0', 'relayed6', [
      'option dhcp6.anvil-arch code 61 = unsigned integer 16;',
      'send dhcp6.anvil-arch 16;',
    ]);
    expect(env.new_ip6_address).toMatch(/^2001:db8:1::1[0-9a-f]{2}$/);
    expect(env.new_dhcp6_bootfile_url).toBe(`http://[${SERVER6}]:${HTTP_PORT}/ipxe.efi`);
    expect(env.new_dhcp6_name_servers).toBe('2001:db8:1::1');
    expect(await listLeases6(topo.db.knex)).toContainEqual(expect.objectContaining({ mac, ip: env.new_ip6_address, subnet: 'leaf6', state: 'bound' }));
    // The reply went back through the relay as a RELAY-REPL.
    expect(topo.log()).toMatch(new RegExp(`"mac":"${mac}","subnet":"leaf6","type":"REPLY","to":"2001:db8:ff::2","relayed":true`));

    // radvd's managed-flag announcement gave the node its default route; the loader comes over IPv6.
    const route = await waitFor('a default route from radvd', 20000, async () => {
      const r = await topo.ns.run('node', ['ip', '-6', 'route', 'show', 'default']);
      return r.includes('proto ra') ? r : undefined;
    });
    expect(route).toMatch(/via fe80::\S+ dev n0/);
    const fetched = path.join(topo.dir, 'fetched6.efi');
    await topo.ns.run('node', ['curl', '-sfg', '-o', fetched, env.new_dhcp6_bootfile_url]);
    expect(sha(readFileSync(fetched))).toBe(sha(httpLoader));
    // The same HTTP socket serves the iPXE script to IPv4 and IPv6 clients (the leaf router has both).
    for (const host of [`[${SERVER6}]`, SERVER]) {
      const ipxe = await topo.ns.run('leaf', ['curl', '-sfg', `http://${host}:${HTTP_PORT}/boot/${mac}.ipxe`]);
      expect(ipxe).toContain(`BOOTIF=${mac}`);
    }
  }, 60000);

  it('leases a directly attached UEFI PXE client by its link-local address and serves ipxe.efi over TFTP on IPv6', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'clean wait' });
    await topo.ns.run('dnode', ['ip', 'link', 'set', 'd0', 'address', mac]);
    const env = await dhclient6('dnode', 'd0', 'direct6', [
      'option dhcp6.anvil-arch code 61 = unsigned integer 16;',
      'send dhcp6.anvil-arch 7;',
    ]);
    expect(env.new_ip6_address).toMatch(/^2001:db8:2::(5[0-9a-f]|60)$/);
    expect(env.new_dhcp6_bootfile_url).toBe(`tftp://[${DIRECT_SERVER6}]/ipxe.efi`);
    // DHCPv6 leases a /128; the prefix's on-link route is what a router advertisement gives (radvd runs on the leaf only).
    await topo.ns.run('dnode', ['ip', '-6', 'route', 'replace', '2001:db8:2::/64', 'dev', 'd0']);
    const out = path.join(topo.dir, 'fetched-direct6.efi');
    await topo.ns.run('dnode', ['tftp', '-6', '-m', 'binary', DIRECT_SERVER6, '-c', 'get', 'ipxe.efi', out]);
    expect(sha(readFileSync(out))).toBe(sha(efiLoader));
    expect(await listLeases6(topo.db.knex)).toContainEqual(expect.objectContaining({ mac, ip: env.new_ip6_address, subnet: 'prov6', state: 'bound' }));
  }, 60000);

  it('drops a SOLICIT and a relay message cut short without answering, and keeps answering', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'deploying' });
    const duid = `00030001${mac.replace(/:/g, '')}`;
    const solicit = `01abcdef0001000a${duid}000800020000` + '0003000c000000070000000000000000';
    const relayForw = `0c00${'20010db8000100000000000000000001'}${'fe80000000000000'.padEnd(32, '0')}0009${(solicit.length / 2).toString(16).padStart(4, '0')}${solicit}`;
    const cuts = [solicit.slice(0, 30), relayForw.slice(0, relayForw.length - 10)];
    // Sent from the direct link's client and from the leaf relay's own address; each waits a second for any answer.
    const send = (role: string, target: string, hex: string, sport: number): Promise<string> => topo.ns.run(role, ['python3', '-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
      `s.bind(("::", ${sport}))`,
      's.settimeout(1.0)',
      `s.sendto(bytes.fromhex("${hex}"), ("${target}", 547))`,
      'try:\n  s.recvfrom(2048)\n  print("answered")\nexcept socket.timeout:\n  print("silent")',
    ].join('\n')]);
    const before = (topo.log().match(/malformed DHCPv6 message dropped/g) ?? []).length;
    expect(await send('dnode', 'ff02::1:2%d0', cuts[0], 0)).toBe('silent');
    expect(await send('node', SERVER6, cuts[1], 5547)).toBe('silent');
    const dropped = await waitFor('two malformed drops in the log', 5000, () => {
      const n = (topo.log().match(/malformed DHCPv6 message dropped/g) ?? []).length;
      return n >= before + 2 ? n : undefined;
    });
    expect(dropped).toBe(before + 2);
    expect(topo.log()).toMatch(/"reason":"message: option 1 runs past the end \(10 bytes announced, 7 left\)","msg":"malformed DHCPv6 message dropped"/);
    expect(topo.log()).toMatch(/"reason":"message: option 9 runs past the end \(40 bytes announced, 35 left\)","msg":"malformed DHCPv6 message dropped"/);

    // The whole SOLICIT, unicast from the relay's address as a relay would, is answered.
    expect(await send('node', SERVER6, relayForw, 5547)).toBe('answered');
  }, 30000);
});
