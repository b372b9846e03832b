// Power sync of a fleet: N Redfish systems spread over a few `anvil simulate redfish` processes
// and M IPMI BMCs (`anvil simulate ipmi`, native transport), seeded straight into a new SQLite
// database through db/ as `manageable` with their power state already known (enrolling 11,000
// nodes through the API would take longer than the measurement), then one `anvil conductor`
// process (started as in production: node bin/anvil.js) syncing power every --interval seconds.
// Per sweep it prints what the conductor logged at the sweep's end (nodes, reads, missed, seconds)
// and, from /proc, the conductor's CPU % of one core since the previous sweep and its RSS.
// BMC calls/s is the sweep's reads over its duration (one GET or one IPMI command per read).
//
//   npm run bench:fleet -- [--redfish 10000] [--ipmi 1000] [--simulators 4] [--interval 60] [--sweeps 3]
//                          [--cpu-prof DIR]   the conductor writes a V8 CPU profile into DIR as it stops
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../db/index.ts';
import { createNode } from '../db/nodes.ts';
import { freeUdpRun } from './udp-ports.ts';

const { values: opts } = parseArgs({
  options: {
    redfish: { type: 'string', default: '10000' },
    ipmi: { type: 'string', default: '1000' },
    simulators: { type: 'string', default: '4' },
    interval: { type: 'string', default: '60' },
    sweeps: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const REDFISH = Number(opts.redfish);
const IPMI = Number(opts.ipmi);
const SIMULATORS = Math.max(1, Math.min(Number(opts.simulators), REDFISH || 1));
const INTERVAL = Number(opts.interval);
const SWEEPS = Number(opts.sweeps);
for (const [name, v] of Object.entries({ redfish: REDFISH, ipmi: IPMI, simulators: SIMULATORS, interval: INTERVAL, sweeps: SWEEPS })) {
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`--${name} must be a number ≥ 0\n`);
    process.exit(2);
  }
}

const ANVIL = path.resolve(import.meta.dirname, '../bin/anvil.js');
const TICK = 100; // USER_HZ
const children: ChildProcess[] = [];
const workDir = mkdtempSync(path.join(os.tmpdir(), 'anvil-fleet-'));

/** Stops every process started here (they stop cleanly on SIGTERM) and removes the database. */
async function cleanUp(): Promise<void> {
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((resolve) => {
    c.once('exit', resolve);
    c.kill('SIGTERM');
  })));
  rmSync(workDir, { recursive: true, force: true });
}
process.on('SIGINT', () => { void cleanUp().then(() => process.exit(130)); });

/** utime+stime of a process, in seconds. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ').map(Number);
  return (fields[11] + fields[12]) / TICK;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Starts `node bin/anvil.js args` and resolves with its output once `ready` matches it. */
function start(args: string[], ready: RegExp, nodeArgs: string[] = []): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeArgs, ANVIL, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve({ child, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`anvil ${args.join(' ')} exited (${code}): ${out}`)));
  });
}


const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

try {
  // Simulators: the Redfish systems split evenly, each process numbering its own from node-0001.
  const perSim = Array.from({ length: REDFISH ? SIMULATORS : 0 }, (_, i) => Math.floor(REDFISH / SIMULATORS) + (i < REDFISH % SIMULATORS ? 1 : 0));
  const redfishUrls = await Promise.all(perSim.map(async (n) => (await start(
    ['simulate', 'redfish', '--systems', String(n), '--listen', '127.0.0.1:0', '--username', 'bench', '--password', 'bench'], / at (http:\/\/\S+)/)).match[1]));
  const ipmiPort = IPMI ? await freeUdpRun(IPMI) : 0;
  if (IPMI) await start(['simulate', 'ipmi', '--bmcs', String(IPMI), '--port', String(ipmiPort), '--username', 'admin', '--password', 'password'], /ready/);
  const simulatorPids = children.map((c) => c.pid!);

  // Seeding: one transaction of createNode calls, each node manageable and its power state known.
  const dbUrl = `sqlite:${path.join(workDir, 'anvil.sqlite')}`;
  const seedStarted = performance.now();
  const db = await openDatabase(dbUrl);
  const common = { provision_state: 'manageable', power_state: 'power off', boot_interface: 'fake', deploy_interface: 'fake', inspect_interface: 'no-inspect' };
  await db.knex.transaction(async (trx) => {
    for (const [s, n] of perSim.entries()) {
      const width = Math.max(4, String(n).length);
      for (let i = 1; i <= n; i++) {
        await createNode(trx, {
          ...common, driver: 'redfish', name: `rf-${s}-${i}`,
          driver_info: { redfish_address: redfishUrls[s], redfish_system_id: `node-${String(i).padStart(width, '0')}`, redfish_username: 'bench', redfish_password: 'bench', redfish_auth_type: 'session' },
        });
      }
    }
    for (let k = 0; k < IPMI; k++) {
      await createNode(trx, {
        ...common, driver: 'ipmi', name: `ipmi-${k}`,
        driver_info: { ipmi_address: '127.0.0.1', ipmi_port: ipmiPort + k, ipmi_username: 'admin', ipmi_password: 'password', ipmi_cipher_suite: 3, ipmi_min_command_interval: 0 },
      });
    }
  });
  await db.knex.destroy();
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const configFile = path.join(workDir, 'anvil.yaml');
  writeFileSync(configFile, JSON.stringify({
    database: { url: dbUrl },
    conductor: { hostname: 'fleet-bench', powerSyncInterval: INTERVAL },
    log: { level: 'info', pretty: false },
  }));
  const { child: conductor } = await start(['conductor', '--config', configFile], /conductor fleet-bench started/,
    opts['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts['cpu-prof'])}`] : []);
  const pid = conductor.pid!;
  process.stdout.write(`fleet: ${REDFISH} Redfish systems on ${perSim.length} simulator(s), ${IPMI} IPMI BMCs (native); seeded in ${seedSeconds.toFixed(1)} s; `
    + `power sync every ${INTERVAL} s, ${SWEEPS} sweeps; conductor pid ${pid}, RSS at start ${rssMiB(pid).toFixed(0)} MiB\n`);

  interface Sweep { nodes: number; read: number; missed: number; seconds: number; cpuPct: number; rss: number; calls: number }
  const sweeps: Sweep[] = [];
  let lastCpu = cpuOf(pid);
  let lastAt = performance.now();
  const bmcCpu0 = simulatorPids.map(cpuOf);
  const runStarted = performance.now();
  const cpuStart = lastCpu;
  let peakRss = rssMiB(pid);
  const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, rssMiB(pid)); }, 500);
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    conductor.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('power sync read')) continue;
        const rec = JSON.parse(line) as { nodes: number; read: number; missed: number; seconds: number };
        const cpu = cpuOf(pid);
        const at = performance.now();
        const s: Sweep = { ...rec, cpuPct: (100 * (cpu - lastCpu)) / ((at - lastAt) / 1000), rss: rssMiB(pid), calls: rec.read / rec.seconds };
        lastCpu = cpu;
        lastAt = at;
        sweeps.push(s);
        process.stdout.write(`sweep ${sweeps.length}: ${s.read}/${s.nodes} nodes read in ${s.seconds.toFixed(1)} s, ${s.calls.toFixed(0)} BMC calls/s, missed ${s.missed}, `
          + `conductor CPU ${s.cpuPct.toFixed(1)} % of a core since the previous sweep, RSS ${s.rss.toFixed(0)} MiB\n`);
        if (sweeps.length >= SWEEPS) resolve();
      }
    });
    conductor.once('exit', (code) => reject(new Error(`conductor exited (${code})`)));
  });
  clearInterval(rssTimer);
  const wall = (performance.now() - runStarted) / 1000;
  const durations = sweeps.map((s) => s.seconds).sort((a, b) => a - b);
  const steady = sweeps.slice(1);
  const bmcCpu = simulatorPids.map((p, i) => cpuOf(p) - bmcCpu0[i]).reduce((a, b) => a + b, 0);
  process.stdout.write(`sweep duration p50 ${pct(durations, 0.5).toFixed(1)} s, p99 ${pct(durations, 0.99).toFixed(1)} s; `
    + `conductor CPU ${(100 * (cpuOf(pid) - cpuStart) / wall).toFixed(1)} % of a core on average over ${wall.toFixed(0)} s`
    + (steady.length ? ` (${(steady.reduce((a, s) => a + s.cpuPct, 0) / steady.length).toFixed(1)} % after the first sweep)` : '')
    + `; peak RSS ${peakRss.toFixed(0)} MiB; missed ${sweeps.reduce((a, s) => a + s.missed, 0)} node reads in all; simulators' CPU ${(100 * bmcCpu / wall).toFixed(1)} % of a core\n`);
} finally {
  await cleanUp();
}
