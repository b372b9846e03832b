// bench/deploy: N simulated servers of the virtual rack deployed at once with one qcow2 image,
// through Anvil all-in-one (API, conductor, netboot HTTP boot) on SQLite and the simulated agent.
// The nodes are first enrolled, managed and provided (cleaned) — not timed as the deploy; then all
// deploy together. Prints nodes/minute, the agents' image cache hit rate, peak RSS. Figures only.
//
//   npx tsx bench/deploy.ts [N=10] [--bmc redfish|ipmi]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CachedImageStore } from '../deploy-agent/image-store.ts';
import { defaultConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { ImageCache } from '../images/cache.ts';
import { startAllInOne } from '../services/roles.ts';
import { runCycle, type PhaseResult } from '../simulators/rack/cycle.ts';
import { makeDemoImage } from '../simulators/rack/demo.ts';
import { VirtualRack, type RackBmc } from '../simulators/rack/index.ts';

const n = Number(process.argv[2] ?? 10);
const bmc = (process.argv.includes('--bmc') ? process.argv[process.argv.indexOf('--bmc') + 1] : 'redfish') as RackBmc;
if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive whole number, got ${process.argv[2]}`);

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);

const dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-bench-deploy-'));
const config = defaultConfig(dir);
config.api.port = 0;
config.conductor = { ...config.conductor, pollInterval: 0.2, powerSyncInterval: 0 };
config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };

const image = await makeDemoImage(path.join(dir, 'image'));
const anvil = await startAllInOne(config, silentLogger);
const agentCache = new ImageCache(path.join(dir, 'agent-cache'), 4 * 1024 ** 3);
const rack = await VirtualRack.start({
  machines: n, bmc, apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger,
  images: new CachedImageStore(agentCache),
});

const phaseLine = (r: PhaseResult) => `${r.phase.padEnd(8)} ${String(r.reached).padStart(4)}/${n} nodes  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${(r.reached / (r.ms / 60_000)).toFixed(1).padStart(8)} nodes/min${r.failed.length ? `  FAILED ${r.failed.length}: ${r.failed[0].name} ${r.failed[0].provision_state} ${r.failed[0].last_error}` : ''}`;

try {
  console.log(`bench/deploy: ${n} ${bmc} nodes, SQLite all-in-one, simulated agents, one ${path.basename(image.qcow2)}`);
  const common = {
    apiUrl: anvil.apiUrl!,
    rack,
    image: { source: pathToFileURL(image.qcow2).href, sha256: image.sha256, format: 'qcow2' as const },
    nodeFields: { boot_interface: 'ipxe', deploy_interface: 'direct', inspect_interface: 'agent' },
    phaseTimeoutSec: 600,
  };
  const setup = await runCycle({ ...common, phases: ['enroll', 'manage', 'provide'] });
  for (const r of setup.phases) console.log(`  ${phaseLine(r)}`);
  const deploy = await runCycle({ ...common, phases: ['deploy'], configdrive: (name) => ({ meta_data: { hostname: name } }) });
  const result = deploy.phases[0];
  console.log(`  ${phaseLine(result)}`);
  const { hits, misses } = agentCache.stats;
  console.log('');
  console.log(`deploy: ${(result.reached / (result.ms / 60_000)).toFixed(1)} nodes/minute (${result.reached} of ${n} active in ${(result.ms / 1000).toFixed(1)} s)`);
  console.log(`image cache (agents): ${hits} hits, ${misses} misses — hit rate ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)} %`);
  console.log(`peak RSS: ${(peakRss / 1024 / 1024).toFixed(0)} MiB (API, conductor, netboot, BMC simulators and ${n} agents in one process)`);
} finally {
  clearInterval(sampler);
  await rack.close();
  await anvil.stop();
  await rm(dir, { recursive: true, force: true });
}
