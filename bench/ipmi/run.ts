// IPMI power-status figures, per transport (ipmitool processes, native RMCP+ sessions), for 1 and
// for 100 BMCs: calls per second, p50/p99 latency, and CPU seconds per 1,000 calls on the client side
// (this process plus the ipmitool processes it ran) and on the BMC side (the simulator process).
// The BMCs are `anvil simulate ipmi` in a child process. Every call goes through the driver's
// scheduler (one call in flight per BMC, min interval 0 here).
// Run: npx tsx bench/ipmi/run.ts [nativeCalls=5000] [ipmitoolCalls=200] [ipmitoolWorkers=4]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { NodeRecord } from '../../db/nodes.ts';
import { parseIpmiInfo } from '../../drivers/ipmi/driver-info.ts';
import { readPowerState } from '../../drivers/ipmi/power.ts';
import { closeIpmiClients } from '../../drivers/ipmi/client.ts';
import { freeUdpRun } from '../udp-ports.ts';

const [nativeCalls = 5000, ipmitoolCalls = 200, ipmitoolWorkers = 4] = process.argv.slice(2).map(Number);
const BMCS = 100;
const ANVIL = path.resolve(import.meta.dirname, '../../bin/anvil.js');
const TICK = 100; // clock ticks per second in /proc/*/stat (USER_HZ)

/** utime+stime (and the reaped children's) of a process, in seconds. */
function cpuOf(pid: number | 'self', children = false): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ').map(Number);
  // after the command name: state=0 ... utime=11 stime=12 cutime=13 cstime=14
  return (fields[11] + fields[12] + (children ? fields[13] + fields[14] : 0)) / TICK;
}

const firstPort = await freeUdpRun(BMCS);
const sim = execa('node', [ANVIL, 'simulate', 'ipmi', '--bmcs', String(BMCS), '--port', String(firstPort), '--username', 'admin', '--password', 'password'], { reject: false });
await new Promise<void>((resolve, reject) => {
  sim.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('ready')) resolve(); });
  sim.once('exit', () => reject(new Error('simulator exited')));
});

const infoFor = (k: number, transport: string) => parseIpmiInfo({
  uuid: `bench-${k}`,
  driver_info: {
    ipmi_address: '127.0.0.1', ipmi_port: firstPort + k, ipmi_username: 'admin', ipmi_password: 'password', ipmi_cipher_suite: 3,
    ipmi_transport: transport, ipmi_min_command_interval: 0,
  },
} as unknown as NodeRecord);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function measure(transport: 'native' | 'ipmitool', bmcs: number, calls: number, workers: number) {
  const infos = Array.from({ length: bmcs }, (_, k) => infoFor(k, transport));
  const pool = async (n: number, each: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(Array.from({ length: workers }, async () => { while (next < n) await each(next++); }));
  };
  // One warm-up call per BMC: sessions opened, ipmitool's page cache warm.
  await pool(bmcs, (i) => readPowerState(infos[i], 'change').then(() => {}));
  const latencies: number[] = [];
  const client0 = cpuOf('self', true);
  const bmc0 = cpuOf(sim.pid!);
  const t0 = performance.now();
  await pool(calls, async (i) => {
    const start = performance.now();
    await readPowerState(infos[i % bmcs], 'change');
    latencies.push(performance.now() - start);
  });
  const seconds = (performance.now() - t0) / 1000;
  const clientCpu = cpuOf('self', true) - client0;
  const bmcCpu = cpuOf(sim.pid!) - bmc0;
  latencies.sort((a, b) => a - b);
  return {
    transport, bmcs, calls, workers,
    callsPerSecond: Math.round(calls / seconds),
    p50ms: Number(pct(latencies, 0.5).toFixed(2)),
    p99ms: Number(pct(latencies, 0.99).toFixed(2)),
    clientCpuSecPer1000: Number((clientCpu * 1000 / calls).toFixed(2)),
    bmcCpuSecPer1000: Number((bmcCpu * 1000 / calls).toFixed(2)),
  };
}

try {
  const rows = [
    await measure('native', 1, nativeCalls, 1),
    await measure('native', BMCS, nativeCalls * 2, BMCS),
    await measure('ipmitool', 1, ipmitoolCalls, 1),
    await measure('ipmitool', BMCS, ipmitoolCalls * 2, ipmitoolWorkers),
  ];
  console.log('IPMI chassis power status (Get Chassis Status), Anvil simulator as BMCs, cipher suite 3');
  console.table(rows);
} finally {
  await closeIpmiClients();
  sim.kill('SIGTERM');
  await sim;
}
