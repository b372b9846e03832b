// The DHCP-less ramdisk's network script as init.sh runs it, with busybox's ip (as in the ramdisk),
// inside a network namespace: a static IPv4 and IPv6 address with routes on the NIC network_data
// names by MAC, and DNS, reachable from the peer; a configuration naming no NIC of the machine fails saying so.
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNamespaces, type Namespaces } from '../netboot/netns.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../../ramdisk/static-network.ts');
const MAC = '52:54:00:5a:00:01';

describe('static network in a namespace', () => {
  let ns: Namespaces;
  let dir: string;
  let iproute2: string;
  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    iproute2 = (await execa('sh', ['-c', 'command -v ip'])).stdout;
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-static-net-'));
    await symlink((await execa('sh', ['-c', 'command -v busybox'])).stdout, path.join(dir, 'ip'));
    ns = createNamespaces();
    await ns.add('node');
    await ns.add('peer');
    await ns.link({ role: 'node', ifname: 'ens3', mac: MAC }, { role: 'peer', ifname: 'p0', addr: '192.0.2.1/24' });
    await ns.run('peer', ['ip', '-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'p0', 'nodad']);
  });
  afterAll(async () => {
    await ns?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const apply = async (data: unknown) => {
    await writeFile(path.join(dir, 'network_data.json'), JSON.stringify(data));
    // iproute2 enters the namespace; inside, `ip` is busybox's, as in the ramdisk.
    return execa(iproute2, ['netns', 'exec', ns.name('node'), process.execPath, '--import', 'tsx', SCRIPT, path.join(dir, 'network_data.json'), path.join(dir, 'resolv.conf')], {
      env: { PATH: `${dir}:${process.env.PATH}` }, reject: false, all: true,
    });
  };

  it('configures the NIC named by MAC with IPv4, IPv6, routes and DNS', async () => {
    const run = await apply({
      links: [{ id: 'prov', type: 'phy', ethernet_mac_address: MAC.toUpperCase(), mtu: 1400 }],
      networks: [
        { id: 'v4', type: 'ipv4', link: 'prov', ip_address: '192.0.2.10', netmask: '255.255.255.0', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.0.2.1' }] },
        { id: 'v6', type: 'ipv6', link: 'prov', ip_address: '2001:db8::10/64', routes: [{ network: '2001:db8:1::', netmask: '48', gateway: '2001:db8::1' }] },
      ],
      services: [{ type: 'dns', address: '192.0.2.53' }],
    });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain('static network: ip -4 addr add 192.0.2.10/24 dev ens3');
    const addrs = await ns.run('node', ['ip', '-o', 'addr', 'show', 'dev', 'ens3']);
    expect(addrs).toContain('inet 192.0.2.10/24');
    expect(addrs).toContain('inet6 2001:db8::10/64');
    expect(await ns.run('node', ['ip', 'link', 'show', 'ens3'])).toContain('mtu 1400');
    expect(await ns.run('node', ['ip', 'route', 'show', 'default'])).toContain('default via 192.0.2.1 dev ens3');
    expect(await ns.run('node', ['ip', '-6', 'route', 'show', '2001:db8:1::/48'])).toContain('via 2001:db8::1 dev ens3');
    expect(await readFile(path.join(dir, 'resolv.conf'), 'utf8')).toBe('nameserver 192.0.2.53\n');
    await ns.run('peer', ['busybox', 'ping', '-c', '1', '-W', '5', '192.0.2.10']);
  });

  it('fails, naming the link, when no NIC has its MAC', async () => {
    const run = await apply({ links: [{ id: 'gone', type: 'phy', ethernet_mac_address: '52:54:00:5a:00:99' }] });
    expect(run.exitCode).toBe(1);
    expect(run.all).toContain('static network: failed: network_data link gone (52:54:00:5a:00:99) matches no NIC of this machine (ens3 52:54:00:5a:00:01)');
  });
});
