// Allocations processed per second: N available fake nodes, N + N/10 allocations posted at once
// through the API (app.inject), C conductors processing them (each its own connection on
// PostgreSQL). Prints the seconds until none is `allocating`, allocations per second, how many
// got a node and how many distinct nodes they got (N when no node was given twice). C=0 times the
// API's POSTs alone. Figures only.
//
//   npx tsx bench/allocations.ts [N=500] [C=2] [DATABASE_URL=sqlite:<tmp>]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { openDatabase, type Database } from '../db/index.ts';
import { createNode } from '../db/nodes.ts';
import { createApiServer } from '../services/api/server.ts';
import { Conductor } from '../services/conductor/conductor.ts';

const N = Number(process.argv[2] ?? 500);
const C = Number(process.argv[3] ?? 2);
const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-alloc-'));
const url = process.argv[4] ?? `sqlite:${path.join(dir, 'anvil.sqlite')}`;

async function main(): Promise<void> {
  const config = defaultConfig(dir);
  Object.assign(config.conductor, { pollInterval: 1, heartbeatInterval: 1, timeoutCheckInterval: 5, powerSyncInterval: 0 });
  const db = await openDatabase(url);
  const api = await createApiServer({ db, config, logger: silentLogger });
  for (let i = 0; i < N; i++) await createNode(db.knex, { driver: 'fake-hardware', provision_state: 'available', power_state: 'power off', resource_class: 'bench' });
  const conductors: Conductor[] = [];
  const extra: Database[] = [];
  for (let i = 0; i < C; i++) {
    const cdb = db.kind === 'sqlite' ? db : await openDatabase(url, { migrate: false });
    if (cdb !== db) extra.push(cdb);
    const c = new Conductor({ db: cdb, config: { ...config, conductor: { ...config.conductor, hostname: `bench-${i}` } }, logger: silentLogger });
    await c.start();
    conductors.push(c);
  }
  const total = N + Math.ceil(N / 10);
  const started = performance.now();
  await Promise.all(Array.from({ length: total }, () => api.inject({
    method: 'POST', url: '/v1/allocations', headers: { 'x-openstack-ironic-api-version': '1.60', 'content-type': 'application/json' }, payload: { resource_class: 'bench' },
  })));
  const posted = (performance.now() - started) / 1000;
  // With no conductor the figure is the API's alone: nothing processes the allocations.
  for (; C > 0;) {
    const waiting = Number((await db.knex('allocations').where({ state: 'allocating' }).count({ n: '*' }).first())?.n ?? 0);
    if (waiting === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  const active = await db.knex('allocations').where({ state: 'active' }).select('node_id');
  const distinct = new Set(active.map((r: { node_id: number }) => r.node_id)).size;
  process.stdout.write(`${db.kind}, ${N} nodes, ${total} allocations, ${C} conductors: posted in ${posted.toFixed(2)} s, all processed in ${seconds.toFixed(2)} s `
    + `(${(total / seconds).toFixed(0)} allocations/s); ${active.length} active on ${distinct} distinct nodes, ${total - active.length} error\n`);
  for (const c of conductors) await c.stop();
  for (const e of extra) await e.close();
  await api.close();
  await db.close();
}

main().finally(() => rmSync(dir, { recursive: true, force: true })).catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
