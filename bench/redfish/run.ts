// Redfish power-status figures against 1,000 simulated systems: calls per second and p50/p99
// latency through the driver (getPowerState: one GET of the system over a kept-alive connection),
// with bounded concurrency, and CPU milliseconds per call on each side (client: this process;
// BMC: the simulator, `anvil simulate redfish` in a child process), which a loaded machine
// distorts less than wall-clock figures. The first round (system discovery per node: the Systems
// collection walk) is reported apart.
// Run: npx tsx bench/redfish/run.ts [calls=10000] [concurrency=32] [systems=1000]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { defaultConfig } from '../../common/config.ts';
import { silentLogger } from '../../common/logger.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { TaskContext } from '../../drivers/interfaces.ts';
import { getImplementation, resolveDriver } from '../../drivers/registry.ts';
import { closeAllClients } from '../../drivers/redfish/connections.ts';

const [calls = 10000, concurrency = 32, systems = 1000] = process.argv.slice(2).map(Number);
const ANVIL = path.resolve(import.meta.dirname, '../../bin/anvil.js');
const TICK = 100; // USER_HZ

/** utime+stime of a process, in seconds. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ').map(Number);
  return (fields[11] + fields[12]) / TICK;
}

const child = execa('node', [ANVIL, 'simulate', 'redfish', '--systems', String(systems), '--listen', '127.0.0.1:0', '--username', 'bench', '--password', 'bench'], { reject: false });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = / at (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  child.once('exit', () => reject(new Error(`simulator exited: ${out}`)));
});

const width = Math.max(4, String(systems).length);
const contexts: TaskContext[] = Array.from({ length: systems }, (_, i) => ({
  node: {
    uuid: randomUUID(),
    driver: 'redfish',
    driver_info: { redfish_address: url, redfish_system_id: `node-${String(i + 1).padStart(width, '0')}`, redfish_username: 'bench', redfish_password: 'bench', redfish_auth_type: 'session' },
  } as unknown as NodeRecord,
  ports: [],
  driver: resolveDriver({ driver: 'redfish' }),
  logger: silentLogger,
  config: defaultConfig(),
  signal: new AbortController().signal,
  async save() {},
  async note() {},
  async setBootRecords() {},
  async saveBiosSettings() {},
  async saveFirmwareComponents() {},
}));
const power = getImplementation('power', 'redfish');

interface Round { seconds: number; latencies: number[]; clientCpu: number; bmcCpu: number }

async function run(total: number, pick: (n: number) => TaskContext): Promise<Round> {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const bmc0 = cpuOf(child.pid!);
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) {
      const n = next++;
      const t0 = process.hrtime.bigint();
      const state = await power.getPowerState(pick(n));
      if (state !== 'power off') throw new Error(`unexpected power state ${state}`);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu0);
  return { seconds, latencies, clientCpu: (used.user + used.system) / 1e6, bmcCpu: cpuOf(child.pid!) - bmc0 };
}

function report(label: string, r: Round): void {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
  const perCall = (s: number) => ((s * 1000) / sorted.length).toFixed(3);
  console.log(`${label}: ${sorted.length} calls in ${r.seconds.toFixed(2)} s = ${(sorted.length / r.seconds).toFixed(0)} calls/s, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; CPU per call: client ${perCall(r.clientCpu)} ms, BMC ${perCall(r.bmcCpu)} ms`);
}

try {
  console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${(await import('node:os')).cpus().length} CPUs`);
  console.log(`Redfish power status through the driver: ${systems} simulated systems behind one endpoint (${url}), session auth, concurrency ${concurrency}`);
  report('first call per node (finds its system in the collection)', await run(systems, (n) => contexts[n]));
  report('power status, steady state', await run(calls, (n) => contexts[n % systems]));
} finally {
  await closeAllClients();
  child.kill('SIGTERM');
  await child;
}
