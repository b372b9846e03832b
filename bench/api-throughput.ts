// API throughput and latency: seeds nodes (with ports and traits), starts the API on a real port
// and keeps C requests in flight for D seconds per scenario, then prints requests/s and latency
// percentiles. Prints figures only; it never passes or fails.
//   npx tsx bench/api-throughput.ts [--nodes 1000] [--concurrency 32] [--seconds 5] [--db sqlite|postgres://...]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { defaultConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { now, openDatabase, toJson } from '../db/index.ts';
import { createApiServer } from '../services/api/server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const NODES = Number(arg('nodes', '1000'));
const CONCURRENCY = Number(arg('concurrency', '32'));
const SECONDS = Number(arg('seconds', '5'));
const DB = arg('db', 'sqlite');

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-'));
const db = await openDatabase(DB === 'sqlite' ? `sqlite:${path.join(dir, 'bench.sqlite')}` : DB);
const config = defaultConfig(dir);

// Seed in bulk: nodes, two ports and two traits each.
const uuids: string[] = [];
const macs: string[] = [];
for (let start = 0; start < NODES; start += 200) {
  const rows = [];
  for (let i = start; i < Math.min(NODES, start + 200); i++) {
    const uuid = randomUUID();
    uuids.push(uuid);
    rows.push({ uuid, name: `bench-${i}`, driver: 'fake-hardware', provision_state: i % 2 ? 'available' : 'manageable', conductor_group: '', driver_info: toJson({ ipmi_password: 'x', ipmi_address: `10.0.${i >> 8}.${i & 255}` }), properties: toJson({ cpus: 8, memory_mb: 16384 }), resource_class: i % 3 ? 'baremetal' : 'gpu', power_interface: 'fake', created_at: now() });
  }
  const ids = (await db.knex('nodes').insert(rows).returning('id')).map((r: { id: number }) => r.id);
  const ports = ids.flatMap((id, k) => [0, 1].map((p) => {
    const n = start + k;
    const mac = `52:54:${p.toString(16).padStart(2, '0')}:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
    macs.push(mac);
    return { uuid: randomUUID(), address: mac, node_id: id, created_at: now() };
  }));
  await db.knex('ports').insert(ports);
  await db.knex('node_traits').insert(ids.flatMap((id) => ['CUSTOM_A', 'CUSTOM_B'].map((trait) => ({ node_id: id, trait, created_at: now() }))));
}

const app = await createApiServer({ db, config, logger: silentLogger });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const headers = { 'x-openstack-ironic-api-version': '1.78', 'content-type': 'application/json' };

/** One request over the keep-alive agent; resolves with the status once the body is read. */
function send(method: string, pathname: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + pathname, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Scenario { name: string; next: (i: number) => { method: 'GET' | 'PATCH' | 'PUT'; path: string; body?: string } }
const pick = <T>(list: T[], i: number): T => list[(i * 7919) % list.length];
const scenarios: Scenario[] = [
  { name: 'GET /v1/nodes/{uuid}', next: (i) => ({ method: 'GET', path: `/v1/nodes/${pick(uuids, i)}` }) },
  { name: 'GET /v1/nodes?limit=50', next: () => ({ method: 'GET', path: '/v1/nodes?limit=50' }) },
  { name: 'GET /v1/nodes/detail?limit=50', next: () => ({ method: 'GET', path: '/v1/nodes/detail?limit=50' }) },
  { name: 'GET /v1/nodes?provision_state=available&resource_class=gpu&limit=50', next: () => ({ method: 'GET', path: '/v1/nodes?provision_state=available&resource_class=gpu&limit=50' }) },
  { name: `GET /v1/nodes (all ${NODES}, default fields)`, next: () => ({ method: 'GET', path: '/v1/nodes' }) },
  { name: 'GET /v1/ports?address=M&fields=...', next: (i) => ({ method: 'GET', path: `/v1/ports?address=${pick(macs, i)}&fields=node_uuid,uuid,address` }) },
  { name: 'PATCH /v1/nodes/{uuid} (extra)', next: (i) => ({ method: 'PATCH', path: `/v1/nodes/${pick(uuids, i)}`, body: JSON.stringify([{ op: 'add', path: '/extra/bench', value: i }]) }) },
  { name: 'PUT /v1/nodes/{uuid}/states/power', next: (i) => ({ method: 'PUT', path: `/v1/nodes/${pick(uuids, i)}/states/power`, body: '{"target": "power on"}' }) },
];

async function run(s: Scenario): Promise<void> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const deadline = performance.now() + SECONDS * 1000;
  let counter = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const r = s.next(counter++);
      const t0 = performance.now();
      const status = await send(r.method, r.path, r.body);
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  console.log(`${s.name.padEnd(72)} ${(latencies.length / elapsed).toFixed(0).padStart(6)} req/s  p50 ${pct(50).padStart(6)} ms  p99 ${pct(99).padStart(7)} ms  ${[...statuses].map(([c, n]) => `${c}x${n}`).join(' ')}`);
}

console.log(`Anvil API on ${db.kind}: ${NODES} nodes (2 ports, 2 traits each), ${CONCURRENCY} in flight, ${SECONDS} s per scenario, load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
for (const s of scenarios) {
  // Power requests leave target_power_state set (no conductor here): clear it so each one is accepted.
  if (s.name.includes('power')) await db.knex('nodes').update({ target_power_state: null });
  await run(s);
}
agent.destroy();
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
