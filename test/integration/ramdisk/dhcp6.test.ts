// The ramdisk's DHCPv6 (ramdisk/dhcp6.sh with ISC dhclient -6 and its hook), run as init.sh runs it
// (busybox's awk, ip, grep, sleep and dirname first on PATH, for the hook too), in network namespaces: the peer sends router
// advertisements with the managed flag (radvd) and serves DHCPv6 (dnsmasq); the node gets its
// address from the range and the DNS server, with DUID-LL (its MAC) as client id; stateless asks
// for DNS only; a link with no DHCPv6 server makes it give up with a non-zero status.
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNamespaces, type Namespaces } from '../netboot/netns.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../../ramdisk/dhcp6.sh');
const MAC = '52:54:00:5a:06:01';

describe('DHCPv6 in the ramdisk', () => {
  let ns: Namespaces;
  let dir: string;
  let iproute2: string;
  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    iproute2 = (await execa('sh', ['-c', 'command -v ip'])).stdout;
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-dhcp6-'));
    const busybox = (await execa('sh', ['-c', 'command -v busybox'])).stdout;
    await execa('mkdir', [path.join(dir, 'bin')]);
    for (const applet of ['awk', 'sleep', 'dirname', 'ip', 'grep']) await symlink(busybox, path.join(dir, 'bin', applet));
    ns = createNamespaces();
    await ns.add('node');
    await ns.add('peer');
    await ns.add('quiet');
    await ns.link({ role: 'node', ifname: 'ens3', mac: MAC }, { role: 'peer', ifname: 'p0' });
    await ns.link({ role: 'node', ifname: 'ens4' }, { role: 'quiet', ifname: 'q0' });
    await ns.run('peer', ['ip', '-6', 'addr', 'add', '2001:db8:5a::1/64', 'dev', 'p0', 'nodad']);
    await writeFile(path.join(dir, 'radvd.conf'), 'interface p0 {\n  AdvSendAdvert on;\n  AdvManagedFlag on;\n  AdvOtherConfigFlag on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  prefix 2001:db8:5a::/64 { AdvAutonomous off; AdvOnLink on; };\n};\n');
    await ns.run('peer', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    ns.spawn('peer', ['radvd', '-n', '-C', path.join(dir, 'radvd.conf'), '-p', path.join(dir, 'radvd.pid'), '-m', 'stderr']);
    ns.spawn('peer', [
      'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--interface=p0', '--bind-interfaces',
      `--dhcp-leasefile=${path.join(dir, 'dnsmasq.leases')}`, `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
      '--dhcp-range=2001:db8:5a::100,2001:db8:5a::1ff,64,1h', '--dhcp-option=option6:dns-server,[2001:db8:5a::53]', '--log-dhcp',
    ]);
  }, 30_000);
  afterAll(async () => {
    // dhclient stayed in the background to renew: stop the ones these tests started, by their pid files.
    for (const dev of ['ens3', 'ens4']) {
      const pid = Number(await readFile(path.join(dir, `dhclient6.${dev}.pid`), 'utf8').catch(() => '0'));
      // A later dhclient on the same pid file ends the earlier one itself: ESRCH is fine.
      if (pid > 0) try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    }
    await ns?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const dhcp6 = (dev: string, mode: string) => execa(iproute2, ['netns', 'exec', ns.name('node'), SCRIPT, dev, mode], {
    env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, RUNDIR: dir, RESOLV_CONF: path.join(dir, `resolv.${mode}`) }, reject: false, all: true, timeout: 60_000,
  });

  it('stateful: the node gets an address of the range and the DNS server, asked for with its MAC', async () => {
    const run = await dhcp6('ens3', 'stateful');
    expect(run.exitCode, run.all).toBe(0);
    const addrs = await ns.run('node', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'ens3', 'scope', 'global']);
    expect(addrs).toMatch(/inet6 2001:db8:5a::1[0-9a-f]{2}\//);
    expect(await readFile(path.join(dir, 'resolv.stateful'), 'utf8')).toBe('nameserver 2001:db8:5a::53\n');
    // DUID-LL (type 3, hardware type 1) ends with the NIC's MAC.
    expect(await readFile(path.join(dir, 'dhclient6.ens3.leases'), 'utf8')).toContain('default-duid "\\000\\003\\000\\001RT\\000Z\\006\\001"');
    // The router advertisement (every 3-4 s) gives the route to the rest of the network.
    let route = '';
    for (let i = 0; i < 40 && !route.includes('default'); i++) {
      route = await ns.run('node', ['ip', '-6', 'route', 'show', 'default']);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(route).toMatch(/default via fe80::\S+ dev ens3/);
    // And the peer reaches the node at its leased address.
    const leased = /inet6 (2001:db8:5a::[0-9a-f]+)\//.exec(addrs)![1];
    await ns.run('peer', ['busybox', 'ping', '-6', '-c', '1', '-W', '5', leased]);
  }, 60_000);

  it('stateless: only the DNS servers', async () => {
    const run = await dhcp6('ens3', 'stateless');
    expect(run.exitCode, run.all).toBe(0);
    expect(await readFile(path.join(dir, 'resolv.stateless'), 'utf8')).toBe('nameserver 2001:db8:5a::53\n');
  }, 60_000);

  it('a link with no DHCPv6 server: gives up, non-zero, with no address', async () => {
    const run = await dhcp6('ens4', 'stateful');
    expect(run.exitCode).not.toBe(0);
    expect(await ns.run('node', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'ens4', 'scope', 'global'])).toBe('');
  }, 60_000);
});
