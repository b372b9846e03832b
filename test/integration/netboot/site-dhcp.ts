// The site's own DHCP server, for ProxyDHCP tests: Debian's dnsmasq handing out addresses only (no boot
// file, next-server or PXE options), in a namespace of its own behind the leaf router, as a campus or
// data-centre DHCP service would sit. The leaf's relay is pointed at it and at Anvil.
import { join } from 'node:path';
import type { Namespaces } from './netns.ts';

export interface SiteDhcp {
  /** The server's address, for the relay's server list. */
  address: string;
  /** What dnsmasq logged (--log-dhcp): every offer and ACK it made. */
  log(): string;
}

export async function startSiteDhcp(ns: Namespaces, opts: {
  /** The router namespace the site network hangs off, and the /24 between them (".1" the router, ".2" dnsmasq). */
  leaf: string;
  net: string;
  /** The relayed client subnets (/24s): dnsmasq leases from start-end and names the router. */
  subnets: Array<{ cidr: string; start: string; end: string; router: string }>;
  dir: string;
}): Promise<SiteDhcp> {
  const address = `${opts.net}.2`;
  await ns.add('site');
  await ns.link({ role: opts.leaf, ifname: 'l9', addr: `${opts.net}.1/24` }, { role: 'site', ifname: 's0', addr: `${address}/24` });
  for (const s of opts.subnets) await ns.run('site', ['ip', 'route', 'add', s.cidr, 'via', `${opts.net}.1`]);
  // --no-ping: dnsmasq would first ping a new address for up to 3 s, longer than the probes listen.
  const child = ns.spawn('site', [
    'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--no-resolv', '--no-hosts', '--bind-interfaces', '--interface=s0',
    '--user=root', '--no-ping', `--pid-file=${join(opts.dir, 'dnsmasq.pid')}`, `--dhcp-leasefile=${join(opts.dir, 'dnsmasq.leases')}`, '--log-dhcp', '--log-facility=-',
    ...opts.subnets.flatMap((s, i) => [`--dhcp-range=set:leaf${i},${s.start},${s.end},255.255.255.0,10m`, `--dhcp-option=tag:leaf${i},option:router,${s.router}`]),
  ]);
  let output = '';
  child.all!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const deadline = Date.now() + 15_000;
  while (!output.includes('DHCP, IP range')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`dnsmasq did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address, log: () => output };
}
