// The console's calls on both back ends: the fleet one page at a time with its total, search and
// filters; the change stream from the database's triggers (SQLite's sequence, PostgreSQL's NOTIFY)
// as server-sent events over a real socket, for writes that bypass the API; the transitions the
// fleet picture is drawn from; the console switched off.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateNode, deleteNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, startHarness, type ApiHarness } from '../api/harness.ts';

/** Opens the event stream and reads its events until `until` accepts one (node:http: one socket, closed after). */
function readEvents(url: string, until: (event: string, data: any) => boolean): { headers: Promise<http.IncomingHttpHeaders>; events: Promise<{ event: string; data: any }[]> } {
  let gotHeaders!: (h: http.IncomingHttpHeaders) => void;
  const headers = new Promise<http.IncomingHttpHeaders>((r) => (gotHeaders = r));
  const events = new Promise<{ event: string; data: any }[]>((resolve, reject) => {
    const seen: { event: string; data: any }[] = [];
    let buffer = '';
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      gotHeaders(res.headers);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (!event) continue;
          const e = { event, data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') };
          seen.push(e);
          if (until(e.event, e.data)) {
            req.destroy();
            resolve(seen);
          }
        }
      });
      res.on('end', () => reject(new Error(`stream ended after ${JSON.stringify(seen)}`)));
    });
    req.on('error', (err) => { if (!req.destroyed) reject(err); });
  });
  return { headers, events };
}

describe.each(BACKENDS)('console API (%s)', (backend) => {
  let h: ApiHarness;
  let base: string;
  const uuids: string[] = [];

  beforeAll(async () => {
    h = await startHarness(backend, { configure: (c) => { c.console.changeIntervalMs = 50; } });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
    for (let i = 0; i < 25; i++) uuids.push((await createNode(h, { name: `rack-${String(i).padStart(2, '0')}`, owner: i % 5 === 0 ? 'proj-x' : null })).uuid);
  });
  afterAll(() => h?.close());

  it('pages the fleet with its total, searches and filters on the server', async () => {
    const page = await h.call('GET', '/console/api/fleet?offset=10&limit=5');
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(25);
    expect(page.body.nodes.map((n: { name: string }) => n.name)).toEqual(['rack-10', 'rack-11', 'rack-12', 'rack-13', 'rack-14']);
    expect(page.body.nodes[0]).toMatchObject({ provision_state: 'enroll', maintenance: false, driver: 'fake-hardware' });
    const found = await h.call('GET', '/console/api/fleet?search=CK-2');
    expect(found.body.total).toBe(5);
    const owned = await h.call('GET', '/console/api/fleet?owner=proj-x&sort=name&desc=true');
    expect(owned.body.nodes.map((n: { name: string }) => n.name)).toEqual(['rack-20', 'rack-15', 'rack-10', 'rack-05', 'rack-00']);
    const none = await h.call('GET', '/console/api/fleet?provision_state=active,available');
    expect(none.body).toEqual({ total: 0, nodes: [] });
    expect((await h.call('GET', '/console/api/fleet?limit=5000')).status).toBe(400);
  });

  it('streams the changes a conductor writes to the database, and deletions', async () => {
    expect((await h.call('GET', '/console/api/events')).status).toBe(406);
    const stream = readEvents(`${base}/console/api/events`, (event, data) => event === 'nodes' && data.deleted.includes(uuids[24]));
    expect((await stream.headers)['content-type']).toMatch(/^text\/event-stream/);
    // Written straight through db/, as a conductor writes: the API is not told.
    const { knex } = h.t.db;
    const id = async (uuid: string) => (await knex('nodes').where({ uuid }).first('id')).id as number;
    await new Promise((r) => setTimeout(r, 100));
    await updateNode(knex, await id(uuids[3]), { provision_state: 'manageable', last_error: 'BMC 127.0.0.1 refused' });
    await updateNode(knex, await id(uuids[4]), { power_state: 'power on' });
    await deleteNode(knex, await id(uuids[24]));
    const seen = await stream.events;
    expect(seen[0].event).toBe('ready');
    const rows = seen.filter((e) => e.event === 'nodes').flatMap((e) => e.data.nodes);
    expect(rows).toContainEqual(expect.objectContaining({ uuid: uuids[3], provision_state: 'manageable', last_error: 'BMC 127.0.0.1 refused' }));
    expect(rows).toContainEqual(expect.objectContaining({ uuid: uuids[4], power_state: 'power on' }));
  });

  it('records provision-state transitions for the fleet picture', async () => {
    const { knex } = h.t.db;
    const node = await knex('nodes').where({ uuid: uuids[5] }).first('id');
    await updateNode(knex, node.id, { provision_state: 'deploying' });
    await updateNode(knex, node.id, { provision_state: 'active' });
    await updateNode(knex, node.id, { power_state: 'power off' });
    const rows = await knex('node_transitions').where({ node_uuid: uuids[5] }).orderBy('id');
    expect(rows.map((r: { from_state: string | null; to_state: string }) => [r.from_state, r.to_state])).toEqual([[null, 'enroll'], ['enroll', 'deploying'], ['deploying', 'active']]);
    const pic = await h.call('GET', '/console/api/picture?hours=1');
    expect(pic.status).toBe(200);
    expect(pic.body.series.at(-1).counts.active).toBe(1);
    expect(pic.body.series[0].counts.active ?? 0).toBe(0);
    expect(pic.body.deploys).toEqual([expect.objectContaining({ node: uuids[5] })]);
  });
});

describe('console switched off', () => {
  it('serves none of it', async () => {
    const h = await startHarness('sqlite', { configure: (c) => { c.console.enabled = false; } });
    try {
      expect((await h.call('GET', '/console/api/fleet')).status).toBe(404);
      expect((await h.call('GET', '/console/')).status).toBe(404);
    } finally {
      await h.close();
    }
  });
});
