// Memory of an all-in-one holding N fake-hardware nodes at rest, started as production runs it
// (`node dist/anvil.mjs all-in-one`, the bundle scripts/bundle.ts builds; `--entry bin/anvil.js`
// for the tsx entry). It enrolls the nodes through the API, lists them with detail, waits for a
// power sync of all of them, lets the process settle, then prints its RSS (and that of every
// process it started) and, with --heap, where the JS heap goes (a heap snapshot summed by kind).
//
//   npx tsx bench/at-rest.ts [--nodes 1000] [--entry dist/anvil.mjs] [--heap] [--node-flags='--max-semi-space-size=2 …']
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freeTcpPort } from '../test/helpers/ports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { nodes: { type: 'string', default: '1000' }, entry: { type: 'string', default: 'dist/anvil.mjs' }, heap: { type: 'boolean', default: false }, 'node-flags': { type: 'string', default: '' } },
});
const N = Number(args.nodes);
const SYNC_SECONDS = 5;
const HEADERS = { 'X-OpenStack-Ironic-API-Version': '1.72', 'Content-Type': 'application/json' };

function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of readFileSync(`/proc/${pid}/status`, 'utf8').matchAll(/^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB/gm)) out[m[1]] = Number(m[2]) / 1024;
  return out;
}

/** CPU seconds (user + system) the process has used, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The process and its descendants (tsx starts an esbuild service process), from /proc. */
function tree(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(kids.get(all[i]) ?? []));
  return all;
}

/** Sums a V8 heap snapshot's self sizes by node type, and objects by constructor name. */
function summarize(file: string): string {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [T, NAME, SIZE] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const byType = new Map<string, number>();
  const byName = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + T]];
    const size = snap.nodes[i + SIZE];
    total += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    if (type === 'object') {
      const name = snap.strings[snap.nodes[i + NAME]];
      byName.set(name, (byName.get(name) ?? 0) + size);
    }
  }
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${mib(v).padStart(10)}  ${k}`).join('\n');
  return `heap snapshot: ${mib(total)} of objects\nby kind:\n${top(byType, 8)}\nobjects by constructor:\n${top(byName, 10)}\n`;
}

async function api(base: string, method: string, url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(base + url, { method, headers: HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-at-rest-'));
const port = await freeTcpPort();
const config = path.join(dir, 'anvil.yaml');
writeFileSync(config, `conductor:\n  powerSyncInterval: ${SYNC_SECONDS}\n`);
const entry = path.resolve(ROOT, args.entry);
// The process reports its own memoryUsage() on SIGWINCH (a signal it otherwise ignores).
const REPORT = "data:text/javascript,import v8 from 'node:v8';process.on('SIGWINCH',()=>process.stderr.write('memoryUsage '+JSON.stringify({...process.memoryUsage(),spaces:v8.getHeapSpaceStatistics()})+'\\n'))";
const child = spawn(process.execPath, [...args['node-flags'].split(/\s+/).filter(Boolean), '--import', REPORT, ...(args.heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : []), entry, 'all-in-one'], {
  cwd: dir,
  env: { ...process.env, ANVIL_CONFIG: config, ANVIL_DATABASE_URL: `sqlite:${path.join(dir, 'anvil.sqlite')}`, ANVIL_API_LISTEN: `127.0.0.1:${port}`, ANVIL_LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
interface HeapSpace { space_name: string; space_size: number; space_used_size: number; physical_space_size: number }
let usage: (Record<string, number> & { spaces?: HeapSpace[] }) | undefined;
child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
  const m = /memoryUsage (\{.*\})/.exec(chunk);
  if (m) usage = JSON.parse(m[1]) as typeof usage;
  else process.stderr.write(chunk);
});
// The conductor logs each power sync's figures once its last read ends.
const syncs: string[] = [];
child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
  for (const m of chunk.matchAll(/"msg":"(power sync read \d+ of \d+ nodes)"/g)) syncs.push(m[1]);
});
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${args.entry} exited with ${child.exitCode}`);
    if (await fetch(`${base}/`).then((r) => r.ok, () => false)) break;
    if (i > 600) throw new Error(`${args.entry} did not answer within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const started = status(child.pid!);
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < N) {
      const i = next++;
      await api(base, 'POST', '/v1/nodes', { name: `rest-${i}`, driver: 'fake-hardware', power_interface: 'fake', management_interface: 'fake', boot_interface: 'fake', deploy_interface: 'fake' });
    }
  }));
  // Managed (verified by the fake power interface), as a fleet at rest is.
  const uuids = ((await api(base, 'GET', '/v1/nodes?fields=uuid&limit=1000')).nodes as { uuid: string }[]).map((n) => n.uuid);
  next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < uuids.length) await api(base, 'PUT', `/v1/nodes/${uuids[next++]}/states/provision`, { target: 'manage' });
  }));
  const listed = ((await api(base, 'GET', '/v1/nodes?detail=True&limit=1000')).nodes as unknown[]).length;
  // Two power-sync intervals: every node has been read once.
  await new Promise((r) => setTimeout(r, 2 * SYNC_SECONDS * 1000 + 1000));
  // At rest: no request for a while, a few syncs later.
  await new Promise((r) => setTimeout(r, 3 * SYNC_SECONDS * 1000));
  const pids = tree(child.pid!);
  const main = status(child.pid!);
  const total = pids.reduce((sum, pid) => sum + (status(pid).VmRSS ?? 0), 0);
  process.stdout.write(`all-in-one (${[...args['node-flags'].split(/\s+/).filter(Boolean), args.entry].join(' ')}) with ${N} nodes (${listed} listed with detail, last ${syncs.at(-1) ?? 'no power sync logged'}), at rest:\n`);
  process.stdout.write(`  RSS ${main.VmRSS.toFixed(1)} MiB (anonymous ${main.RssAnon.toFixed(1)}, file-backed ${main.RssFile.toFixed(1)}), peak ${main.VmHWM.toFixed(1)} MiB; ${started.VmRSS.toFixed(1)} MiB before the nodes; CPU ${cpuSeconds(child.pid!).toFixed(1)} s\n`);
  child.kill('SIGWINCH');
  for (let i = 0; i < 50 && !usage; i++) await new Promise((r) => setTimeout(r, 100));
  if (usage) {
    const mib = (k: string) => `${((usage![k] ?? 0) / 1048576).toFixed(1)} MiB`;
    process.stdout.write(`  V8 heap ${mib('heapTotal')} reserved, ${mib('heapUsed')} used; external ${mib('external')} (array buffers ${mib('arrayBuffers')})\n`);
    // Each space's resident size and what its objects use: where the reserved heap is not used.
    const space = (b: number) => (b / 1048576).toFixed(1);
    process.stdout.write(`  by space (resident / used MiB): ${(usage.spaces ?? []).filter((x) => x.physical_space_size > 0).map((x) => `${x.space_name.replace(/_space$/, '')} ${space(x.physical_space_size)}/${space(x.space_used_size)}`).join(', ')}\n`);
  }
  process.stdout.write(`  ${pids.length} process(es), RSS in all ${total.toFixed(1)} MiB\n`);
  if (args.heap) {
    child.kill('SIGUSR2');
    let file: string | undefined;
    for (let i = 0; i < 600 && !file; i++) {
      await new Promise((r) => setTimeout(r, 100));
      file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    }
    // The snapshot is written on the main thread: once the API answers again, it is complete.
    if (file) await fetch(`${base}/`);
    if (file) process.stdout.write(summarize(path.join(dir, file)));
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
