// Conductor processes (`anvil conductor`) on one PostgreSQL database: two of them share the nodes
// and each node's work happens once; SIGKILL of one mid-deploy lets the other take its nodes over
// (the interrupted deploys fail with a clear last_error and can be retried; nothing stays stuck);
// SIGTERM stops a conductor cleanly. And `anvil all-in-one` SIGKILLed with a hundred nodes in
// motion, on SQLite and on PostgreSQL: restarted, with a client retrying as clients do, no node is
// lost, none stays in a working state, and every one reaches active.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getConductor } from '../../../db/conductors.ts';
import { UNSTABLE_STATES } from '../../../common/states.ts';
import { getNodeById, updateNode } from '../../../db/nodes.ts';
import { BACKENDS, createTestDatabase, createTestDatabaseUrl, type TestDatabase } from '../../helpers/db.ts';
import { freeTcpPort } from '../../helpers/ports.ts';
import { eventually, fakeNode, ONE_LIFECYCLE, requestProvision, runLifecycle, untilState } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

interface Proc {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** `anvil ROLE --config FILE` as its own process, its output kept. */
function spawnAnvil(role: string, configFile: string, cwd: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/anvil.js'), role, '--config', configFile], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** A configuration file with these conductor settings and quiet logs. */
function writeConfig(file: string, conductor: Record<string, string | number>): void {
  writeFileSync(file, ['conductor:', ...Object.entries(conductor).map(([k, v]) => `  ${k}: ${v}`), 'log:', '  level: warn', '  pretty: false', ''].join('\n'));
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
    writeConfig(configFile, { heartbeatInterval: 0.3, heartbeatTimeout: 3, pollInterval: 0.3, timeoutCheckInterval: 0.5, powerSyncInterval: 0, shutdownTimeout: 3, workers: 16 });
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
    const proc = spawnAnvil('conductor', configFile, dir, { ANVIL_DATABASE_URL: t.url, ANVIL_CONDUCTOR_HOSTNAME: hostname });
    const { child, output } = proc;
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

interface ListedNode { uuid: string; name: string; provision_state: string; maintenance: boolean; reservation: string | null; last_error: string | null }

describe.each(BACKENDS)('anvil all-in-one SIGKILLed under load on %s', (backend) => {
  const NODES = 100;
  let dir: string;
  let db: { url: string; remove: () => Promise<void> };
  let base: string;
  let configFile: string;
  let run: Proc | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-kill-'));
    db = await createTestDatabaseUrl(backend);
    base = `http://127.0.0.1:${await freeTcpPort()}`;
    configFile = path.join(dir, 'anvil.yaml');
    writeConfig(configFile, { hostname: 'killed', pollInterval: 0.2, heartbeatInterval: 0.5, timeoutCheckInterval: 0.5, powerSyncInterval: 0, workers: 32 });
  });
  afterAll(async () => {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await run?.exited;
    await db.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<Proc> {
    const proc = spawnAnvil('all-in-one', configFile, dir, { ANVIL_DATABASE_URL: db.url, ANVIL_API_LISTEN: base.replace('http://', '') });
    await eventually(async () => {
      if (proc.child.exitCode !== null) throw new Error(`all-in-one exited: ${proc.output.join('')}`);
      return (await call('GET', '/nodes'))?.status === 200;
    }, 90_000, 'the API to answer');
    return proc;
  }

  /** One API call; null when the process is not there to answer (the client will retry). */
  async function call(method: string, p: string, body?: unknown): Promise<{ status: number; body: any } | null> {
    try {
      const res = await fetch(`${base}/v1${p}`, {
        method,
        headers: { 'X-OpenStack-Ironic-API-Version': '1.89', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    } catch {
      return null;
    }
  }

  async function list(): Promise<ListedNode[] | null> {
    const res = await call('GET', '/nodes?fields=uuid,name,provision_state,maintenance,reservation,last_error&limit=1000');
    return res?.status === 200 ? res.body.nodes : null;
  }

  /**
   * What a client that wants its nodes active does with a node it reads (the CLI's user, Metal3):
   * the next verb for a stable state, the obvious retry for a failed one ("manage" for clean failed,
   * maintenance off when "provide" is refused for it), nothing while the node is busy.
   */
  async function advance(n: ListedNode): Promise<void> {
    const verb = ({ enroll: 'manage', manageable: 'provide', 'clean failed': 'manage', available: 'active', 'deploy failed': 'active' } as Record<string, string>)[n.provision_state];
    if (!verb) return;
    const res = await call('PUT', `/nodes/${n.uuid}/states/provision`, { target: verb });
    if (res?.status === 400 && /maintenance mode/.test(JSON.stringify(res.body))) await call('DELETE', `/nodes/${n.uuid}/maintenance`);
  }

  it('loses no node and leaves none in a working state; every node reaches active', async () => {
    run = await start();
    for (let i = 0; i < NODES; i++) {
      const res = await call('POST', '/nodes', { name: `kill-${i}`, driver: 'fake-hardware', driver_info: { fake_delay: 0.3 } });
      expect(res?.status).toBe(201);
    }
    // Nodes created while the process dies: each one acknowledged (201) must be there after the restart.
    const acknowledged: string[] = [];
    let creating = true;
    const creator = (async () => {
      for (let i = 0; creating; i++) {
        const res = await call('POST', '/nodes', { name: `late-${i}`, driver: 'fake-hardware' });
        if (res?.status === 201) acknowledged.push(res.body.uuid);
        else if (!res) await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const interrupted = new Set<string>();
    let driving = true;
    let rounds = 0;
    const client = (async () => {
      while (driving) {
        const nodes = (await list())?.filter((n) => n.name.startsWith('kill-'));
        if (nodes) {
          rounds++;
          for (const n of nodes) if (n.last_error?.includes('restarted while the node was')) interrupted.add(n.name);
          await Promise.all(nodes.map(advance));
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    // Kill it once a fifth of the nodes are being worked on (locked by the conductor mid-step).
    await eventually(async () => ((await list()) ?? []).filter((n) => n.reservation !== null).length >= NODES / 5, 60_000, 'nodes in motion');
    run.child.kill('SIGKILL');
    await run.exited;
    run = await start();
    creating = false;
    await creator;

    const settled = await eventually(async () => {
      const nodes = (await list())?.filter((n) => n.name.startsWith('kill-'));
      return nodes && nodes.length === NODES && nodes.every((n) => n.provision_state === 'active' && n.reservation === null) ? nodes : undefined;
    }, 120_000, 'every node to be active');
    driving = false;
    await client;

    expect(new Set(settled.map((n) => n.name)).size).toBe(NODES);
    expect(settled.filter((n) => UNSTABLE_STATES.has(n.provision_state))).toEqual([]);
    // The kill did interrupt work in progress: those nodes failed with a clear reason, and the client's retry took them on.
    expect(interrupted.size).toBeGreaterThan(0);
    expect(rounds).toBeGreaterThan(0);
    for (const uuid of acknowledged) expect((await call('GET', `/nodes/${uuid}`))?.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 300_000);
});
