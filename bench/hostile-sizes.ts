// Issue 19's size and depth probes against a listening API: a 60 MB body, a million-key body, a
// body at the limit holding as many keys as fit, 5000-deep JSON, a slow body, and the memory four
// list-detail calls take over N nodes each as large as a body may make them. Prints figures only.
//   npx tsx bench/hostile-sizes.ts [--nodes 300] [--db sqlite|postgres://...]
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { openDatabase } from '../db/index.ts';
import { createApiServer } from '../services/api/server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const NODES = Number(arg('nodes', '300'));
const DB = arg('db', 'sqlite');

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-'));
const db = await openDatabase(DB === 'sqlite' ? `sqlite:${path.join(dir, 'bench.sqlite')}` : DB);
const config = defaultConfig(dir);
config.api.requestTimeout = 5;
const app = await createApiServer({ db, config, logger: silentLogger });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const headers = { 'x-openstack-ironic-api-version': '1.89', 'content-type': 'application/json' };
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function timed(method: string, pathname: string, body?: string): Promise<{ status: number; ms: number; bytes: number; text: string }> {
  const t = performance.now();
  const res = await fetch(base + pathname, { method, headers, body }).catch((err: Error) => ({ status: 0, text: async () => err.message }));
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t, bytes: text.length, text };
}

function report(what: string, r: { status: number; ms: number }): void {
  console.log(`${what.padEnd(58)} ${String(r.status).padStart(3)}  ${r.ms.toFixed(1).padStart(8)} ms`);
}

report('POST node, extra of 60 MB', await timed('POST', '/v1/nodes', JSON.stringify({ driver: 'fake-hardware', extra: { blob: 'x'.repeat(60 * 1024 * 1024) } })));
const million = `{"driver":"fake-hardware","extra":{${Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":${i}`).join(',')}}}`;
report(`POST node, extra of a million keys (${mib(million.length)})`, await timed('POST', '/v1/nodes', million));
const fitting = (n: number) => `{"driver":"fake-hardware","extra":{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}}`;
let keys = 1;
while (fitting(keys * 2).length <= config.api.maxBodyBytes) keys *= 2;
while (fitting(keys + 100).length <= config.api.maxBodyBytes) keys += 100;
report(`POST node, extra of ${keys} keys (${fitting(keys).length} bytes)`, await timed('POST', '/v1/nodes', fitting(keys)));
report('POST node, JSON 5000 levels deep', await timed('POST', '/v1/nodes', '{"driver":"fake-hardware","extra":' + '{"d":'.repeat(5000) + '1' + '}'.repeat(5001)));

// A slow body: headers, then a few bytes, then nothing.
const slow = await new Promise<{ status: number; ms: number }>((resolve) => {
  const t = performance.now();
  const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => { answer += String(d); });
  socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0), ms: performance.now() - t }));
  socket.write('POST /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"driver"');
});
report(`slow body (api.requestTimeout ${config.api.requestTimeout} s)`, slow);

// N nodes as large as a body may make them, then four list-detail calls.
const blob = 'y'.repeat(config.api.maxBodyBytes - 200);
let t = performance.now();
let first = '';
for (let i = 0; i < NODES; i++) {
  const r = await timed('POST', '/v1/nodes', JSON.stringify({ driver: 'fake-hardware', extra: { blob } }));
  if (r.status !== 201) throw new Error(`enroll failed: ${r.status}`);
  first ||= JSON.parse(r.text).uuid;
}
console.log(`enrolled ${NODES} nodes of ${mib(blob.length)} extra each in ${((performance.now() - t) / 1000).toFixed(1)} s`);
report('PATCH one of them to twice its size', await timed('PATCH', `/v1/nodes/${first}`, JSON.stringify([{ op: 'add', path: '/extra/more', value: blob.slice(0, 100_000) }])));
global.gc?.();
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
t = performance.now();
const lists = await Promise.all([0, 1, 2, 3].map(() => timed('GET', '/v1/nodes/detail')));
clearInterval(sampler);
console.log(`4 list-detail calls at once over ${NODES} nodes: ${lists.map((l) => l.status).join(' ')}, ${((performance.now() - t) / 1000).toFixed(2)} s, ${mib(lists[0].bytes)} each; RSS ${mib(before)} -> peak ${mib(peak)}`);
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
