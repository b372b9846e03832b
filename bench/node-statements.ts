// CPU per node of the statements a provision request runs in db/ (the node by uuid, its
// compare-and-set update, its history line), in one process, all of N nodes at once and one
// commit per round as the API's answers share them. Process CPU, not wall-clock: it holds on a
// machine shared with others. Prints figures only.
//   npx tsx bench/node-statements.ts [--nodes 1000] [--rounds 5] [--db sqlite|postgres://...]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../db/index.ts';
import { recordHistory } from '../db/history.ts';
import { createNode, findNode, updateNode, type NodeRecord } from '../db/nodes.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const NODES = Number(arg('nodes', '1000'));
const ROUNDS = Number(arg('rounds', '5'));
const DB = arg('db', 'sqlite');

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-'));
const db = await openDatabase(DB === 'sqlite' ? `sqlite:${path.join(dir, 'bench.sqlite')}` : DB);
try {
  const nodes: NodeRecord[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push(await createNode(db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name: `bench-${i}`, instance_info: { image_source: 'http://127.0.0.1/bench.qcow2' } }));
  }
  await db.committed();
  process.stdout.write(`node statements: ${NODES} nodes on ${db.kind}, find + update + history line per node, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (let round = 1; round <= ROUNDS; round++) {
    const before = process.cpuUsage();
    await Promise.all(nodes.map(async (n) => {
      const found = (await findNode(db.knex, n.uuid))!;
      const next = found.provision_state === 'enroll' ? 'verifying' : 'enroll';
      const updated = await updateNode(db.knex, found.id, { provision_state: next, target_provision_state: null }, { provision_state: found.provision_state, reservation: null });
      if (!updated) throw new Error(`node ${n.uuid} changed under the bench`);
      await recordHistory(db.knex, updated, { event: `bench moved the node to ${next}` });
    }));
    await db.committed();
    const used = process.cpuUsage(before);
    // The first round includes compiling the code paths; later rounds are the steady state.
    process.stdout.write(`round ${round}: ${((used.user + used.system) / NODES).toFixed(1)} µs of CPU per node\n`);
  }
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
