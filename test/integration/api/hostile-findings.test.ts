// Issue 19's API findings, one block each, on SQLite and PostgreSQL: prototype pollution through
// JSON patch and bodies, secrets read back through patch ops or URLs, deep and huge bodies, NUL
// bytes, 500s that quoted SQL and logs that dropped the error, slow bodies, and the Host header
// copied into links.
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/logger.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness, type Reply } from './harness.ts';

/** `{"d":{"d":...1}}` nested `n` objects deep. */
const nested = (n: number): string => '{"d":'.repeat(n) + '1' + '}'.repeat(n);

function expectIronicError(r: Reply, status: number, message?: string | RegExp): void {
  expect(r.status, r.raw).toBe(status);
  expect(r.headers['content-type']).toMatch(/application\/json/);
  const inner = JSON.parse(r.body.error_message);
  expect(inner.faultcode).toBe(status < 500 ? 'Client' : 'Server');
  if (message) expect(inner.faultstring).toMatch(message);
}

describe.each(BACKENDS)('hostile input on %s', (backend) => {
  let h: ApiHarness;
  const logLines: string[] = [];
  const logs = () => logLines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));

  beforeAll(async () => {
    const destination = new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } });
    h = await startHarness(backend, { logger: createLogger({ destination, level: 'error' }), configure: (c) => { c.api.requestTimeout = 1; } });
  });
  afterAll(async () => { await h.close(); });

  const nodeCount = async () => Number((await h.t.db.knex('nodes').count({ n: '*' }))[0].n);
  const nodeRow = (uuid: string) => h.t.db.knex('nodes').where({ uuid }).first();

  describe('1. prototype pollution', () => {
    it('refuses a patch through __proto__, constructor or prototype and stays healthy', async () => {
      const n = await createNode(h);
      const before = await nodeRow(n.uuid);
      for (const path of ['/extra/__proto__/probePolluted', '/extra/constructor/prototype/probePolluted', '/properties/prototype']) {
        const r = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path, value: 'yes' }]);
        expectIronicError(r, 400, /names the prototype machinery of JavaScript objects/);
      }
      expect(({} as Record<string, unknown>).probePolluted).toBeUndefined();
      expect(await nodeRow(n.uuid)).toEqual(before);
      expect((await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', extra: { a: 1 } })).status).toBe(201);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).status).toBe(200);
    });

    it('refuses a __proto__ key anywhere in a body', async () => {
      const count = await nodeCount();
      const r = await h.call('POST', '/v1/nodes', '{"driver":"fake-hardware","extra":{"__proto__":{"probePolluted":"yes"}}}');
      expectIronicError(r, 400, /the key "__proto__", which is refused/);
      expect(await nodeCount()).toBe(count);
      expect(({} as Record<string, unknown>).probePolluted).toBeUndefined();
    });
  });

  describe('2. secrets', () => {
    const driverInfo = { redfish_address: 'https://root:calvin@bmc.example:8443', redfish_username: 'root', redfish_password: 'calvin' };
    const instanceInfo = { image_source: 'http://glance:imagepw@images.example/disk.qcow2' };

    it('never reads a secret back through copy, move or test', async () => {
      const n = await createNode(h, { driver_info: driverInfo, instance_info: instanceInfo });
      const before = await nodeRow(n.uuid);
      const ops = [
        { op: 'copy', from: '/driver_info/redfish_password', path: '/extra/x' },
        { op: 'move', from: '/driver_info/redfish_password', path: '/extra/x' },
        { op: 'copy', from: '/driver_info', path: '/extra/x' },
        { op: 'move', from: '/driver_info/redfish_address', path: '/extra/x' },
        { op: 'copy', from: '/instance_info/image_source', path: '/extra/x' },
        { op: 'test', path: '/driver_info/redfish_password', value: 'calvin' },
        { op: 'test', path: '/driver_info/redfish_password', value: 'wrong' },
      ];
      for (const op of ops) {
        const r = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [op]);
        expectIronicError(r, 400, /is or holds a secret, which is write-only/);
        expect(r.raw).not.toContain('calvin');
      }
      expect(await nodeRow(n.uuid)).toEqual(before);
      const fine = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'copy', from: '/driver_info/redfish_username', path: '/extra/user' }]);
      expect(fine.status).toBe(200);
      expect(fine.body.extra).toEqual({ user: 'root' });
    });

    it('masks passwords inside URLs in answers', async () => {
      const n = await createNode(h, { driver_info: driverInfo, instance_info: instanceInfo });
      for (const url of [`/v1/nodes/${n.uuid}`, '/v1/nodes/detail', `/v1/nodes?fields=driver_info,instance_info`]) {
        const r = await h.call('GET', url);
        expect(r.status).toBe(200);
        expect(r.raw).not.toMatch(/calvin|imagepw/);
      }
      const r = await h.call('GET', `/v1/nodes/${n.uuid}`);
      expect(r.body.driver_info).toEqual({ redfish_address: 'https://root:******@bmc.example:8443', redfish_username: 'root', redfish_password: '******' });
      expect(r.body.instance_info.image_source).toBe('http://glance:******@images.example/disk.qcow2');
    });

    it('masks URL passwords in every field and message of an answer, and never reads them back through a patch', async () => {
      const n = await createNode(h, { extra: { mirror: 'ftp://mirror:extrapw@mirror.example/' } });
      await h.t.db.knex('nodes').where({ uuid: n.uuid }).update({ last_error: 'Redfish BMC https://root:lastpw@bmc.example did not answer' });
      const shown = await h.call('GET', `/v1/nodes/${n.uuid}`);
      expect(shown.body.extra.mirror).toBe('ftp://mirror:******@mirror.example/');
      expect(shown.body.last_error).toBe('Redfish BMC https://root:******@bmc.example did not answer');
      const refused = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'test', path: '/extra/mirror', value: 'ftp://mirror:extrapw@mirror.example/' }]);
      expectIronicError(refused, 400, /is or holds a secret, which is write-only/);
      const error = await h.call('POST', '/v1/nodes', { driver: 'http://u:errpw@example' });
      expectIronicError(error, 400, /Cannot load specified driver: http:\/\/u:\*\*\*\*\*\*@example/);
      for (const r of [shown, refused, error]) expect(r.raw).not.toMatch(/extrapw|lastpw|errpw/);
    });
  });

  describe('5. deep JSON', () => {
    it('answers 400 in Ironic\'s format for bodies far deeper than the limit, on every kind of route', async () => {
      const count = await nodeCount();
      for (const [method, url] of [['POST', '/v1/nodes'], ['PATCH', '/v1/nodes/x'], ['POST', '/v1/chassis'], ['PUT', '/v1/nodes/x/states/provision']]) {
        expectIronicError(await h.call(method, url, nested(5000)), 400, /deeper than 100 levels \(api\.maxJsonDepth\)/);
      }
      expect(await nodeCount()).toBe(count);
    });

    it('stores a node at the limit readably and refuses one level more', async () => {
      const count = await nodeCount();
      // The body itself is one level: extra may nest 99 more.
      const atLimit = `{"driver":"fake-hardware","extra":${nested(99)}}`;
      const created = await h.call('POST', '/v1/nodes', atLimit);
      expect(created.status, created.raw).toBe(201);
      expect((await h.call('GET', `/v1/nodes/${created.body.uuid}`)).status).toBe(200);
      expect((await h.call('GET', '/v1/nodes/detail')).status).toBe(200);
      expectIronicError(await h.call('POST', '/v1/nodes', `{"driver":"fake-hardware","extra":${nested(100)}}`), 400, /deeper than 100 levels/);
      expect(await nodeCount()).toBe(count + 1);
    });

    it('refuses a patch that would nest a node deeper than the limit', async () => {
      const n = await createNode(h, { extra: JSON.parse(nested(60)) });
      const before = await nodeRow(n.uuid);
      const r = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: `/extra${'/d'.repeat(50)}`, value: JSON.parse(nested(60)) }]);
      expectIronicError(r, 400, /would nest deeper than 100 levels/);
      expect(await nodeRow(n.uuid)).toEqual(before);
      expect((await h.call('GET', '/v1/nodes/detail')).status).toBe(200);
    });
  });

  describe('6. NUL bytes and 500 answers', () => {
    it('refuses NUL in a body string, an ident or a filter with 400', async () => {
      const n = await createNode(h);
      expectIronicError(await h.call('POST', '/v1/chassis', { description: 'a\u0000b' }), 400, /NUL character/);
      expectIronicError(await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', extra: { ['k\u0000']: 1 } }), 400, /NUL character/);
      expectIronicError(await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/extra/a', value: '\u0000' }]), 400, /NUL character/);
      for (const url of ['/v1/nodes/%00', `/v1/nodes/${n.uuid}%00`, '/v1/nodes?driver=%00', '/v1/nodes?name=a%00b', '/v1/ports?address=%00', '/v1/chassis/%00']) {
        expectIronicError(await h.call('GET', url), 400, /NUL character \(%00\)/);
      }
      expect(Number((await h.t.db.knex('chassis').count({ n: '*' }))[0].n)).toBe(0);
    });

    it('says what failed in a 500 without SQL, and logs the error with its message and stack, masked', async () => {
      await h.t.db.knex.schema.renameTable('nodes', 'nodes_away');
      try {
        const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'n500', driver_info: { redfish_password: 'calvin500' } });
        expectIronicError(r, 500, /^POST \/v1\/nodes failed with a database error \((42P01|SQLITE_ERROR)\); the API log has the details under request id req-/);
        expect(fault(r)).not.toMatch(/select|insert|"nodes"/i);
        const line = logs().find((l) => l.reqId === r.headers['openstack-request-id']);
        expect(line?.err?.message).toMatch(/nodes/);
        expect(line?.err?.stack).toMatch(/\n\s+at /);
        expect(JSON.stringify(line)).not.toContain('calvin500');
      } finally {
        await h.t.db.knex.schema.renameTable('nodes_away', 'nodes');
      }
    });
  });

  describe('7. unbounded sizes', () => {
    it('answers 413 for a body over 112 KiB and stores nothing', async () => {
      const count = await nodeCount();
      const big = { driver: 'fake-hardware', extra: { blob: 'x'.repeat(114_688) } };
      expectIronicError(await h.call('POST', '/v1/nodes', big), 413, /too large/);
      expect(await nodeCount()).toBe(count);
      expect((await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', extra: { blob: 'x'.repeat(100_000) } })).status).toBe(201);
    });

    it('refuses a patch that would grow a node past what a body may carry', async () => {
      const n = await createNode(h, { extra: { a: 'x'.repeat(60_000) } });
      const before = await nodeRow(n.uuid);
      const r = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/extra/b', value: 'y'.repeat(60_000) }]);
      expectIronicError(r, 400, /would be \d+ bytes of JSON, more than the 114688 a request may carry/);
      expect(await nodeRow(n.uuid)).toEqual(before);
    });

    it('cuts a body that arrives too slowly with a 408 in Ironic\'s format', async () => {
      const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = new URL(address);
      const socket = net.connect(Number(port), '127.0.0.1');
      const started = Date.now();
      let answer = '';
      socket.on('data', (d) => { answer += String(d); });
      socket.write('POST /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"dri');
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(JSON.parse(body.error_message).faultstring).toMatch(/not received in time \(api\.requestTimeout\)/);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('8. links', () => {
    it('never copies the Host header into links', async () => {
      const n = await createNode(h);
      const r = await h.app.inject({ method: 'GET', url: `/v1/nodes/${n.uuid}`, headers: { host: 'evil.example', 'x-openstack-ironic-api-version': '1.89' } });
      expect(r.body).not.toContain('evil.example');
      expect(JSON.parse(r.body).links[0].href).toBe(`http://127.0.0.1:6385/v1/nodes/${n.uuid}`);
      const created = await h.app.inject({ method: 'POST', url: '/v1/nodes', headers: { host: 'evil.example', 'content-type': 'application/json' }, payload: { driver: 'fake-hardware' } });
      expect(created.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:6385\/v1\/nodes\//);
    });

    it('links to the address a real connection was accepted on, whatever its Host header says', async () => {
      if (!h.app.server.listening) await h.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = h.app.server.address() as { port: number };
      const n = await createNode(h);
      const body = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (d) => { answer += String(d); });
        socket.on('error', reject);
        socket.on('close', () => resolve(answer));
        socket.write(`GET /v1/nodes/${n.uuid} HTTP/1.1\r\nHost: evil.example\r\nX-OpenStack-Ironic-API-Version: 1.89\r\nConnection: close\r\n\r\n`);
      });
      expect(body).not.toContain('evil.example');
      expect(body).toContain(`"href":"http://127.0.0.1:${port}/v1/nodes/${n.uuid}"`);
    });
  });
});
