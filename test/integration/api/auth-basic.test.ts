// HTTP basic auth in front of the whole API, on both back ends: every route but the root
// documents and the ramdisk's answers 401 with a Basic challenge without credentials, users of
// the htpasswd file are system administrators, and the ramdisk's endpoints take the agent token
// instead of credentials (and refuse a missing or wrong one). Also: noauth stays on loopback.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { ROUTE_POLICIES } from '../../../services/api/auth/policy/routes.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { startHarness, type ApiHarness } from './harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-basic-'));
const userFile = path.join(dir, 'htpasswd');
writeFileSync(userFile, execFileSync('htpasswd', ['-nbB', '-C', '5', 'admin', 's3cret:pw'], { encoding: 'utf8' }));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const GOOD = basic('admin', 's3cret:pw');

/** A concrete URL for a route pattern of the policy table. */
function sample(pattern: string): string {
  return pattern
    .replace(':ident', '6f0e5b5c-4d2a-4c9e-9d55-2f1f0e3c9a01')
    .replace(':uuid', '6f0e5b5c-4d2a-4c9e-9d55-2f1f0e3c9a02')
    .replace(':event', '6f0e5b5c-4d2a-4c9e-9d55-2f1f0e3c9a03')
    .replace(':trait', 'CUSTOM_A')
    .replace(':name', 'fake-hardware')
    .replace(':hostname', 'c1');
}

describe.each(BACKENDS)('http_basic (%s)', (backend) => {
  let h: ApiHarness;
  const warnings: string[] = [];
  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    // Wrong credentials by the hundred here: the back-off (audit.test.ts) is set out of the way.
    h = await startHarness(backend, { logger, configure: (c) => Object.assign(c.auth, { strategy: 'http_basic', userFile, backoff: { failures: 1_000_000, baseSeconds: 1, maxSeconds: 1 } }) });
  });
  afterAll(() => h?.close());

  async function call(method: string, url: string, opts: { auth?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': '1.89' };
    if (opts.auth) headers.authorization = opts.auth;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await h.app.inject({ method: method as 'GET', url, headers, payload: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
  }

  it('serves the root version documents to anyone', async () => {
    for (const url of ['/', '/v1', '/v1/']) expect((await call('GET', url)).status, url).toBe(200);
  });

  it('answers 401 with a Basic challenge on every other route without credentials, or with wrong ones', async () => {
    for (const [key, policy] of Object.entries(ROUTE_POLICIES)) {
      if (policy.public) continue;
      const [method, pattern] = key.split(' ');
      for (const [i, url] of [`/v1${sample(pattern)}`, sample(pattern)].entries()) {
        // Every route without credentials; wrong ones (each a bcrypt check) on the /v1 paths.
        for (const auth of i === 0 ? [undefined, basic('admin', 'wrong'), basic('nobody', 's3cret:pw'), 'Basic !!!', 'Bearer x'] : [undefined]) {
          const r = await call(method, url, { auth, body: ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined });
          expect(r.status, `${method} ${url} ${auth}`).toBe(401);
          expect(r.headers['www-authenticate']).toBe('Basic realm="Baremetal API"');
          expect(JSON.parse(r.body.error_message).faultstring).toMatch(/requires authentication|Invalid user name or password/);
        }
      }
    }
    expect((await call('GET', '/v1/no/such/thing')).status).toBe(401);
    expect((await call('GET', '/v1/no/such/thing', { auth: GOOD })).status).toBe(404);
  });

  it('answers malformed requests without credentials with a 4xx, never a 5xx, and keeps answering', async () => {
    const bodies: (string | Buffer)[] = ['{', '[]', 'null', '"x"', '{"a":'.repeat(2000), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), '\u0000', JSON.stringify({ driver: 'x'.repeat(100_000) })];
    const auths = [undefined, 'Basic', 'Basic =', `Basic ${'A'.repeat(10_000)}`, `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}`, 'Digest x', basic('admin', 'x'.repeat(5000))];
    let i = 0;
    for (const [key, policy] of Object.entries(ROUTE_POLICIES)) {
      if (policy.public) continue;
      const [method, pattern] = key.split(' ');
      const url = `/v1${sample(pattern)}`;
      for (const [j, payload] of [...bodies, undefined].entries()) {
        const authorization = auths[(i + j) % auths.length];
        const res = await h.app.inject({ method: method as 'GET', url: j % 3 === 0 ? `${url}?limit=%ff&fields=${'x,'.repeat(500)}` : url, headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, payload });
        expect(res.statusCode, `${method} ${url} ${String(authorization).slice(0, 20)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
      }
      i++;
    }
    for (const method of ['PROPFIND', 'TRACE', 'CONNECT']) expect((await h.app.inject({ method: method as 'GET', url: '/v1/nodes' })).statusCode).toBeLessThan(500);
    expect((await call('GET', '/v1/nodes', { auth: GOOD })).status).toBe(200);
  });

  it('lets a user of the file do what a system administrator does', async () => {
    const created = await call('POST', '/v1/nodes', { auth: GOOD, body: { driver: 'fake-hardware', name: 'basic-1', driver_info: { ipmi_password: 'bmc-pw' } } });
    expect(created.status).toBe(201);
    expect(created.body.driver_info.ipmi_password).toBe('******');
    expect((await call('GET', '/v1/nodes', { auth: GOOD })).body.nodes.map((n: { name: string }) => n.name)).toContain('basic-1');
    expect((await call('PATCH', '/v1/nodes/basic-1', { auth: GOOD, body: [{ op: 'add', path: '/driver_info/ipmi_address', value: '10.0.0.1' }] })).status).toBe(200);
    expect((await call('GET', '/v1/drivers', { auth: GOOD })).status).toBe(200);
    expect((await call('DELETE', '/v1/nodes/basic-1', { auth: GOOD })).status).toBe(204);
  });

  it('registers a policy rule for every route it serves', () => {
    expect(warnings.filter((w) => w.includes('has no policy rule'))).toEqual([]);
    for (const key of Object.keys(ROUTE_POLICIES)) {
      const [method, url] = key.split(' ');
      // Served under /v1, or only at the root (/, /metrics, the console's files and calls).
      expect(h.app.hasRoute({ method: method as 'GET', url: `/v1${url}` }) || h.app.hasRoute({ method: method as 'GET', url }), key).toBe(true);
    }
  });

  it("takes the agent token, not credentials, on the ramdisk's endpoints, and refuses a missing or wrong one", async () => {
    const node = await call('POST', '/v1/nodes', { auth: GOOD, body: { driver: 'fake-hardware', name: 'agent-1' } });
    await call('POST', '/v1/ports', { auth: GOOD, body: { address: '52:54:00:aa:bb:01', node_uuid: node.body.uuid } });
    const uuid = node.body.uuid;
    // Not waiting for an agent: lookup and inspection data find nothing.
    expect((await call('GET', '/v1/lookup?addresses=52:54:00:aa:bb:01')).status).toBe(404);
    expect((await call('POST', '/v1/continue_inspection', { body: { inventory: { interfaces: [{ mac_address: '52:54:00:aa:bb:01' }] } } })).status).toBe(404);
    await h.t.db.knex('nodes').where({ uuid }).update({ provision_state: 'wait call-back', target_provision_state: 'active' });
    const first = await call('GET', '/v1/lookup?addresses=52:54:00:aa:bb:01');
    expect(first.status).toBe(200);
    const token = first.body.config.agent_token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect((await call('GET', '/v1/lookup?addresses=52:54:00:aa:bb:01')).body.config.agent_token).toBe('******');
    const beat = (body: Record<string, unknown>) => call('POST', `/v1/heartbeat/${uuid}`, { body: { callback_url: 'http://192.0.2.10:9999', ...body } });
    for (const wrong of [{}, { agent_token: 'nope' }, { agent_token: '' }, { agent_token: `${token}x` }]) {
      const r = await beat(wrong);
      expect(r.status, JSON.stringify(wrong)).toBe(400);
      expect(JSON.parse(r.body.error_message).faultstring).toBe('Invalid or missing agent token received.');
    }
    // Basic credentials are no substitute for the token.
    const withCreds = await call('POST', `/v1/heartbeat/${uuid}`, { auth: GOOD, body: { callback_url: 'http://192.0.2.10:9999' } });
    expect(withCreds.status).toBe(400);
    expect((await beat({ agent_token: token })).status).toBe(202);
  });
});

describe('noauth outside loopback', () => {
  it('refuses to start on another address, unless allowed, and then warns at every start', async () => {
    const config = defaultConfig(dir);
    config.api.host = '0.0.0.0';
    const { createTestDatabase } = await import('../../helpers/db.ts');
    const t = await createTestDatabase('sqlite');
    try {
      await expect(createApiServer({ db: t.db, config, logger: silentLogger })).rejects.toThrow(/noauth but the API would listen on 0.0.0.0.*allowInsecureNoauth/);
      config.auth.allowInsecureNoauth = true;
      for (let start = 0; start < 2; start++) {
        const warnings: string[] = [];
        const app = await createApiServer({ db: t.db, config, logger: pino({ level: 'warn' }, { write: (l: string) => void warnings.push(l) }) });
        await app.close();
        expect(warnings.some((w) => w.includes('INSECURE: noauth on 0.0.0.0'))).toBe(true);
      }
      for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
        config.api.host = host;
        config.auth.allowInsecureNoauth = false;
        await (await createApiServer({ db: t.db, config, logger: silentLogger })).close();
      }
    } finally {
      await t.drop();
    }
  });
});
