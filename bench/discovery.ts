// Auto-discovery of a virtual rack: N simulated machines nobody enrolled power on into PXE at once;
// the netboot role serves their unknown MACs the inspection ramdisk, the simulated agents post their
// inventories, and each becomes a node (fake-hardware, discovery.path manage) that ends manageable.
// Prints machines discovered per minute (node created) and per minute into manageable, on SQLite,
// all-in-one in this process as `npm start` runs it. A figure, never a pass/fail.
//
//   npm run bench:discovery -- [--machines 500]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import axios from 'axios';
import { defaultConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { startAllInOne } from '../services/roles.ts';
import { VirtualRack } from '../simulators/rack/index.ts';

const { values } = parseArgs({ options: { machines: { type: 'string', default: '500' } } });
const MACHINES = Number(values.machines);
if (!Number.isInteger(MACHINES) || MACHINES < 1) {
  process.stderr.write('--machines must be a whole number above 0\n');
  process.exit(2);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-bench-discovery-'));
const config = defaultConfig(dir);
config.api.port = 0;
config.conductor = { ...config.conductor, hostname: 'bench-discovery', powerSyncInterval: 0 };
config.discovery = { enabled: true, driver: 'fake-hardware', path: 'manage' };
config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false, discovery: true }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
const anvil = await startAllInOne(config, silentLogger);
const rack = await VirtualRack.start({ machines: MACHINES, apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger });
const api = axios.create({ baseURL: `${anvil.apiUrl}/v1`, headers: { 'X-OpenStack-Ironic-API-Version': '1.89' } });

const started = Date.now();
for (const m of rack.machines) {
  m.setBootOverride({ device: 'pxe', persistent: false });
  await m.power('on');
}
let createdAt: number | undefined;
let counts = { created: 0, manageable: 0 };
let lastChange = Date.now();
let lastPrint = Date.now();
while (counts.manageable < MACHINES) {
  const before = JSON.stringify(counts);
  const nodes: { provision_state: string }[] = [];
  for (let marker: string | undefined; ;) {
    const page = (await api.get('/nodes', { params: { fields: 'uuid,provision_state', limit: 1000, marker } })).data.nodes as { uuid: string; provision_state: string }[];
    nodes.push(...page);
    if (page.length < 1000) break;
    marker = page[page.length - 1].uuid;
  }
  counts = { created: nodes.length, manageable: nodes.filter((n) => n.provision_state === 'manageable').length };
  if (createdAt === undefined && counts.created >= MACHINES) createdAt = Date.now();
  if (JSON.stringify(counts) !== before) lastChange = Date.now();
  if (Date.now() - lastPrint > 15_000) {
    lastPrint = Date.now();
    console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${counts.created} nodes, ${counts.manageable} manageable`);
  }
  // Machines the netboot role never answered (their firmware gave up) are left waiting: say so and stop.
  if (Date.now() - lastChange > 60_000) {
    console.log(`stalled: ${counts.created} of ${MACHINES} machines discovered, ${counts.manageable} manageable, nothing new for 60 s`);
    break;
  }
  await new Promise((r) => setTimeout(r, 250));
}
const doneAt = counts.manageable === MACHINES ? Date.now() : lastChange;
const perMinute = (n: number, ms: number) => (n / (ms / 60_000)).toFixed(0);
console.log(`discovery of ${MACHINES} unknown machines (all-in-one, SQLite, simulated agents):`);
const createdBy = createdAt ?? lastChange;
console.log(`  ${counts.created} nodes created in ${((createdBy - started) / 1000).toFixed(1)} s   ${perMinute(counts.created, createdBy - started)} machines discovered/min`);
console.log(`  ${counts.manageable} manageable in ${((doneAt - started) / 1000).toFixed(1)} s   ${perMinute(counts.manageable, doneAt - started)} machines/min into manageable`);
console.log(`  peak RSS           ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (this process: Anvil and the rack)`);
await rack.close();
await anvil.stop();
await rm(dir, { recursive: true, force: true });
