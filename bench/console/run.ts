// The web console's fleet view at scale, in Debian's chromium: N nodes seeded straight into the
// database, the console opened on them, then C nodes (the first rows in view among them) changing
// state in one transaction, as a conductor's writes land, R times. Per round it prints the
// latency from the commit to the event stream (a second subscriber, in this process), to the first
// row changed in the browser's DOM, and to the last visible row changed; then the first page's load
// and a search's round trip at N nodes. Prints figures only; it never passes or fails.
//   npx tsx bench/console/run.ts [--nodes 10000] [--changes 1000] [--rounds 5] [--db sqlite|postgres://...]
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../common/config.ts';
import { silentLogger } from '../../common/logger.ts';
import { now, openDatabase } from '../../db/index.ts';
import { createApiServer } from '../../services/api/server.ts';
import { launchBrowser } from '../../test/helpers/browser.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const NODES = Number(arg('nodes', '10000'));
const CHANGES = Number(arg('changes', '1000'));
const ROUNDS = Number(arg('rounds', '5'));
const DB = arg('db', 'sqlite');

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-bench-console-'));
const db = await openDatabase(DB === 'sqlite' ? `sqlite:${path.join(dir, 'bench.sqlite')}` : DB);
const config = defaultConfig(dir);
const uuids: string[] = [];
for (let start = 0; start < NODES; start += 500) {
  const rows = [];
  for (let i = start; i < Math.min(NODES, start + 500); i++) {
    const uuid = randomUUID();
    uuids.push(uuid);
    rows.push({ uuid, name: `bench-${String(i).padStart(5, '0')}`, driver: 'fake-hardware', provision_state: 'manageable', power_state: 'power off', conductor_group: '', owner: i % 4 ? 'proj-a' : null, created_at: now() });
  }
  await db.knex('nodes').insert(rows);
}
const app = await createApiServer({ db, config, logger: silentLogger });
const base = await app.listen({ host: '127.0.0.1', port: 0 });

// A second subscriber: when the stream carries the changes, independent of the browser.
let streamWaiter: { want: number; seen: number; done: (at: number) => void } | undefined;
const stream = http.get(`${base}/console/api/events`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.startsWith('event: nodes') || !streamWaiter) continue;
      streamWaiter.seen += JSON.parse(block.slice(block.indexOf('data: ') + 6)).nodes.length;
      if (streamWaiter.seen >= streamWaiter.want) streamWaiter.done(Date.now());
    }
  });
});

const browser = await launchBrowser({ width: 1400, height: 900 });
const page = await browser.context.newPage();
const t0 = Date.now();
await page.goto(`${base}/console/`);
await page.locator('[data-testid=live][data-live=live]').waitFor();
await page.locator('.row[data-uuid]').first().waitFor();
const loadMs = Date.now() - t0;
const total = await page.locator('[data-testid=fleet-total]').textContent();

const s0 = Date.now();
await page.getByLabel('Search').fill('bench-0999');
await page.getByText(/^1[01] nodes$/).waitFor();
const searchMs = Date.now() - s0;
await page.getByLabel('Search').fill('');
await page.getByText(`${NODES} nodes`).waitFor();
await page.locator('.row[data-uuid]').first().waitFor();

// Records, in the page, when rows' data-state attributes turn to `state` (a string: tsx's helpers do not exist in the page).
await page.evaluate(`
  window.__watch = (state) => {
    window.__first = 0;
    window.__last = 0;
    const rows = () => [...document.querySelectorAll('.viewport .row[data-uuid]')];
    const visible = rows().length;
    window.__observer = new MutationObserver(() => {
      const done = rows().filter((r) => r.dataset.state === state).length;
      if (done > 0 && !window.__first) window.__first = Date.now();
      if (done === visible && !window.__last) {
        window.__last = Date.now();
        window.__observer.disconnect();
      }
    });
    window.__observer.observe(document.querySelector('.viewport'), { subtree: true, attributes: true, attributeFilter: ['data-state'], childList: true });
    return visible;
  };
`);

const changed = uuids.slice(0, CHANGES);
const results: { stream: number; first: number; last: number; visible: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const state = r % 2 ? 'manageable' : 'available';
  const visible = await page.evaluate(`window.__watch(${JSON.stringify(state)})`) as number;
  const streamed = new Promise<number>((resolve) => (streamWaiter = { want: CHANGES, seen: 0, done: resolve }));
  await db.knex.transaction(async (trx) => {
    for (let i = 0; i < changed.length; i += 500) await trx('nodes').whereIn('uuid', changed.slice(i, i + 500)).update({ provision_state: state, updated_at: now() });
  });
  const committed = Date.now();
  const streamAt = await streamed;
  await page.waitForFunction('window.__last > 0', undefined, { timeout: 60_000 });
  const { first, last } = await page.evaluate('({ first: window.__first, last: window.__last })') as { first: number; last: number };
  results.push({ stream: streamAt - committed, first: first - committed, last: last - committed, visible });
  await new Promise((res) => setTimeout(res, 1500));
}

const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
console.log(`console fleet view, ${DB === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${total}, change poll/gather ${config.console.changeIntervalMs} ms`);
console.log(`  first page in the browser: ${loadMs} ms; search "bench-0999" to its 11 rows: ${searchMs} ms`);
console.log(`  ${CHANGES} nodes change state in one transaction, ${ROUNDS} rounds (${results[0].visible} rows in view, all among them):`);
for (const [i, x] of results.entries()) console.log(`    round ${i + 1}: stream ${x.stream} ms, first row in the DOM ${x.first} ms, every visible row ${x.last} ms`);
for (const k of ['stream', 'first', 'last'] as const) console.log(`  ${k.padEnd(6)} p50 ${p(results.map((x) => x[k]), 0.5)} ms, max ${Math.max(...results.map((x) => x[k]))} ms`);

stream.destroy();
await browser.close();
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
