// The keystone strategy against a real Keystone (set up once for the file), and Ironic's policy
// with two projects on both back ends: a project sees, changes and deploys only the nodes it owns
// or leases (others answer 404), ports, history and allocations follow their node, a lessee may
// deploy but not touch driver_info, a system reader reads and nothing more. Then the real
// `baremetal` CLI with Keystone password auth, project- and system-scoped, over HTTPS.
import { execa } from 'execa';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AnvilConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { registerConductor } from '../../../db/conductors.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { startKeystone, type TestKeystone } from '../../helpers/keystone.ts';
import { makeTestPki } from '../../helpers/tls.ts';
import { startHarness, testConfig, type ApiHarness } from './harness.ts';

const PW = 'user-pw-1';
let ks: TestKeystone;
const tokens: Record<string, string> = {};

function useKeystone(config: AnvilConfig, cacheSeconds = 300): void {
  config.auth.strategy = 'keystone';
  Object.assign(config.auth.keystone, { authUrl: ks.authUrl, username: 'anvil', password: 'anvil-service-pw', projectName: 'service', cacheSeconds });
}

beforeAll(async () => {
  ks = await startKeystone();
  await ks.createRole('service');
  for (const p of ['service', 'proj-a', 'proj-b']) await ks.createProject(p);
  await ks.createUser('anvil', 'anvil-service-pw', { project: 'service', roles: ['service'] });
  await ks.createUser('a-member', PW, { project: 'proj-a', roles: ['member'] });
  await ks.createUser('a-admin', PW, { project: 'proj-a', roles: ['admin'] });
  await ks.createUser('b-admin', PW, { project: 'proj-b', roles: ['admin'] });
  await ks.createUser('b-member', PW, { project: 'proj-b', roles: ['member'] });
  await ks.createUser('sys-reader', PW, { system: true, roles: ['reader'] });
  tokens.admin = await ks.token('admin', ks.adminPassword, { system: true });
  tokens.aMember = await ks.token('a-member', PW, { project: 'proj-a' });
  tokens.aAdmin = await ks.token('a-admin', PW, { project: 'proj-a' });
  tokens.bAdmin = await ks.token('b-admin', PW, { project: 'proj-b' });
  tokens.bMember = await ks.token('b-member', PW, { project: 'proj-b' });
  tokens.reader = await ks.token('sys-reader', PW, { system: true });
}, 240_000);
afterAll(() => ks?.stop());

describe.each(BACKENDS)('keystone tokens and the policy (%s)', (backend) => {
  let h: ApiHarness;
  let projectA: string;
  let projectB: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness(backend, { configure: (c) => useKeystone(c) });
    const me = await call('GET', '/v1/nodes', 'aMember');
    expect(me.status).toBe(200);
    // Project ids as Keystone knows them, read from a token of each project.
    projectA = (await ksTokenProject(tokens.aMember))!;
    projectB = (await ksTokenProject(tokens.bAdmin))!;
    const mk = async (name: string, fields: Record<string, unknown>) => (ids[name] = (await call('POST', '/v1/nodes', 'admin', { driver: 'fake-hardware', name, driver_info: { ipmi_password: 'bmc-pw' }, ...fields })).body.uuid);
    await mk('a-only', { owner: projectA });
    await mk('a-leased-to-b', { owner: projectA, lessee: projectB, resource_class: 'lease' });
    await mk('nobodys', {});
    for (const [i, n] of ['a-only', 'a-leased-to-b', 'nobodys'].entries()) {
      const port = await call('POST', '/v1/ports', 'admin', { address: `52:54:00:00:00:0${i}`, node_uuid: ids[n] });
      ids[`port-${n}`] = port.body.uuid;
    }
  });
  afterAll(() => h?.close());

  async function ksTokenProject(token: string): Promise<string | undefined> {
    const r = await fetch(`${ks.authUrl}/auth/tokens`, { headers: { 'X-Auth-Token': tokens.admin, 'X-Subject-Token': token } });
    return ((await r.json()) as { token: { project?: { id: string } } }).token.project?.id;
  }

  async function call(method: string, url: string, who: string | null, body?: unknown) {
    const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': '1.89' };
    if (who) headers['X-Auth-Token'] = tokens[who] ?? who;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await h.app.inject({ method: method as 'GET', url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
  }
  const names = (r: { body: { nodes: { name: string }[] } }) => r.body.nodes.map((n) => n.name).sort();

  it('answers 401 with a Keystone challenge without a token or with a bad one', async () => {
    const challenge = `Keystone uri="${ks.authUrl.replace(/\/v3$/, '')}"`;
    for (const who of [null, 'not-a-token', `${tokens.aMember}x`]) {
      const r = await call('GET', '/v1/nodes', who);
      expect(r.status, String(who)).toBe(401);
      expect(r.headers['www-authenticate']).toBe(challenge);
    }
    expect((await call('GET', '/v1', null)).status).toBe(200);
  });

  it('shows a project only the nodes it owns or leases; others answer 404', async () => {
    expect(names(await call('GET', '/v1/nodes', 'admin'))).toEqual(['a-leased-to-b', 'a-only', 'nobodys']);
    expect(names(await call('GET', '/v1/nodes/detail', 'aMember'))).toEqual(['a-leased-to-b', 'a-only']);
    expect(names(await call('GET', '/v1/nodes', 'bMember'))).toEqual(['a-leased-to-b']);
    for (const who of ['bMember', 'bAdmin']) {
      const r = await call('GET', `/v1/nodes/${ids['a-only']}`, who);
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body.error_message).faultstring).toBe(`Node ${ids['a-only']} could not be found.`);
      expect((await call('GET', '/v1/nodes/a-only', who)).status).toBe(404);
      expect((await call('PATCH', '/v1/nodes/a-only', who, [{ op: 'add', path: '/extra/x', value: 1 }])).status).toBe(404);
      expect((await call('PUT', '/v1/nodes/a-only/states/provision', who, { target: 'active' })).status).toBe(404);
      expect((await call('PUT', '/v1/nodes/a-only/states/power', who, { target: 'power off' })).status).toBe(404);
      expect((await call('GET', '/v1/nodes/a-only/history', who)).status).toBe(404);
      expect((await call('DELETE', '/v1/nodes/a-only', who)).status).toBe(404);
    }
    // Ironic's `project` filter (owner or lessee): any project for the system admin, only its own for a project.
    expect(names(await call('GET', `/v1/nodes?project=${projectB}`, 'admin'))).toEqual(['a-leased-to-b']);
    expect(names(await call('GET', `/v1/nodes/detail?project=${projectA}`, 'admin'))).toEqual(['a-leased-to-b', 'a-only']);
    expect(names(await call('GET', `/v1/nodes?project=${projectB}`, 'bMember'))).toEqual(['a-leased-to-b']);
    const other = await call('GET', `/v1/nodes?project=${projectA}`, 'bAdmin');
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body.error_message).faultstring).toBe('Access was denied to the following resource: baremetal:node:list');
    // The owner's project sees its node, but not one that is nobody's.
    expect((await call('GET', '/v1/nodes/a-only', 'aMember')).status).toBe(200);
    expect((await call('GET', '/v1/nodes/nobodys', 'aAdmin')).status).toBe(404);
  });

  it('lets a lessee deploy its leased node but not change its driver_info', async () => {
    await h.t.db.knex('nodes').where({ uuid: ids['a-leased-to-b'] }).update({ provision_state: 'available' });
    const info = await call('PATCH', '/v1/nodes/a-leased-to-b', 'bAdmin', [{ op: 'add', path: '/driver_info/ipmi_address', value: '10.9.9.9' }]);
    expect(info.status).toBe(403);
    expect(JSON.parse(info.body.error_message).faultstring).toBe('Access was denied to the following resource: baremetal:node:update:driver_info');
    // A lessee member may power it, only a lessee admin may deploy it.
    expect((await call('PUT', '/v1/nodes/a-leased-to-b/states/provision', 'bMember', { target: 'active' })).status).toBe(403);
    expect((await call('PUT', '/v1/nodes/a-leased-to-b/states/provision', 'bAdmin', { target: 'active' })).status).toBe(202);
    expect((await call('GET', '/v1/nodes/a-leased-to-b', 'bMember')).body.provision_state).toBe('deploying');
    expect((await call('PATCH', '/v1/nodes/a-leased-to-b', 'bAdmin', [{ op: 'add', path: '/instance_info/image_source', value: 'http://x/img' }])).status).not.toBe(403);
    // The owner may change driver_info; only an owner admin (or a system admin) may delete.
    expect((await call('PATCH', '/v1/nodes/a-only', 'aMember', [{ op: 'add', path: '/driver_info/ipmi_address', value: '10.1.1.1' }])).status).toBe(200);
    expect((await call('DELETE', '/v1/nodes/a-only', 'aMember')).status).toBe(403);
  });

  it("hides driver_info, driver_internal_info, last_error and reservation from a lessee, not from the owner", async () => {
    const asLessee = (await call('GET', '/v1/nodes/a-leased-to-b', 'bMember')).body;
    expect(asLessee.driver_info).toEqual({ content: '** Redacted - Requires baremetal:node:get:driver_info permission. **' });
    expect(asLessee.driver_internal_info).toEqual({ content: '** Redacted - Requires baremetal:node:get:driver_internal_info permission. **' });
    const narrowed = (await call('GET', '/v1/nodes/a-leased-to-b?fields=driver_info,name', 'bMember')).body;
    expect(narrowed.driver_info.content).toMatch(/Redacted/);
    const listed = (await call('GET', '/v1/nodes/detail', 'bMember')).body.nodes;
    expect(listed.map((n: { driver_info: unknown }) => n.driver_info)).toEqual([{ content: '** Redacted - Requires baremetal:node:get:driver_info permission. **' }]);
    expect((await call('GET', '/v1/nodes/a-leased-to-b', 'aMember')).body.driver_info).toEqual({ ipmi_password: '******' });
    expect((await call('GET', '/v1/nodes/a-leased-to-b', 'reader')).body.driver_info).toEqual({ ipmi_password: '******' });
  });

  it('gives a system reader every read and no write', async () => {
    expect(names(await call('GET', '/v1/nodes', 'reader'))).toEqual(['a-leased-to-b', 'a-only', 'nobodys']);
    expect((await call('GET', '/v1/nodes/nobodys', 'reader')).status).toBe(200);
    expect((await call('GET', '/v1/drivers', 'reader')).status).toBe(200);
    expect((await call('GET', '/v1/ports', 'reader')).body.ports).toHaveLength(3);
    for (const [method, url, body] of [
      ['POST', '/v1/nodes', { driver: 'fake-hardware' }],
      ['PATCH', '/v1/nodes/nobodys', [{ op: 'add', path: '/extra/x', value: 1 }]],
      ['PUT', '/v1/nodes/nobodys/states/power', { target: 'power on' }],
      ['PUT', '/v1/nodes/nobodys/states/provision', { target: 'manage' }],
      ['DELETE', '/v1/nodes/nobodys', undefined],
      ['POST', '/v1/ports', { address: '52:54:00:00:00:99', node_uuid: ids.nobodys }],
      ['DELETE', `/v1/ports/${ids['port-nobodys']}`, undefined],
      ['POST', '/v1/chassis', {}],
    ] as const) {
      expect((await call(method, url, 'reader', body)).status, `${method} ${url}`).toBe(403);
    }
  });

  it('lets ports follow their node', async () => {
    const ports = (who: string) => call('GET', '/v1/ports', who).then((r) => r.body.ports.map((p: { uuid: string }) => p.uuid).sort());
    expect(await ports('bMember')).toEqual([ids['port-a-leased-to-b']]);
    expect(await ports('aMember')).toEqual([ids['port-a-only'], ids['port-a-leased-to-b']].sort());
    expect((await call('GET', `/v1/ports/${ids['port-a-only']}`, 'bMember')).status).toBe(404);
    expect((await call('GET', `/v1/ports/${ids['port-a-leased-to-b']}`, 'bMember')).status).toBe(200);
    expect((await call('GET', '/v1/nodes/a-only/ports', 'bMember')).status).toBe(404);
    expect((await call('PATCH', `/v1/ports/${ids['port-a-only']}`, 'bAdmin', [{ op: 'add', path: '/extra/x', value: 1 }])).status).toBe(404);
    // A port can be added to an owned node by the owner's admin, not to somebody else's node.
    expect((await call('POST', '/v1/ports', 'aAdmin', { address: '52:54:00:00:00:a1', node_uuid: ids['a-only'] })).status).toBe(201);
    expect((await call('POST', '/v1/ports', 'aAdmin', { address: '52:54:00:00:00:a2', node_uuid: ids.nobodys })).status).toBe(403);
    // Nor moved onto somebody else's node.
    const move = await call('PATCH', `/v1/ports/${ids['port-a-only']}`, 'aAdmin', [{ op: 'replace', path: '/node_uuid', value: ids.nobodys }]);
    expect(move.status).toBe(403);
    expect((await call('GET', `/v1/ports/${ids['port-a-only']}`, 'admin')).body.node_uuid).toBe(ids['a-only']);
    expect((await call('PATCH', `/v1/ports/${ids['port-a-only']}`, 'aAdmin', [{ op: 'replace', path: '/node_uuid', value: ids['a-leased-to-b'] }])).status).toBe(200);
    expect((await call('PATCH', `/v1/ports/${ids['port-a-only']}`, 'aAdmin', [{ op: 'replace', path: '/node_uuid', value: ids['a-only'] }])).status).toBe(200);
  });

  it('scopes allocations by owner: a project allocates only its own nodes, and sees only its allocations', async () => {
    await h.t.db.knex('nodes').whereIn('uuid', [ids.nobodys]).update({ provision_state: 'available', resource_class: 'lease' });
    const mine = await call('POST', '/v1/allocations', 'bMember', { resource_class: 'lease', name: 'b-alloc' });
    expect(mine.status).toBe(201);
    expect(mine.body.owner).toBe(projectB);
    // Recorded for a conductor to process (the owner rule it applies: allocations.test.ts).
    expect(mine.body).toMatchObject({ state: 'allocating', node_uuid: null });
    expect((await call('POST', '/v1/allocations', 'bMember', { resource_class: 'lease', owner: projectA })).status).toBe(403);
    expect((await call('GET', '/v1/allocations', 'bMember')).body.allocations.map((a: { name: string }) => a.name)).toEqual(['b-alloc']);
    expect((await call('GET', '/v1/allocations', 'aMember')).body.allocations).toEqual([]);
    expect((await call('GET', '/v1/allocations/b-alloc', 'aMember')).status).toBe(404);
    expect((await call('DELETE', '/v1/allocations/b-alloc', 'aMember')).status).toBe(404);
    expect((await call('GET', '/v1/allocations', 'admin')).body.allocations).toHaveLength(1);
    expect((await call('DELETE', '/v1/allocations/b-alloc', 'bMember')).status).toBe(204);
  });

  it('lets a project admin create a node of its own project, not of another', async () => {
    const own = await call('POST', '/v1/nodes', 'aAdmin', { driver: 'fake-hardware', name: 'a-made' });
    expect(own.status).toBe(201);
    expect(own.body.owner).toBe(projectA);
    expect((await call('POST', '/v1/nodes', 'aAdmin', { driver: 'fake-hardware', owner: projectB })).status).toBe(403);
    expect((await call('POST', '/v1/nodes', 'aMember', { driver: 'fake-hardware' })).status).toBe(403);
    expect((await call('DELETE', '/v1/nodes/a-made', 'aAdmin')).status).toBe(204);
  });
});

describe('token cache', () => {
  it('trusts a validated token for auth.keystone.cacheSeconds, then asks Keystone again (a revoked token fails)', async () => {
    const h = await startHarness('sqlite', { configure: (c) => useKeystone(c, 60) });
    // Anvil's clock is moved by hand, so a slow machine cannot outlast the cache window by accident.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const token = await ks.token('sys-reader', PW, { system: true });
      const get = () => h.app.inject({ method: 'GET', url: '/v1/nodes', headers: { 'X-Auth-Token': token } }).then((r) => r.statusCode);
      expect(await get()).toBe(200);
      await ks.revoke(token);
      vi.setSystemTime(Date.now() + 59_000);
      expect(await get()).toBe(200);
      vi.setSystemTime(Date.now() + 2_000);
      expect(await get()).toBe(401);
    } finally {
      vi.useRealTimers();
      await h.close();
    }
  });
});

describe('baremetal CLI with Keystone password auth over HTTPS (sqlite)', { timeout: 300_000 }, () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let cacert: string;

  beforeAll(async () => {
    const pki = makeTestPki();
    cacert = pki.caCert;
    t = await createTestDatabase('sqlite');
    await registerConductor(t.db.knex, 'c1', '', ['fake-hardware']);
    const config = testConfig();
    useKeystone(config);
    config.api.tls = { cert: pki.serverCert, key: pki.serverKey, clientCa: undefined };
    app = await createApiServer({ db: t.db, config, logger: silentLogger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await ks.addEndpoint('baremetal', `https://127.0.0.1:${(app.server.address() as { port: number }).port}`);
    // Two nodes: one leased to proj-b (read back from a proj-b token), one nobody's.
    const bToken = await ks.token('b-admin', PW, { project: 'proj-b' });
    const info = await fetch(`${ks.authUrl}/auth/tokens`, { headers: { 'X-Auth-Token': bToken, 'X-Subject-Token': bToken } }).then((r) => r.json() as Promise<{ token: { project: { id: string } } }>);
    const admin = await ks.token('admin', ks.adminPassword, { system: true });
    for (const [name, lessee] of [['cli-leased', info.token.project.id], ['cli-other', null]] as const) {
      const r = await app.inject({ method: 'POST', url: '/v1/nodes', headers: { 'X-Auth-Token': admin, 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.89' }, payload: JSON.stringify({ driver: 'fake-hardware', name, lessee }) });
      expect(r.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await app?.close();
    await t?.drop();
  });

  async function baremetal(user: string, password: string, scope: string[], args: string[]) {
    const r = await execa('/usr/bin/baremetal', [
      '--os-auth-type', 'password', '--os-auth-url', ks.authUrl, '--os-username', user, '--os-password', password,
      '--os-user-domain-name', 'Default', ...scope, '--os-cacert', cacert, ...args,
    ], { reject: false, timeout: 120_000, env: { HOME: process.env.HOME ?? '/tmp' }, extendEnv: false });
    return { code: r.exitCode, out: r.stdout, err: r.stderr };
  }

  it('lists what a project-scoped user may see, and everything for a system-scoped one', async () => {
    const project = await baremetal('b-admin', PW, ['--os-project-name', 'proj-b', '--os-project-domain-name', 'Default'], ['node', 'list', '-f', 'json']);
    expect(project.code, project.err).toBe(0);
    expect(JSON.parse(project.out).map((n: { Name: string }) => n.Name)).toEqual(['cli-leased']);
    const shown = await baremetal('b-admin', PW, ['--os-project-name', 'proj-b', '--os-project-domain-name', 'Default'], ['node', 'show', 'cli-other']);
    expect(shown.code).not.toBe(0);
    expect(shown.err).toMatch(/could not be found/);
    const system = await baremetal('admin', ks.adminPassword, ['--os-system-scope', 'all'], ['node', 'list', '-f', 'json']);
    expect(system.code, system.err).toBe(0);
    expect(JSON.parse(system.out).map((n: { Name: string }) => n.Name).sort()).toEqual(['cli-leased', 'cli-other']);
  });
});
