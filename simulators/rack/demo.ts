// Anvil's main job (`npm start`, `anvil demo`): all-in-one on SQLite with a virtual rack, and a
// real enroll → manage → inspect → provide (clean) → deploy cycle of a qcow2 image made on the
// spot, with progress a person can follow and a summary table at the end. Then it keeps serving
// the API (so the `baremetal` CLI can look around) until Ctrl-C, or exits with --exit.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { execa } from 'execa';
import { loadConfig } from '../../common/config.ts';
import { errorMessage } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { startAllInOne } from '../../services/roles.ts';
import { readPartitionTable } from '../../deploy-agent/disk.ts';
import { ALL_PHASES, runCycle, type NodeState, type Phase } from './cycle.ts';
import { VirtualRack, type RackBmc, type RackEvent } from './index.ts';

const IMAGE_BYTES = 64 * 1024 * 1024;

export interface DemoImage { raw: string; qcow2: string; sha256: string }

/** A small whole-disk image: an MBR with one Linux partition holding a marker, as qcow2. */
export async function makeDemoImage(dir: string): Promise<DemoImage> {
  await mkdir(dir, { recursive: true });
  const raw = path.join(dir, 'demo-image.raw');
  const qcow2 = path.join(dir, 'demo-image.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'raw', raw, String(IMAGE_BYTES)]);
  await execa('sfdisk', ['--quiet', raw], { input: 'label: dos\n,,L\n' });
  const fh = await open(raw, 'r+');
  try {
    await fh.write(Buffer.from(`Anvil demo image, built ${new Date().toISOString()}\n`), 0, undefined, 1024 * 1024);
  } finally {
    await fh.close();
  }
  await execa('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { raw, qcow2, sha256: await sha256Of(qcow2) };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Whether `disk` holds the raw image byte for byte, but for the MBR's partition entries (the agent
 * adds the config drive partition there), and a config drive partition after it.
 */
export async function diskHoldsImage(disk: string, raw: string): Promise<boolean> {
  const [a, b] = await Promise.all([readHead(disk, IMAGE_BYTES), readHead(raw, IMAGE_BYTES)]);
  if (!a || !b) return false;
  a.fill(0, 446, 510);
  b.fill(0, 446, 510);
  if (!a.equals(b)) return false;
  const table = await readPartitionTable(disk);
  return (table?.partitions.length ?? 0) >= 2;
}

async function readHead(file: string, bytes: number): Promise<Buffer | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return bytesRead === bytes ? buf : undefined;
  } finally {
    await fh.close();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

interface DemoOptions { nodes: string; bmc: string; exit?: boolean; keepData?: boolean }

async function runDemo(opts: DemoOptions): Promise<void> {
  const count = Number(opts.nodes);
  if (!Number.isInteger(count) || count < 1 || count > 200) throw new Error(`--nodes must be a whole number from 1 to 200, got "${opts.nodes}"`);
  if (!['redfish', 'ipmi', 'irmc', 'ovirt'].includes(opts.bmc)) throw new Error(`--bmc must be redfish, ipmi, irmc or ovirt, got "${opts.bmc}"`);
  const config = loadConfig();
  // The demo's rack is new each run, so it gets a database of its own (unless one is given).
  const demoDir = path.join(config.dataDir, 'demo');
  if (!opts.keepData) await rm(demoDir, { recursive: true, force: true });
  if (!process.env.ANVIL_DATABASE_URL) config.database.url = `sqlite:${path.join(demoDir, 'anvil.sqlite')}`;
  config.images.cacheDir = path.join(demoDir, 'image-cache');
  config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0', root: path.join(demoDir, 'httpboot') } };
  config.log.level = process.env.ANVIL_LOG_LEVEL ?? 'warn';
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const say = (text: string) => process.stdout.write(`${text}\n`);
  const t0 = Date.now();
  const stamp = () => `[${seconds(Date.now() - t0).padStart(7)}]`;

  say(`Anvil demo: ${count} simulated ${opts.bmc} servers, all-in-one on ${config.database.url}`);
  const image = await makeDemoImage(path.join(demoDir, 'images'));
  say(`${stamp()} built a qcow2 image: ${image.qcow2} (sha256 ${image.sha256.slice(0, 16)}…)`);

  const anvil = await startAllInOne(config, logger);
  say(`${stamp()} API listening on ${anvil.apiUrl}; HTTP boot on ${anvil.netbootUrl}`);
  if (config.console.enabled) say(`${stamp()} web console: ${anvil.apiUrl}/console/ (open it to watch the servers live)`);
  const rack = await VirtualRack.start({ machines: count, apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(demoDir, 'disks'), logger, bmc: opts.bmc as RackBmc });
  rack.on('event', (e: RackEvent) => {
    if (e.kind === 'netboot') say(`${stamp()} ${e.machine}: PXE boot from ${e.mac} → ${e.purpose} ramdisk, agent starting`);
    else if (e.kind === 'netboot-refused') say(`${stamp()} ${e.machine}: PXE boot found nothing (${e.reason})`);
    else if (e.kind === 'disk-boot') say(`${stamp()} ${e.machine}: booting from disk: ${e.bootable ? `${e.partitionTable} partition table, the deployed image runs` : 'no bootable image'}`);
  });
  say(`${stamp()} virtual rack up: ${rack.machines.map((m) => m.name).join(', ')}`);

  let ok = false;
  try {
    const result = await runCycle({
      apiUrl: anvil.apiUrl!,
      rack,
      image: { source: pathToFileURL(image.qcow2).href, sha256: image.sha256, format: 'qcow2' },
      nodeFields: { boot_interface: 'ipxe', deploy_interface: 'direct', inspect_interface: 'agent' },
      configdrive: (name) => ({
        meta_data: { hostname: name, 'local-hostname': name },
        user_data: `#cloud-config\nhostname: ${name}\n`,
        network_data: { links: [], networks: [], services: [] },
      }),
      phases: ALL_PHASES,
      phaseTimeoutSec: 180,
      onStateChange: (c) => say(`${stamp()} ${c.node}: ${c.from ?? '…'} → ${c.to}`),
      onPhase: (phase: Phase, r) => {
        const failed = r.failed.map((n) => `${n.name} (${n.provision_state}: ${n.last_error ?? 'no error recorded'})`).join('; ');
        say(`${stamp()} == ${phase}: ${r.reached}/${count} nodes in ${seconds(r.ms)}${failed ? ` — FAILED: ${failed}` : ''}`);
      },
    });
    const rows = [['node', 'uuid', 'state', 'power', 'disk: image + config drive', 'last error']];
    let allGood = true;
    for (const n of result.nodes as NodeState[]) {
      const machine = rack.machines.find((m) => m.name === n.name)!;
      const disk = rack.diskPath(machine);
      const holds = n.provision_state === 'active' && (await diskHoldsImage(disk, image.raw));
      allGood &&= n.provision_state === 'active' && holds;
      rows.push([n.name, n.uuid, n.provision_state, n.power_state ?? '-', holds ? 'yes (byte for byte)' : 'no', n.last_error ?? '']);
    }
    say('');
    say(table(rows));
    say('');
    ok = allGood;
    say(ok ? `All ${count} nodes are active, in ${seconds(Date.now() - t0)}.` : 'Some nodes did not reach active: see the table above and `baremetal node history list <node>`.');
  } catch (err) {
    say(`The cycle stopped: ${errorMessage(err)}`);
  }

  const stop = async (code: number) => {
    await rack.close();
    await anvil.stop();
    process.exit(code);
  };
  if (opts.exit) return stop(ok ? 0 : 1);
  say(`Anvil keeps serving the API on ${anvil.apiUrl}; try:`);
  say(`  baremetal --os-auth-type none --os-endpoint ${anvil.apiUrl} node list`);
  if (config.console.enabled) say(`  the web console: ${anvil.apiUrl}/console/`);
  say('Ctrl-C stops it.');
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('The main job: all-in-one on SQLite with a virtual rack of simulated servers, taken from enroll to active with a real qcow2 image')
    .option('-n, --nodes <count>', 'how many simulated servers', '4')
    .option('--bmc <kind>', 'BMC of the simulated servers: redfish, ipmi, irmc (a Fujitsu iRMC each) or ovirt (VMs of an oVirt Engine)', 'redfish')
    .option('--exit', 'exit when the cycle ends (status 0 only if every node reached active) instead of serving the API')
    .option('--keep-data', 'keep the previous demo database and disks (default: start afresh under data/demo)')
    .action((opts: DemoOptions) => runDemo(opts));
}
