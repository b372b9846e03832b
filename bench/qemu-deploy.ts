// bench/qemu-deploy: real QEMU machines (TCG) taken enroll → inspect → provide → deploy → undeploy
// through `anvil all-in-one` (fast track on, its default), N at once, each machine on its own e2e rig
// (test/e2e/support/rig.ts: its own namespaces, Anvil and BMC), with the bootable OS image. For each
// phase: its wall time, the machine's floor — from each power on to the ramdisk starting the agent
// (firmware, iPXE, kernel and initramfs download, kernel boot), and the agent's download-and-write
// of the image (its log lines, seen on the serial console) — and what is left: Anvil's own time.
// Figures only.   npx tsx bench/qemu-deploy.ts [N=1] [--history: each node's history, timed]
//                  [--lldp-timeout S: netboot.lldpTimeout, how long inspection listens for LLDP; 0: not at all]
import { readFile } from 'node:fs/promises';
import { buildOsImage, type OsImage } from '../test/e2e/support/os-image.ts';
import { startQemuRig, type QemuRig } from '../test/e2e/support/rig.ts';

const n = Number(process.argv[2] ?? 1);
const lldpAt = process.argv.indexOf('--lldp-timeout');
const lldpTimeout = lldpAt > 0 ? Number(process.argv[lldpAt + 1]) : undefined;
if (!Number.isInteger(n) || n < 1 || n > 4) throw new Error(`N must be 1 to 4, got ${process.argv[2]}`);

type Mark = 'power on' | 'agent start' | 'image download' | 'image written';
const MARKS: [Mark, RegExp][] = [
  ['agent start', /anvil-ramdisk: \[[\d.]+\] starting the agent/g],
  ['image download', /"msg":"downloading image"/g],
  ['image written', /"msg":"(config drive written|image written)"/g],
];

/** Watches one machine: when it powers on, when its console shows the agent start and the image being written. */
function watch(rig: QemuRig): { marks: [number, Mark][]; stop(): void } {
  const marks: [number, Mark][] = [];
  const seen = new Map<Mark, number>();
  // Each start of the QEMU process, reboots included (a power reading every 100 ms misses a quick power cycle).
  const powered = (state: string) => { if (state === 'on') marks.push([Date.now(), 'power on']); };
  rig.machine.on('power', powered);
  const timer = setInterval(async () => {
    const now = Date.now();
    const text = await readFile(rig.machine.consoleLog, 'latin1').catch(() => '');
    for (const [mark, re] of MARKS) {
      const count = text.match(re)?.length ?? 0;
      for (let i = seen.get(mark) ?? 0; i < count; i++) marks.push([now, mark]);
      seen.set(mark, count);
    }
  }, 100);
  return { marks, stop: () => { clearInterval(timer); rig.machine.off('power', powered); } };
}

/** The floor within [start, end): each power on to the next agent start, each image download to its end. */
function floorOf(marks: [number, Mark][], start: number, end: number): { boot: number; write: number } {
  const inside = marks.filter(([t]) => t >= start && t <= end);
  let boot = 0;
  let write = 0;
  let poweredAt: number | undefined;
  let downloadAt: number | undefined;
  for (const [t, mark] of inside) {
    if (mark === 'power on') poweredAt = t;
    if (mark === 'agent start' && poweredAt !== undefined) { boot += t - poweredAt; poweredAt = undefined; }
    if (mark === 'image download') downloadAt = t;
    if (mark === 'image written' && downloadAt !== undefined) { write += t - downloadAt; downloadAt = undefined; }
  }
  return { boot, write };
}

interface PhaseFigure { phase: string; wall: number; boot: number; write: number }

async function cycle(index: number, os: OsImage): Promise<PhaseFigure[]> {
  const rig = await startQemuRig({ name: `bench${index}`, mac: `52:54:00:be:00:0${index + 1}`, cpus: 1, memoryMb: 1024,
    configure: (config) => { if (lldpTimeout !== undefined) config.netboot.lldpTimeout = lldpTimeout; },
  });
  const watcher = watch(rig);
  const figures: PhaseFigure[] = [];
  const phase = async (name: string, work: () => Promise<unknown>) => {
    const start = Date.now();
    await work();
    const end = Date.now();
    figures.push({ phase: name, wall: end - start, ...floorOf(watcher.marks, start, end) });
  };
  try {
    const uuid = await rig.enroll();
    await phase('inspect', async () => { await rig.provision(uuid, 'inspect'); await rig.waitForState(uuid, 'manageable', 600); });
    await phase('provide', async () => { await rig.provision(uuid, 'provide'); await rig.waitForState(uuid, 'available', 600); });
    const patch = await rig.api.patch(`/v1/nodes/${uuid}`, [
      { op: 'add', path: '/instance_info/image_source', value: `file://${os.qcow2}` },
      { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
      { op: 'add', path: '/instance_info/image_os_hash_value', value: os.sha256 },
      { op: 'add', path: '/instance_info/image_disk_format', value: 'qcow2' },
    ]);
    if (patch.status !== 200) throw new Error(`setting the image failed: ${JSON.stringify(patch.data)}`);
    await phase('deploy', async () => { await rig.provision(uuid, 'active', { configdrive: { meta_data: { hostname: `bench${index}` } } }); await rig.waitForState(uuid, 'active', 600); });
    await phase('undeploy', async () => { await rig.provision(uuid, 'deleted'); await rig.waitForState(uuid, 'available', 600); });
    if (process.argv.includes('--history')) {
      // Where Anvil's own time goes: the node's history, seconds from the first line.
      const events = ((await rig.api.get(`/v1/nodes/${uuid}/history?detail=True`)).data.history ?? []) as { created_at: string; event: string }[];
      const t0 = Date.parse(events[0]?.created_at ?? new Date().toISOString());
      for (const e of events) console.log(`vm${index} ${((Date.parse(e.created_at) - t0) / 1000).toFixed(2).padStart(7)} ${e.event.slice(0, 140)}`);
    }
    return figures;
  } finally {
    watcher.stop();
    await rig.close();
  }
}

const os = await buildOsImage();
const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
const runs = await Promise.all(Array.from({ length: n }, (_, i) => cycle(i, os)));
const s = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
console.log(`bench/qemu-deploy: ${n} QEMU machine(s) at once (TCG, 1 vCPU, 1 GiB), fast track on, LLDP listening ${lldpTimeout === undefined ? "the agent's default (10 s at most, 2 s with the link up and nothing heard)" : `${lldpTimeout} s`}; load average at start ${load}`);
console.log(`${'machine'.padEnd(9)}${'phase'.padEnd(10)}${'wall'.padStart(8)}${'boot floor'.padStart(12)}${'write floor'.padStart(13)}${'Anvil own'.padStart(11)}`);
runs.forEach((figures, i) => {
  for (const f of figures) console.log(`${`vm${i}`.padEnd(9)}${f.phase.padEnd(10)}${s(f.wall)}${s(f.boot).padStart(12)}${s(f.write).padStart(13)}${s(f.wall - f.boot - f.write).padStart(11)}`);
});
console.log(`load average at the end ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
