// A miniature routed spine/leaf for netboot tests, built in network namespaces (one per test file):
//   prov  (Anvil netboot: DHCP, TFTP, HTTP)  p0 172.30.0.1/24 --- l0 172.30.0.2/24  leaf (router, dhcrelay)
//   leaf  l1 172.30.1.1/24 --- n0  node   (relayed leaf subnet 172.30.1.0/24)
//   prov  p1 172.30.2.1/24 --- d0  dnode  (directly attached subnet 172.30.2.0/24)
//   leaf  tap0 172.30.3.1/24 (optional) --- a QEMU guest (relayed subnet 172.30.3.0/24)
// With `ipv6`, every link is dual stack and DHCPv6 serves the same layout: p0 2001:db8:ff::1/64 ---
// l0 2001:db8:ff::2/64; leaf l1 2001:db8:1::1/64 (relayed); prov p1 2001:db8:2::1/64 (direct);
// tap0 2001:db8:3::1/64 (relayed); TFTP and HTTP listen on [::].
// Anvil runs as `anvil netboot --config FILE` inside prov, on a SQLite file the test also opens.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { stringify } from 'yaml';
import { openDatabase, type Database } from '../../../db/index.ts';
import { createNamespaces, type Namespaces } from './netns.ts';

const ANVIL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/anvil.js');
export const SERVER = '172.30.0.1';
export const DIRECT_SERVER = '172.30.2.1';
export const HTTP_PORT = 8080;
export const SERVER6 = '2001:db8:ff::1';
export const DIRECT_SERVER6 = '2001:db8:2::1';

export interface Topology {
  ns: Namespaces;
  dir: string;
  db: Database;
  tftpRoot: string;
  httpRoot: string;
  /** Everything the netboot process has logged so far. */
  log(): string;
  stop(): Promise<void>;
}

export function randomMac(): string {
  const b = randomBytes(5);
  return ['52', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** `vmTap` adds a tap device tap0 172.30.3.1/24 on the leaf (a second relayed subnet) for a QEMU guest. */
/** `dhcp` adds keys to netboot.dhcp (say, mode: proxy); `ipv6` makes every link dual stack, with DHCPv6 (above). */
export async function buildTopology(opts: { dhcp?: Record<string, unknown>; ipv6?: boolean; discovery?: boolean; hosts?: unknown[]; vmTap?: boolean; leafRange?: { start: string; end: string }; logLevel?: string } = {}): Promise<Topology> {
  const ns = createNamespaces();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-netboot-'));
  const tftpRoot = path.join(dir, 'tftpboot');
  const httpRoot = path.join(dir, 'httpboot');
  mkdirSync(tftpRoot);
  mkdirSync(httpRoot);
  let db: Database | undefined;
  let server: ResultPromise | undefined;
  let output = '';
  const stop = async (): Promise<void> => {
    await ns.remove();
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ns.add('prov');
    await ns.add('leaf');
    await ns.add('node');
    await ns.add('dnode');
    // No duplicate address detection: addresses (link-local ones too) are usable at once.
    for (const role of ['prov', 'leaf', 'node', 'dnode']) {
      if (opts.ipv6) await ns.run(role, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    }
    await ns.link({ role: 'prov', ifname: 'p0', addr: `${SERVER}/24` }, { role: 'leaf', ifname: 'l0', addr: '172.30.0.2/24' });
    await ns.link({ role: 'leaf', ifname: 'l1', addr: '172.30.1.1/24' }, { role: 'node', ifname: 'n0' });
    await ns.link({ role: 'prov', ifname: 'p1', addr: `${DIRECT_SERVER}/24` }, { role: 'dnode', ifname: 'd0' });
    await ns.run('leaf', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await ns.run('prov', ['ip', 'route', 'add', '172.30.1.0/24', 'via', '172.30.0.2']);
    if (opts.vmTap) {
      await ns.run('leaf', ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
      await ns.run('leaf', ['ip', 'addr', 'add', '172.30.3.1/24', 'dev', 'tap0']);
      await ns.run('leaf', ['ip', 'link', 'set', 'tap0', 'up']);
      await ns.run('prov', ['ip', 'route', 'add', '172.30.3.0/24', 'via', '172.30.0.2']);
    }
    const addr6 = (role: string, ifname: string, addr: string): Promise<string> => ns.run(role, ['ip', '-6', 'addr', 'add', addr, 'dev', ifname, 'nodad']);
    if (opts.ipv6) {
      await addr6('prov', 'p0', `${SERVER6}/64`);
      await addr6('leaf', 'l0', '2001:db8:ff::2/64');
      await addr6('leaf', 'l1', '2001:db8:1::1/64');
      await addr6('prov', 'p1', `${DIRECT_SERVER6}/64`);
      await ns.run('leaf', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
      await ns.run('prov', ['ip', '-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:ff::2']);
      if (opts.vmTap) {
        await addr6('leaf', 'tap0', '2001:db8:3::1/64');
        await ns.run('prov', ['ip', '-6', 'route', 'add', '2001:db8:3::/64', 'via', '2001:db8:ff::2']);
      }
    }
    const subnets6 = [
      { name: 'vmleaf6', prefix: '2001:db8:3::/64', range: { start: '2001:db8:3::100', end: '2001:db8:3::110' } },
      { name: 'leaf6', prefix: '2001:db8:1::/64', range: { start: '2001:db8:1::100', end: '2001:db8:1::1ff' }, dns: ['2001:db8:1::1'], preferredLifetime: 600, validLifetime: 900 },
      { name: 'prov6', prefix: '2001:db8:2::/64', interface: 'p1', serverAddress: DIRECT_SERVER6, range: { start: '2001:db8:2::50', end: '2001:db8:2::60' } },
    ];
    const subnets = [
      { name: 'vmleaf', cidr: '172.30.3.0/24', range: { start: '172.30.3.100', end: '172.30.3.110' }, router: '172.30.3.1' },
      { name: 'leaf1', cidr: '172.30.1.0/24', range: opts.leafRange ?? { start: '172.30.1.100', end: '172.30.1.150' }, router: '172.30.1.1', dns: ['172.30.1.1'], leaseTime: 600 },
      { name: 'prov', cidr: '172.30.2.0/24', direct: true, serverAddress: DIRECT_SERVER, range: { start: '172.30.2.50', end: '172.30.2.60' }, router: DIRECT_SERVER, leaseTime: 600 },
    ];
    const dbUrl = `sqlite:${path.join(dir, 'anvil.sqlite')}`;
    db = await openDatabase(dbUrl);
    const configFile = path.join(dir, 'anvil.yaml');
    writeFileSync(configFile, stringify({
      dataDir: dir,
      database: { url: dbUrl },
      log: { level: opts.logLevel ?? 'debug', pretty: false },
      netboot: {
        serverAddress: SERVER,
        apiUrl: 'http://172.30.0.1:6385',
        dhcp: { listen: '0.0.0.0:67', discovery: opts.discovery ?? false, ...opts.dhcp },
        tftp: { listen: opts.ipv6 ? '[::]:69' : '0.0.0.0:69', root: tftpRoot },
        http: { listen: opts.ipv6 ? `[::]:${HTTP_PORT}` : `0.0.0.0:${HTTP_PORT}`, root: httpRoot },
        subnets,
        ...(opts.ipv6 ? { serverAddress6: SERVER6, dhcp6: { listen: '[::]:547' }, subnets6 } : {}),
        hosts: opts.hosts ?? [],
      },
    }));
    server = ns.spawn('prov', [process.execPath, ANVIL, 'netboot', '--config', configFile]);
    server.all!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const started = Date.now();
    while (!output.includes('netboot ready')) {
      if (server.exitCode !== null || Date.now() - started > 45000) throw new Error(`anvil netboot did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { ns, dir, db, tftpRoot, httpRoot, log: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A DHCP client script that records what the client learnt and configures the interface. */
export function clientScript(dir: string, name: string): { script: string; result: string } {
  const result = path.join(dir, `${name}.env`);
  const script = path.join(dir, `${name}.sh`);
  writeFileSync(script, [
    '#!/bin/sh',
    // dhclient: reason/new_*; udhcpc: $1 and ip/subnet/router/siaddr/boot_file; dhclient -6: *6 reasons, new_ip6_*.
    'case "${reason:-$1}" in',
    '  BOUND6|RENEW6|REBIND6|REBOOT6)',
    '    ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad',
    `    env > ${result}.tmp && mv ${result}.tmp ${result} ;;`,
    '  BOUND|RENEW|REBIND|REBOOT)',
    '    ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"',
    '    [ -n "$new_routers" ] && ip route replace default via "${new_routers%% *}"',
    `    env > ${result}.tmp && mv ${result}.tmp ${result} ;;`,
    '  bound|renew)',
    '    ip addr add "$ip/$subnet" dev "$interface"',
    '    [ -n "$router" ] && ip route replace default via "${router%% *}"',
    `    env > ${result}.tmp && mv ${result}.tmp ${result} ;;`,
    'esac',
    'exit 0',
    '',
  ].join('\n'), { mode: 0o755 });
  return { script, result };
}

export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
