// Conductor processes (`anvil conductor`) on one PostgreSQL database: two of them share the nodes
// and each node's work happens once; SIGKILL of one mid-deploy lets the other take its nodes over
// (the interrupted deploys fail with a clear last_error and can be retried; nothing stays stuck);
// SIGTERM stops a conductor cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getConductor } from '../../../db/conductors.ts';
import { getNodeById, updateNode } from '../../../db/nodes.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, fakeNode, ONE_LIFECYCLE, requestProvision, runLifecycle, untilState } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

interface Proc {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

describe('conductor processes on pg', () => {
  let t: TestDatabase;
  let dir: string;
  let configFile: string;
  const procs: Proc[] = [];

  beforeAll(async () => {
    t = await createTestDatabase('pg');
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-conductors-'));
    configFile = path.join(dir, 'anvil.yaml');
    writeFileSync(configFile, [
      'conductor:',
      '  heartbeatInterval: 0.3',
      '  heartbeatTimeout: 3',
      '  pollInterval: 0.3',
      '  timeoutCheckInterval: 0.5',
      '  powerSyncInterval: 0',
      '  shutdownTimeout: 3',
      '  workers: 16',
      'log:',
      '  level: warn',
      '  pretty: false',
      '',
    ].join('\n'));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
  });
  afterAll(async () => {
    await t.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startProcess(hostname: string): Promise<Proc> {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/anvil.js'), 'conductor', '--config', configFile], {
      cwd: dir,
      env: { ...process.env, ANVIL_DATABASE_URL: t.url, ANVIL_CONDUCTOR_HOSTNAME: hostname },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (d) => output.push(String(d)));
    child.stderr!.on('data', (d) => output.push(String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const proc = { child, output, exited };
    procs.push(proc);
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`conductor ${hostname} exited: ${output.join('')}`);
      return (await getConductor(t.db.knex, hostname))?.online === true && Date.now() - (await getConductor(t.db.knex, hostname))!.updated_at < 1000;
    }, 90_000, `conductor ${hostname} to start`);
    return proc;
  }

  it('two processes share the nodes, each node worked once per step, and stop cleanly on SIGTERM', async () => {
    const [a, b] = await Promise.all([startProcess('proc-a'), startProcess('proc-b')]);
    // Let each see the other before work arrives, so the ring splits the nodes from the start.
    await new Promise((r) => setTimeout(r, 700));
    const nodes = await Promise.all(Array.from({ length: 30 }, () => fakeNode(t.db, { driver_info: { fake_delay: 0.05 } })));
    const { events, conductors } = await runLifecycle(t.db, nodes);
    for (const e of events) expect(e).toEqual(ONE_LIFECYCLE);
    expect(conductors).toEqual(['proc-a', 'proc-b']);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect((await getConductor(t.db.knex, 'proc-a'))!.online).toBe(false);
    expect((await getConductor(t.db.knex, 'proc-b'))!.online).toBe(false);
  }, 180_000);

  it('SIGKILL of a conductor mid-deploy: the other takes its nodes over and nothing stays stuck', async () => {
    const [victim] = await Promise.all([startProcess('victim'), startProcess('survivor')]);
    await new Promise((r) => setTimeout(r, 700));
    const nodes = await Promise.all(Array.from({ length: 12 }, () => fakeNode(t.db, { provision_state: 'available', driver_info: { fake_delay: 4 } })));
    for (const n of nodes) await requestProvision(t.db, n, 'active');
    // Both are mid-deploy: each holds locks.
    await eventually(async () => {
      const holders = new Set((await Promise.all(nodes.map((n) => getNodeById(t.db.knex, n.id)))).map((n) => n!.reservation));
      return holders.has('victim') && holders.has('survivor');
    }, 10_000, 'both conductors to hold nodes');
    const heldBySurvivor = (await Promise.all(nodes.map((n) => getNodeById(t.db.knex, n.id)))).filter((n) => n!.reservation === 'survivor').map((n) => n!.id);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const victims: number[] = [];
    for (const n of nodes) {
      const done = await untilState(t.db, n.id, ['active', 'deploy failed'], 30_000);
      if (done.provision_state === 'deploy failed') {
        victims.push(n.id);
        expect(done.last_error).toBe('Conductor victim stopped heart-beating for over 3 s while the node was "deploying"; that operation was interrupted');
      }
    }
    // Only the killed conductor's nodes failed, and it had some.
    expect(victims.length).toBeGreaterThan(0);
    expect(victims.filter((id) => heldBySurvivor.includes(id))).toEqual([]);
    // The failed deploys can be asked again; the survivor finishes them.
    for (const id of victims) {
      await updateNode(t.db.knex, id, { driver_info: {} });
      await requestProvision(t.db, (await getNodeById(t.db.knex, id))!, 'active');
    }
    for (const id of victims) await untilState(t.db, id, 'active', 30_000);
  }, 180_000);
});
