// Lifecycle benchmark through the public REST API only (Ironic's API with its microversion
// header), so the same script measures Anvil and any other Ironic-compatible service:
// enroll N fake-hardware nodes, then manage -> provide -> deploy until every node is active, then
// list them with detail. Prints nodes/second per phase, p50/p99 API latency and peak RSS.
//
//   npm run bench:lifecycle -- N
//   ANVIL_BENCH_URL=http://host:6385  endpoint to measure (several, comma-separated: requests go to each in
//                                     turn); unset: an `anvil all-in-one` is started
//   ANVIL_BENCH_DATABASE_URL          database of that all-in-one (default: a new SQLite file)
//   ANVIL_BENCH_ENTRY=bin/anvil.js     what that all-in-one runs (dist/anvil.mjs: the production bundle)
//   ANVIL_BENCH_PIDS=1,2              server processes whose peak RSS and CPU to report (an external endpoint)
//   ANVIL_BENCH_PG_URL=postgres://…/db  PostgreSQL database whose backends' CPU per phase to report (same machine:
//                                     read from /proc; the server's shared processes, WAL writer and others, are left out)
//   ANVIL_BENCH_CONCURRENCY=32        requests in flight at once
//   ANVIL_BENCH_MICROVERSION=1.72     X-OpenStack-Ironic-API-Version sent
//   ANVIL_BENCH_LIST_RUNS=50          GET /v1/nodes?detail=True&limit=1000 calls, one at a time, for its p50/p99
//   OS_TOKEN                          sent as X-Auth-Token when set (Ironic with keystone)
//   ANVIL_BENCH_USER, ANVIL_BENCH_PASSWORD   sent as HTTP basic credentials when set
//   ANVIL_BENCH_CPU_PROF=DIR          that all-in-one writes a V8 CPU profile (--cpu-prof) into DIR when it stops
//   ANVIL_BENCH_AUTH=basic-tls        the started all-in-one runs http_basic over HTTPS: a CA, its
//                                     certificate and an htpasswd user are made for the run
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { makeTestPki } from '../test/helpers/tls.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 100);
const CONCURRENCY = Number(process.env.ANVIL_BENCH_CONCURRENCY ?? 32);
const MICROVERSION = process.env.ANVIL_BENCH_MICROVERSION ?? '1.72';
const POLL_MS = 100;
const LIST_RUNS = Number(process.env.ANVIL_BENCH_LIST_RUNS ?? 50);
const PHASE_TIMEOUT_MS = Number(process.env.ANVIL_BENCH_PHASE_TIMEOUT ?? 1800) * 1000;

if (!Number.isInteger(N) || N < 1) {
  process.stderr.write('usage: bench/lifecycle.ts N   (N: number of nodes, e.g. 100, 1000, 10000)\n');
  process.exit(2);
}

const latencies: number[] = [];
/** The API endpoints; requests go to each in turn (several API processes on one database). */
let bases: string[] = [];
let turn = 0;
function nextBase(): string {
  return bases[turn++ % bases.length];
}
const BASIC = process.env.ANVIL_BENCH_PASSWORD ? `Basic ${Buffer.from(`${process.env.ANVIL_BENCH_USER ?? 'bench'}:${process.env.ANVIL_BENCH_PASSWORD}`).toString('base64')}` : undefined;

/**
 * basic-tls: makes the CA, certificate and user file, then runs this script again with them (the
 * client trusts the CA through NODE_EXTRA_CA_CERTS, which Node reads only at start).
 */
function reRunWithBasicTls(): never {
  const pki = makeTestPki();
  const password = 'bench-password';
  const userFile = path.join(pki.dir, 'htpasswd');
  writeFileSync(userFile, `bench:${bcrypt.hashSync(password, 10)}\n`);
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: {
      ...process.env, ANVIL_BENCH_AUTH: '', NODE_EXTRA_CA_CERTS: pki.caCert, ANVIL_BENCH_USER: 'bench', ANVIL_BENCH_PASSWORD: password,
      ANVIL_AUTH_STRATEGY: 'http_basic', ANVIL_HTTP_BASIC_USER_FILE: userFile, ANVIL_TLS_CERT: pki.serverCert, ANVIL_TLS_KEY: pki.serverKey,
    },
  });
  rmSync(pki.dir, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
if (process.env.ANVIL_BENCH_AUTH === 'basic-tls') reRunWithBasicTls();

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(method: string, urlPath: string, body?: unknown, record = true): Promise<Reply> {
  const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': MICROVERSION, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (process.env.OS_TOKEN) headers['X-Auth-Token'] = process.env.OS_TOKEN;
  if (BASIC) headers.Authorization = BASIC;
  const started = performance.now();
  const res = await fetch(nextBase() + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (record) latencies.push(performance.now() - started);
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Runs `fn` over `items` with at most CONCURRENCY in flight. */
async function pooled<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** A request that may meet a locked node (409) is retried, as clients of Ironic do. */
async function withRetry(method: string, urlPath: string, body: unknown, expected: number): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    const reply = await call(method, urlPath, body);
    if (reply.status === expected) return reply;
    if (reply.status !== 409 || attempt > 200) throw new Error(`${method} ${urlPath} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every node's provision state, by listing pages with only the fields needed (not recorded as API latency). */
async function provisionStates(): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  let url = '/v1/nodes?fields=uuid,provision_state&limit=1000';
  for (;;) {
    const reply = await call('GET', url, undefined, false);
    if (reply.status !== 200) throw new Error(`listing nodes answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    const nodes = reply.body.nodes as { uuid: string; provision_state: string }[];
    for (const n of nodes) states.set(n.uuid, n.provision_state);
    const next = reply.body.next as string | undefined;
    if (!next || nodes.length === 0) return states;
    const u = new URL(next);
    url = u.pathname + u.search;
  }
}

/** Whether any node is still in one of `states` (one node asked for: polling stays cheap for the server). */
async function anyIn(states: string[]): Promise<boolean> {
  for (const state of states) {
    const reply = await call('GET', `/v1/nodes?provision_state=${encodeURIComponent(state)}&fields=uuid&limit=1`, undefined, false);
    if (reply.status !== 200) throw new Error(`listing nodes answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    if ((reply.body.nodes as unknown[]).length > 0) return true;
  }
  return false;
}

/**
 * Waits until no node is in the phase's transient states (the API saved each node's new state
 * before answering 202), then checks every node reached `target`; returns those that failed.
 */
async function waitForState(uuids: string[], transient: string[], target: string): Promise<{ failed: Map<string, string> }> {
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  while (await anyIn(transient)) {
    if (Date.now() > deadline) throw new Error(`nodes did not leave ${transient.join('/')} in time`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const states = await provisionStates();
  const failed = new Map<string, string>();
  for (const uuid of uuids) {
    const s = states.get(uuid);
    if (s !== target) failed.set(uuid, s ?? 'missing');
  }
  return { failed };
}

/** CPU seconds used so far by the server processes, the database's backends (by pid) and this client. */
interface CpuSample {
  server: number;
  database: Map<number, number>;
  client: number;
}

/** Server processes to measure (ANVIL_BENCH_PIDS, or the all-in-one started here). */
let serverPids: number[] = [];
let pgClient: pg.Client | undefined;

async function sampleCpu(): Promise<CpuSample> {
  const database = new Map<number, number>();
  if (pgClient) {
    const { rows } = await pgClient.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    for (const { pid } of rows) database.set(pid, cpuSeconds(pid) ?? 0);
  }
  const own = process.cpuUsage();
  return { server: serverCpuSeconds(serverPids), database, client: (own.user + own.system) / 1e6 };
}

/** CPU seconds between two samples; a backend that ended in between is missed, one that started counts from 0. */
function cpuBetween(a: CpuSample, b: CpuSample): { server: number; database: number; client: number } {
  let database = 0;
  for (const [pid, used] of b.database) database += used - (a.database.get(pid) ?? 0);
  return { server: b.server - a.server, database, client: b.client - a.client };
}

interface PhaseResult {
  name: string;
  seconds: number;
  nodes: number;
  failed: number;
  cpu: { server: number; database: number; client: number };
}

/** Times a phase that works on every node (enroll, list). */
async function phase(name: string, uuids: string[], run: () => Promise<void>): Promise<PhaseResult> {
  const cpu = await sampleCpu();
  const started = performance.now();
  await run();
  return { name, seconds: (performance.now() - started) / 1000, nodes: uuids.length, failed: 0, cpu: cpuBetween(cpu, await sampleCpu()) };
}

async function provisionPhase(name: string, uuids: string[], verb: string, transient: string[], target: string): Promise<PhaseResult> {
  const cpu = await sampleCpu();
  const started = performance.now();
  await pooled(uuids, async (uuid) => {
    await withRetry('PUT', `/v1/nodes/${uuid}/states/provision`, { target: verb }, 202);
  });
  const { failed } = await waitForState(uuids, transient, target);
  const seconds = (performance.now() - started) / 1000;
  const used = cpuBetween(cpu, await sampleCpu());
  if (failed.size > 0) {
    const sample = [...failed.entries()].slice(0, 3).map(([u, s]) => `${u}: ${s}`).join(', ');
    process.stderr.write(`${name}: ${failed.size} nodes ended in a failure state (${sample})\n`);
  }
  return { name, seconds, nodes: uuids.length - failed.size, failed: failed.size, cpu: used };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds the server processes have used, together. */
function serverCpuSeconds(pids: number[]): number {
  return pids.map(cpuSeconds).reduce<number>((a, b) => a + (b ?? 0), 0);
}

/** Peak resident set size (VmHWM) of a process, in MiB, from /proc. */
function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Starts `anvil all-in-one` on a free port and waits until its API answers. */
async function startAnvil(): Promise<{ base: string; child: ChildProcess; database: string; cleanup: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-'));
  const database = process.env.ANVIL_BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, 'anvil.sqlite')}`;
  const port = await freePort();
  const profile = process.env.ANVIL_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.ANVIL_BENCH_CPU_PROF)}`] : [];
  const child = spawn(process.execPath, [...profile, path.resolve(ROOT, process.env.ANVIL_BENCH_ENTRY ?? 'bin/anvil.js'), 'all-in-one'], {
    cwd: dir,
    env: { ...process.env, ANVIL_DATABASE_URL: database, ANVIL_API_LISTEN: `127.0.0.1:${port}`, ANVIL_LOG_LEVEL: process.env.ANVIL_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `${process.env.ANVIL_TLS_CERT ? 'https' : 'http'}://127.0.0.1:${port}`;
  bases = [base];
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil all-in-one exited with ${child.exitCode}`);
    try {
      if ((await call('GET', '/', undefined, false)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('anvil all-in-one did not start within 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, child, database, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function main(): Promise<void> {
  const external = process.env.ANVIL_BENCH_URL;
  const anvil = external ? undefined : await startAnvil();
  if (external) bases = external.split(',').map((u) => u.replace(/\/$/, ''));
  const base = bases.join(', ');
  const pids = anvil ? [anvil.child.pid!] : (process.env.ANVIL_BENCH_PIDS ?? '').split(',').filter(Boolean).map(Number);
  serverPids = pids;
  if (process.env.ANVIL_BENCH_PG_URL) {
    pgClient = new pg.Client({ connectionString: process.env.ANVIL_BENCH_PG_URL });
    await pgClient.connect();
  }
  const auth = process.env.ANVIL_AUTH_STRATEGY ?? (BASIC ? 'basic credentials' : 'noauth');
  process.stdout.write(`lifecycle bench: ${N} nodes against ${base}${anvil ? ` (anvil all-in-one on ${anvil.database.replace(/\/\/[^@]*@/, '//')})` : ''}, ${auth}, ${CONCURRENCY} requests in flight, microversion ${MICROVERSION}\n`);

  try {
    const results: PhaseResult[] = [];
    const uuids: string[] = [];
    const names = Array.from({ length: N }, (_, i) => `bench-${Date.now().toString(36)}-${i}`);
    results.push(await phase('enroll', names, () => pooled(names, async (name) => {
      const reply = await call('POST', '/v1/nodes', {
        name,
        driver: 'fake-hardware',
        power_interface: 'fake',
        management_interface: 'fake',
        boot_interface: 'fake',
        deploy_interface: 'fake',
        instance_info: { image_source: 'http://127.0.0.1/bench.qcow2' },
      });
      if (reply.status !== 201) throw new Error(`POST /v1/nodes answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      uuids.push(reply.body.uuid as string);
    })));
    results.push(await provisionPhase('manage', uuids, 'manage', ['verifying'], 'manageable'));
    results.push(await provisionPhase('provide', uuids, 'provide', ['cleaning', 'clean wait'], 'available'));
    results.push(await provisionPhase('deploy', uuids, 'active', ['deploying', 'wait call-back'], 'active'));
    results.push(await phase('list detail', uuids, async () => {
      let url = '/v1/nodes/detail?limit=1000';
      let seen = 0;
      for (;;) {
        const reply = await call('GET', url);
        if (reply.status !== 200) throw new Error(`GET ${url} answered ${reply.status}`);
        const nodes = reply.body.nodes as unknown[];
        seen += nodes.length;
        const next = reply.body.next as string | undefined;
        if (!next || nodes.length === 0) break;
        const u = new URL(next);
        url = u.pathname + u.search;
      }
      if (seen < N) throw new Error(`listed ${seen} nodes, expected at least ${N}`);
    }));

    // The first page of a detail list (up to 1,000 nodes), alone on the server: its own latency.
    const listLatencies: number[] = [];
    let listed = 0;
    const cpuBeforeLists = serverCpuSeconds(pids);
    for (let i = 0; i < LIST_RUNS; i++) {
      const started = performance.now();
      const reply = await call('GET', '/v1/nodes?detail=True&limit=1000', undefined, false);
      listLatencies.push(performance.now() - started);
      if (reply.status !== 200) throw new Error(`GET /v1/nodes?detail=True answered ${reply.status}`);
      listed = (reply.body.nodes as unknown[]).length;
    }
    const cpuOfLists = serverCpuSeconds(pids) - cpuBeforeLists;

    // CPU per node of the phase, by process: which one a phase is bound by, on a machine of few cores.
    const perNode = (s: number, r: PhaseResult) => ((s * 1000) / (r.nodes + r.failed)).toFixed(2).padStart(9);
    process.stdout.write(`${'phase'.padEnd(12)} ${'nodes/s'.padStart(10)} ${'seconds'.padStart(9)} ${'failed'.padStart(7)}   CPU ms/node: ${'server'.padStart(9)} ${pgClient ? 'database'.padStart(9) : ''} ${'client'.padStart(9)}\n`);
    for (const r of results) {
      const cpu = `${pids.length ? perNode(r.cpu.server, r) : '?'.padStart(9)} ${pgClient ? perNode(r.cpu.database, r) : ''} ${perNode(r.cpu.client, r)}`;
      process.stdout.write(`${r.name.padEnd(12)} ${(r.nodes / r.seconds).toFixed(1).padStart(10)} ${r.seconds.toFixed(2).padStart(9)} ${String(r.failed).padStart(7)}                ${cpu}\n`);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(`API latency over ${sorted.length} requests: p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms\n`);
    if (LIST_RUNS > 0) {
      const lists = listLatencies.sort((a, b) => a - b);
      const cpu = pids.length ? `, server CPU ${((cpuOfLists * 1000) / lists.length).toFixed(1)} ms per call` : '';
      process.stdout.write(`GET /v1/nodes?detail=True of ${listed} nodes, ${lists.length} calls one at a time: p50 ${percentile(lists, 50).toFixed(2)} ms, p99 ${percentile(lists, 99).toFixed(2)} ms${cpu}\n`);
    }
    const server = pids.map(peakRssMiB).filter((v): v is number => v !== undefined);
    const client = process.resourceUsage().maxRSS / 1024;
    // CPU per request is steadier than throughput on a shared, loaded machine.
    if (pids.length) {
      const total = serverCpuSeconds(pids);
      process.stdout.write(`server CPU: ${total.toFixed(1)} s, ${((total * 1000) / sorted.length).toFixed(2)} ms per API request (conductor work included)\n`);
    }
    process.stdout.write(`peak RSS: server ${server.length ? `${server.reduce((a, b) => a + b, 0).toFixed(1)} MiB` : 'unknown (set ANVIL_BENCH_PIDS)'}, bench client ${client.toFixed(1)} MiB\n`);
  } finally {
    await pgClient?.end();
    if (anvil) {
      anvil.child.kill('SIGTERM');
      await new Promise((r) => anvil.child.once('exit', r));
      anvil.cleanup();
    }
  }
}

await main();
