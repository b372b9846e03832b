// Netboot figures, measured across a real relay in network namespaces (test/integration/netboot/topology.ts):
//   - DHCP DISCOVER->OFFER->REQUEST->ACK exchanges per second through ISC dhcrelay
//   - DHCPv6 SOLICIT->ADVERTISE->REQUEST->REPLY exchanges per second through ISC dhcrelay -6, beside them
//   - TFTP throughput of a 30 MB file across the leaf router (tftp-hpa, atftp), and HTTP for comparison
// Run as root: npx tsx bench/netboot/run.ts [clients=200] [rounds=5] [window=32]
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER, SERVER6, HTTP_PORT, buildTopology } from '../../test/integration/netboot/topology.ts';
import { enrollNode } from '../../test/integration/netboot/fixtures.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TSX = path.resolve(HERE, '../../node_modules/.bin/tsx');
const [clients = 200, rounds = 5, window = 32] = process.argv.slice(2).map(Number);
const MAC_PREFIX = '5254aa00';
const FILE_MB = 30;

const topo = await buildTopology({ ipv6: true, leafRange: { start: '172.30.1.10', end: '172.30.1.250' }, logLevel: 'info' });
try {
  for (let i = 0; i < clients; i++) {
    const hex = `${MAC_PREFIX}${i.toString(16).padStart(4, '0')}`;
    await enrollNode(topo.db, { mac: hex.match(/../g)!.join(':'), state: 'deploying' });
  }
  await topo.ns.run('node', ['ip', 'addr', 'add', '172.30.1.2/24', 'dev', 'n0']);
  await topo.ns.run('node', ['ip', 'route', 'add', 'default', 'via', '172.30.1.1']);
  topo.ns.spawn('leaf', ['dhcrelay', '-4', '-d', '-a', '--no-pid', '-id', 'l1', '-iu', 'l0', SERVER]);
  topo.ns.spawn('leaf', ['dhcrelay', '-6', '-d', '--no-pid', '-I', '-l', 'l1', '-u', `${SERVER6}%l0`]);
  await new Promise((r) => setTimeout(r, 500));

  const load = async (n: number): Promise<{ exchanges: number; seconds: number }> =>
    JSON.parse(await topo.ns.run('node', [TSX, path.join(HERE, 'dhcp-load.ts'), MAC_PREFIX, String(clients), String(n), String(window)], { timeout: 300000 }));
  const fresh = await load(1);
  console.log(`DHCP through dhcrelay, new leases: ${fresh.exchanges} DISCOVER->ACK exchanges (${window} in flight) in ${fresh.seconds.toFixed(2)} s = ${(fresh.exchanges / fresh.seconds).toFixed(0)} exchanges/s`);
  // Every later round: the same clients, whose addresses are already bound.
  const dhcp = await load(rounds);
  console.log(`DHCP through dhcrelay, known clients: ${dhcp.exchanges} DISCOVER->ACK exchanges (${clients} clients x ${rounds} rounds, ${window} in flight) in ${dhcp.seconds.toFixed(2)} s = ${(dhcp.exchanges / dhcp.seconds).toFixed(0)} exchanges/s`);

  // The same clients over DHCPv6 (leaf6 holds 256 addresses): new leases, then known clients.
  const load6 = async (n: number): Promise<{ exchanges: number; seconds: number }> =>
    JSON.parse(await topo.ns.run('node', [TSX, path.join(HERE, 'dhcp6-load.ts'), MAC_PREFIX, String(Math.min(clients, 256)), String(n), String(window), 'n0'], { timeout: 300000 }));
  for (const [label, n] of [['new leases', 1], ['known clients', rounds]] as const) {
    const r = await load6(n);
    console.log(`DHCPv6 through dhcrelay -6, ${label}: ${r.exchanges} SOLICIT->REPLY exchanges (${window} in flight) in ${r.seconds.toFixed(2)} s = ${(r.exchanges / r.seconds).toFixed(0)} exchanges/s`);
  }

  const file = path.join(topo.tftpRoot, 'big.img');
  writeFileSync(file, randomBytes(FILE_MB * 1024 * 1024));
  writeFileSync(path.join(topo.httpRoot, 'big.img'), randomBytes(FILE_MB * 1024 * 1024));
  const bytes = statSync(file).size;
  const timed = async (label: string, cmd: string[]): Promise<void> => {
    const out = path.join(topo.dir, 'out.img');
    const t = process.hrtime.bigint();
    await topo.ns.run('node', cmd, { timeout: 300000 });
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (statSync(out).size !== bytes) throw new Error(`${label}: got ${statSync(out).size} bytes, expected ${bytes}`);
    console.log(`${label}: ${FILE_MB} MiB in ${s.toFixed(2)} s = ${(bytes / s / 1e6).toFixed(1)} MB/s`);
  };
  const out = path.join(topo.dir, 'out.img');
  await timed('TFTP tftp-hpa, blksize 512 (no options)', ['tftp', '-m', 'binary', SERVER, '-c', 'get', 'big.img', out]);
  await timed('TFTP atftp, blksize 1428', ['atftp', '--get', '-r', 'big.img', '-l', out, '--option', 'blksize 1428', SERVER]);
  await timed('TFTP atftp, blksize 8192', ['atftp', '--get', '-r', 'big.img', '-l', out, '--option', 'blksize 8192', SERVER]);
  await timed('HTTP curl (for comparison)', ['curl', '-sf', '-o', out, `http://${SERVER}:${HTTP_PORT}/big.img`]);
} finally {
  await topo.stop();
}
