// /v1/allocations through app.inject(), on both back ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('allocations API on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  async function availableNode(fields: Record<string, unknown>, traits: string[] = []) {
    const n = await createNode(h, fields);
    const node = (await findNode(h.t.db.knex, n.uuid))!;
    await updateNode(h.t.db.knex, node.id, { provision_state: 'available' });
    if (traits.length) await h.call('PUT', `/v1/nodes/${n.uuid}/traits`, { traits });
    return n.uuid as string;
  }

  it('picks an available node with the resource class and traits, once', async () => {
    await availableNode({ resource_class: 'gpu' });
    const wanted = await availableNode({ resource_class: 'gpu' }, ['CUSTOM_A100']);
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'gpu', traits: ['CUSTOM_A100'], name: 'worker-0', extra: { k: 'v' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'active', node_uuid: wanted, name: 'worker-0', last_error: null, traits: ['CUSTOM_A100'], extra: { k: 'v' } });
    const node = await h.call('GET', `/v1/nodes/${wanted}`);
    expect(node.body).toMatchObject({ allocation_uuid: r.body.uuid, instance_uuid: r.body.uuid });
    expect((await h.call('GET', `/v1/nodes/${wanted}/allocation`)).body.uuid).toBe(r.body.uuid);
    const again = await h.call('POST', '/v1/allocations', { resource_class: 'gpu', traits: ['CUSTOM_A100'] });
    expect(again.body.state).toBe('error');
    expect(again.body.last_error).toContain('no available nodes match resource class gpu, traits CUSTOM_A100');
    expect((await h.call('GET', '/v1/allocations?state=active')).body.allocations.map((a: any) => a.name)).toEqual(['worker-0']);
  });

  it('never gives one node to two concurrent allocations', async () => {
    await availableNode({ resource_class: 'race' });
    const answers = await Promise.all([0, 1, 2, 3].map(() => h.call('POST', '/v1/allocations', { resource_class: 'race' })));
    expect(answers.map((a) => a.body.state).sort()).toEqual(['active', 'error', 'error', 'error']);
  });

  it('limits the choice to candidate nodes and backfills a given node', async () => {
    const a = await availableNode({ resource_class: 'cand', name: 'cand-a' });
    await availableNode({ resource_class: 'cand', name: 'cand-b' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'cand', candidate_nodes: ['cand-a'] });
    expect(r.body).toMatchObject({ state: 'active', node_uuid: a, candidate_nodes: [a] });
    const deployed = await createNode(h, { resource_class: 'cand' });
    const back = await h.call('POST', '/v1/allocations', { node: deployed.uuid });
    expect(back.body).toMatchObject({ state: 'active', node_uuid: deployed.uuid, resource_class: 'cand' });
    expect((await h.call('POST', '/v1/allocations', { node: deployed.uuid }, '1.57')).status).toBe(406);
  });

  it('renames, deletes and frees nodes, and refuses bad requests', async () => {
    const uuid = await availableNode({ resource_class: 'del' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'del', name: 'to-delete' });
    expect((await h.call('PATCH', '/v1/allocations/to-delete', [{ op: 'replace', path: '/name', value: 'renamed' }])).body.name).toBe('renamed');
    expect((await h.call('PATCH', '/v1/allocations/renamed', [{ op: 'replace', path: '/resource_class', value: 'x' }])).status).toBe(400);
    expect((await h.call('DELETE', `/v1/allocations/${r.body.uuid}`)).status).toBe(204);
    expect((await h.call('GET', `/v1/nodes/${uuid}`)).body).toMatchObject({ allocation_uuid: null, instance_uuid: null });
    expect((await h.call('GET', `/v1/nodes/${uuid}/allocation`)).status).toBe(404);
    const missingClass = await h.call('POST', '/v1/allocations', { name: 'x' });
    expect(missingClass.status).toBe(400);
    expect(fault(missingClass)).toContain('resource_class');
    expect((await h.call('POST', '/v1/allocations', { resource_class: 'del', colour: 1 })).status).toBe(400);
    expect((await h.call('POST', '/v1/allocations', { resource_class: 'del', candidate_nodes: ['ghost'] })).status).toBe(400);
    expect((await h.call('POST', '/v1/allocations', { resource_class: 'del', traits: ['lower'] })).status).toBe(400);
    expect((await h.call('GET', '/v1/allocations', undefined, '1.51')).status).toBe(404);
  });

  it('keeps the allocation of an active node unless it is in maintenance', async () => {
    const uuid = await availableNode({ resource_class: 'act' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'act' });
    const node = (await findNode(h.t.db.knex, uuid))!;
    await updateNode(h.t.db.knex, node.id, { provision_state: 'active' });
    expect((await h.call('DELETE', `/v1/allocations/${r.body.uuid}`)).status).toBe(409);
    await updateNode(h.t.db.knex, node.id, { maintenance: true });
    expect((await h.call('DELETE', `/v1/nodes/${uuid}/allocation`)).status).toBe(204);
  });
});
