// The ramdisk endpoints as IPA calls them, on SQLite and PostgreSQL: lookup (token once), heartbeat
// (token checked, queued for the conductor), continue_inspection; and their errors.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { fingerprint } from '../../../common/secrets.ts';
import { createNode, getNodeById, updateNode, type NodeRecord } from '../../../db/nodes.ts';
import { createPort } from '../../../db/ports.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const V = (v: string) => ({ 'x-openstack-ironic-api-version': v });

describe.each(BACKENDS)('ramdisk API on %s', (backend) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let seq = 0;

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    app = await createApiServer({ db: t.db, config: defaultConfig('/tmp'), logger: silentLogger });
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  async function node(state: string): Promise<{ node: NodeRecord; mac: string }> {
    const n = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: state, name: `rd-${backend}-${++seq}` });
    const mac = `52:54:00:aa:00:${seq.toString(16).padStart(2, '0')}`;
    await createPort(t.db.knex, { node_id: n.id, address: mac });
    return { node: n, mac };
  }
  const lookup = (q: string, version = '1.62') => app.inject({ method: 'GET', url: `/v1/lookup?${q}`, headers: V(version) });
  const fault = (res: { json(): any }) => JSON.parse(res.json().error_message).faultstring as string;

  it('answers a lookup by MAC with the node and a token, once; later lookups see it masked', async () => {
    const { node: n, mac } = await node('wait call-back');
    const first = await lookup(`addresses=${mac.toUpperCase()},52:54:00:ff:ff:ff`);
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.node.uuid).toBe(n.uuid);
    expect(body.config).toMatchObject({ heartbeat_timeout: 300, agent_token_required: true, permitted_image_formats: ['raw', 'qcow2'] });
    expect(body.config.agent_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.node.driver_internal_info.agent_secret_token).toBe('******');
    expect((await getNodeById(t.db.knex, n.id))!.driver_internal_info.agent_secret_token).toBe(body.config.agent_token);
    const again = await lookup(`node_uuid=${n.uuid}`);
    expect(again.json().config.agent_token).toBe('******');
  });

  it('refuses lookups without addresses, for unknown MACs, for nodes not expecting an agent, and before 1.22', async () => {
    expect(fault(await lookup(''))).toBe('Either node_uuid or addresses must be provided');
    expect((await lookup('addresses=nonsense')).statusCode).toBe(400);
    const unknown = await lookup('addresses=52:54:00:ee:ee:ee');
    expect(unknown.statusCode).toBe(404);
    expect(fault(unknown)).toBe('Could not find a node with address(es) 52:54:00:ee:ee:ee');
    const { node: n, mac } = await node('active');
    const res = await lookup(`addresses=${mac}`);
    expect(res.statusCode).toBe(404);
    expect(fault(res)).toBe(`Could not find a node with address(es) ${mac} in a state that expects an agent (node ${n.uuid} is "active")`);
    expect((await lookup(`addresses=${mac}`, '1.21')).statusCode).toBe(404);
  });

  it('answers 409 while a conductor holds the node, so the agent retries before taking a token', async () => {
    const { node: n, mac } = await node('deploying');
    await updateNode(t.db.knex, n.id, { reservation: 'conductor-x' });
    expect((await lookup(`addresses=${mac}`)).statusCode).toBe(409);
    await updateNode(t.db.knex, n.id, { reservation: null });
    expect((await lookup(`addresses=${mac}`)).json().config.agent_token).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('queues a heartbeat with a valid token, one at a time, and refuses bad ones', async () => {
    const { node: n, mac } = await node('clean wait');
    const token = (await lookup(`addresses=${mac}`)).json().config.agent_token;
    const hb = (body: unknown, version = '1.68') => app.inject({ method: 'POST', url: `/v1/heartbeat/${n.uuid}`, headers: V(version), payload: body as object });
    const good = { callback_url: 'http://127.0.0.1:9999', agent_token: token, agent_version: '10.0.0' };
    const ok = await hb(good);
    expect(ok.statusCode).toBe(202);
    expect(ok.body).toBe('');
    expect((await hb({ ...good, agent_version: '10.0.1' })).statusCode).toBe(202);
    const tasks = await t.db.knex('node_tasks').where({ node_id: n.id, kind: 'heartbeat' });
    expect(tasks).toHaveLength(1);
    // The token itself is not copied into the task, only its fingerprint, for the conductor to check it is still the node's.
    expect(JSON.parse(tasks[0].args)).toEqual({ callback_url: 'http://127.0.0.1:9999', agent_version: '10.0.1', token_fingerprint: fingerprint(token) });

    expect(fault(await hb({ ...good, agent_token: 'stolen' }))).toBe('Invalid or missing agent token received.');
    expect(fault(await hb({ callback_url: good.callback_url }))).toBe('Invalid or missing agent token received.');
    expect(fault(await hb({ ...good, callback_url: 'ftp://x' }))).toBe('Invalid callback_url "ftp://x": an http(s) URL is expected');
    expect((await hb({ agent_token: token })).statusCode).toBe(400);
    expect((await hb({ ...good, surprise: 1 })).statusCode).toBe(400);
    expect(fault(await hb(good, '1.50'))).toBe('Field "agent_token" of a heartbeat needs API version 1.62; the request asked for 1.50');
    expect((await app.inject({ method: 'POST', url: '/v1/heartbeat/no-such-node', headers: V('1.68'), payload: good })).statusCode).toBe(404);

    await updateNode(t.db.knex, n.id, { driver_internal_info: { ...(await getNodeById(t.db.knex, n.id))!.driver_internal_info, agent_url: 'http://127.0.0.1:9999' } });
    expect(fault(await hb({ ...good, callback_url: 'http://10.9.9.9:9999' }))).toBe('Detected change in agent URL from http://127.0.0.1:9999 to http://10.9.9.9:9999; heartbeat refused');
  });

  it('takes inspection data for a node in inspect wait, found by MAC', async () => {
    const { node: n, mac } = await node('inspect wait');
    const data = { inventory: { interfaces: [{ name: 'eth0', mac_address: mac.toUpperCase() }, { name: 'lo', mac_address: 'none' }] }, root_disk: null };
    const res = await app.inject({ method: 'POST', url: '/v1/continue_inspection', payload: data });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ uuid: n.uuid });
    const task = await t.db.knex('node_tasks').where({ node_id: n.id, kind: 'continue_inspection' }).first();
    expect(JSON.parse(task.args).data).toEqual(data);
    const newer = await app.inject({ method: 'POST', url: `/v1/continue_inspection?node_uuid=${n.uuid}`, headers: V('1.84'), payload: data });
    expect(newer.json().node).toEqual({ uuid: n.uuid });
  });

  it('refuses inspection data without an inventory or for a node not waiting for it', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/continue_inspection', payload: { inventory: { cpu: {} } } });
    expect(bad.statusCode).toBe(400);
    expect(fault(bad)).toBe('The inspection data needs an "inventory" with a list of "interfaces"');
    const { node: n, mac } = await node('manageable');
    const res = await app.inject({ method: 'POST', url: '/v1/continue_inspection', payload: { inventory: { interfaces: [{ mac_address: mac }] } } });
    expect(res.statusCode).toBe(404);
    expect(fault(res)).toBe(`Node ${n.uuid} is "manageable", not waiting for inspection data`);
    expect((await app.inject({ method: 'POST', url: '/v1/continue_inspection', payload: '{broken', headers: { 'content-type': 'application/json' } })).statusCode).toBe(400);
  });
});
