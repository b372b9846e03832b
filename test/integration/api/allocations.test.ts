// /v1/allocations through app.inject() with real conductors, on both back ends: the API answers
// `allocating` and a conductor gives the node (or says why none fits), as Ironic's conductor does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAllocation } from '../../../db/allocations.ts';
import { registerConductor } from '../../../db/conductors.ts';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS, type Backend } from '../../helpers/db.ts';
import { eventually } from '../conductor/helpers.ts';
import { createNode, fault, startConductors, startHarness, type ApiHarness } from './harness.ts';

/** An API on a fresh database (prepared by `before`), with `hosts` conductors on it. */
async function start(backend: Backend, hosts: string[], before?: (h: ApiHarness) => Promise<void>) {
  const h = await startHarness(backend, { conductorRow: false, taskTimeoutMs: 30_000 });
  await before?.(h);
  const stopConductors = await startConductors(h, hosts);
  return {
    h,
    async close() {
      await stopConductors();
      await h.close();
    },
  };
}

/** Waits until the allocation is no longer `allocating`, as Ironic's clients do, and returns it. */
async function settled(h: ApiHarness, ident: string): Promise<any> {
  return eventually(async () => {
    const r = await h.call('GET', `/v1/allocations/${ident}`);
    return r.body.state === 'allocating' ? undefined : r.body;
  }, 20_000, `allocation ${ident} to be processed`);
}

/** A node made available with a known power state (Ironic's allocations skip nodes without one). */
async function availableNode(h: ApiHarness, fields: Record<string, unknown>, traits: string[] = []): Promise<string> {
  const n = await createNode(h, fields);
  const node = (await findNode(h.t.db.knex, n.uuid))!;
  if (traits.length) await h.call('PUT', `/v1/nodes/${n.uuid}/traits`, { traits });
  await updateNode(h.t.db.knex, node.id, { provision_state: 'available', power_state: 'power off' });
  return n.uuid as string;
}

describe.each(BACKENDS)('allocations on %s', (backend) => {
  let env: Awaited<ReturnType<typeof start>>;
  let h: ApiHarness;
  beforeAll(async () => {
    env = await start(backend, ['alloc-a', 'alloc-b']);
    h = env.h;
  });
  afterAll(async () => { await env.close(); });

  it('answers allocating, then a conductor gives a node of the resource class with the traits', async () => {
    await availableNode(h, { resource_class: 'gpu' });
    const wanted = await availableNode(h, { resource_class: 'gpu' }, ['CUSTOM_A100']);
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'gpu', traits: ['CUSTOM_A100'], name: 'worker-0', extra: { k: 'v' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'allocating', node_uuid: null, name: 'worker-0', last_error: null, traits: ['CUSTOM_A100'], extra: { k: 'v' } });
    expect(await settled(h, r.body.uuid)).toMatchObject({ state: 'active', node_uuid: wanted, last_error: null });
    const node = await h.call('GET', `/v1/nodes/${wanted}`);
    expect(node.body).toMatchObject({ allocation_uuid: r.body.uuid, instance_uuid: r.body.uuid });
    expect((await h.call('GET', `/v1/nodes/${wanted}/allocation`)).body.uuid).toBe(r.body.uuid);
    expect((await h.call('GET', '/v1/allocations?state=active')).body.allocations.map((a: any) => a.name)).toEqual(['worker-0']);
  });

  it('says in last_error why no node fits: resource class, traits, candidates', async () => {
    await availableNode(h, { resource_class: 'plain' });
    const cases: [Record<string, unknown>, string][] = [
      [{ resource_class: 'nothing-here' }, 'no available nodes match the resource class nothing-here'],
      [{ resource_class: 'plain', traits: ['CUSTOM_MISSING'] }, 'no suitable nodes have the requested traits CUSTOM_MISSING'],
    ];
    const other = await availableNode(h, { resource_class: 'other' });
    cases.push([{ resource_class: 'plain', candidate_nodes: [other] }, 'none of the requested nodes are available and match the resource class plain']);
    for (const [body, why] of cases) {
      const r = await h.call('POST', '/v1/allocations', body);
      expect(r.body.state).toBe('allocating');
      const a = await settled(h, r.body.uuid);
      expect(a).toMatchObject({ state: 'error', node_uuid: null });
      expect(a.last_error).toBe(`Failed to process allocation ${r.body.uuid}: ${why}.`);
    }
  });

  it('never gives one node twice when many allocations race over two conductors', async () => {
    const nodes = await Promise.all([0, 1, 2].map(() => availableNode(h, { resource_class: 'race' })));
    const answers = await Promise.all(Array.from({ length: 12 }, () => h.call('POST', '/v1/allocations', { resource_class: 'race' })));
    const done = await Promise.all(answers.map((a) => settled(h, a.body.uuid)));
    const active = done.filter((a) => a.state === 'active');
    expect(active.map((a) => a.node_uuid).sort()).toEqual([...nodes].sort());
    expect(done.filter((a) => a.state === 'error')).toHaveLength(9);
    for (const a of active) expect((await h.call('GET', `/v1/nodes/${a.node_uuid}`)).body.allocation_uuid).toBe(a.uuid);
  });

  it('limits the choice to candidate nodes, the node named as the allocation first', async () => {
    const a = await availableNode(h, { resource_class: 'cand', name: 'cand-a' });
    const b = await availableNode(h, { resource_class: 'cand', name: 'cand-b' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'cand', candidate_nodes: ['cand-a'] });
    expect(r.body).toMatchObject({ state: 'allocating', candidate_nodes: [a] });
    expect(await settled(h, r.body.uuid)).toMatchObject({ state: 'active', node_uuid: a });
    const named = await h.call('POST', '/v1/allocations', { resource_class: 'cand', name: 'cand-b' });
    expect(await settled(h, named.body.uuid)).toMatchObject({ state: 'active', node_uuid: b });
  });

  it('gives a project\'s allocation only a node the project owns or leases', async () => {
    await availableNode(h, { resource_class: 'owned', owner: 'project-a' });
    const leased = await availableNode(h, { resource_class: 'owned', owner: 'project-a', lessee: 'project-b' });
    const none = await h.call('POST', '/v1/allocations', { resource_class: 'owned', owner: 'project-c' });
    expect(none.body.owner).toBe('project-c');
    expect(await settled(h, none.body.uuid)).toMatchObject({ state: 'error', last_error: `Failed to process allocation ${none.body.uuid}: no available nodes match the resource class owned.` });
    const lessee = await h.call('POST', '/v1/allocations', { resource_class: 'owned', owner: 'project-b' });
    expect(await settled(h, lessee.body.uuid)).toMatchObject({ state: 'active', node_uuid: leased });
  });

  it('backfills a deployed node at once through its conductor, and refuses a node that is not active', async () => {
    const deployed = await createNode(h, { resource_class: 'back' });
    await updateNode(h.t.db.knex, (await findNode(h.t.db.knex, deployed.uuid))!.id, { provision_state: 'active', instance_uuid: 'a0b1c2d3-0000-4000-8000-000000000001' });
    const back = await h.call('POST', '/v1/allocations', { node: deployed.uuid });
    expect(back.status).toBe(201);
    expect(back.body).toMatchObject({ state: 'active', node_uuid: deployed.uuid, resource_class: 'back', last_error: null });
    expect((await h.call('GET', `/v1/nodes/${deployed.uuid}`)).body).toMatchObject({ allocation_uuid: back.body.uuid, instance_uuid: 'a0b1c2d3-0000-4000-8000-000000000001' });
    expect((await h.call('POST', '/v1/allocations', { node: deployed.uuid })).status).toBe(409);

    const idle = await availableNode(h, { resource_class: 'back' });
    const refused = await h.call('POST', '/v1/allocations', { node: idle, name: 'refused-backfill' });
    expect(refused.status).toBe(400);
    expect(fault(refused)).toContain(`Cannot backfill an allocation for node ${idle}: Node must be in the "active" state, but the current state is "available"`);
    expect((await h.call('GET', '/v1/allocations/refused-backfill')).body).toMatchObject({ state: 'error', node_uuid: null });
    expect((await h.call('GET', `/v1/nodes/${idle}`)).body.allocation_uuid).toBeNull();
    expect((await h.call('POST', '/v1/allocations', { node: deployed.uuid }, '1.57')).status).toBe(406);
  });

  it('deletes an allocation while a conductor is processing it, and the node stays free', async () => {
    const uuid = await availableNode(h, { resource_class: 'del' });
    const node = (await findNode(h.t.db.knex, uuid))!;
    // Locked by a host no conductor judges: the conductor retries it (Ironic's node_locked_retry_attempts).
    await updateNode(h.t.db.knex, node.id, { reservation: 'busy-elsewhere' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'del', name: 'to-delete' });
    await eventually(async () => (await h.t.db.knex('allocations').where({ uuid: r.body.uuid }).first())?.conductor_affinity, 10_000, 'a conductor to take the allocation');
    expect((await h.call('DELETE', '/v1/allocations/to-delete')).status).toBe(204);
    await updateNode(h.t.db.knex, node.id, { reservation: null });
    // The next allocation of the class gets the node: the deleted one never did.
    const next = await h.call('POST', '/v1/allocations', { resource_class: 'del' });
    expect(await settled(h, next.body.uuid)).toMatchObject({ state: 'active', node_uuid: uuid });
    expect((await h.call('GET', '/v1/allocations/to-delete')).status).toBe(404);
    expect((await h.call('GET', `/v1/nodes/${uuid}`)).body.allocation_uuid).toBe(next.body.uuid);
  });

  it('renames, deletes and frees nodes, and refuses bad requests', async () => {
    const uuid = await availableNode(h, { resource_class: 'ren' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'ren', name: 'to-rename' });
    await settled(h, r.body.uuid);
    expect((await h.call('PATCH', '/v1/allocations/to-rename', [{ op: 'replace', path: '/name', value: 'renamed' }])).body.name).toBe('renamed');
    expect((await h.call('PATCH', '/v1/allocations/renamed', [{ op: 'replace', path: '/resource_class', value: 'x' }])).status).toBe(400);
    expect((await h.call('DELETE', `/v1/allocations/${r.body.uuid}`)).status).toBe(204);
    expect((await h.call('GET', `/v1/nodes/${uuid}`)).body).toMatchObject({ allocation_uuid: null, instance_uuid: null });
    expect((await h.call('GET', `/v1/nodes/${uuid}/allocation`)).status).toBe(404);
    const missingClass = await h.call('POST', '/v1/allocations', { name: 'x' });
    expect(missingClass.status).toBe(400);
    expect(fault(missingClass)).toContain('resource_class');
    expect((await h.call('POST', '/v1/allocations', { resource_class: 'ren', colour: 1 })).status).toBe(400);
    expect((await h.call('POST', '/v1/allocations', { resource_class: 'ren', candidate_nodes: ['ghost'] })).status).toBe(400);
    expect((await h.call('POST', '/v1/allocations', { resource_class: 'ren', traits: ['lower'] })).status).toBe(400);
    expect((await h.call('GET', '/v1/allocations', undefined, '1.51')).status).toBe(404);
  });

  it('keeps the allocation of an active node unless it is in maintenance', async () => {
    const uuid = await availableNode(h, { resource_class: 'act' });
    const r = await h.call('POST', '/v1/allocations', { resource_class: 'act' });
    await settled(h, r.body.uuid);
    const node = (await findNode(h.t.db.knex, uuid))!;
    await updateNode(h.t.db.knex, node.id, { provision_state: 'active' });
    expect((await h.call('DELETE', `/v1/allocations/${r.body.uuid}`)).status).toBe(409);
    await updateNode(h.t.db.knex, node.id, { maintenance: true });
    expect((await h.call('DELETE', `/v1/nodes/${uuid}/allocation`)).status).toBe(204);
  });
});

describe.each(BACKENDS)('allocations of a conductor that died, on %s', (backend) => {
  let env: Awaited<ReturnType<typeof start>>;
  let h: ApiHarness;
  let orphan: string;
  let node: string;
  beforeAll(async () => {
    env = await start(backend, ['heir'], async (harness) => {
      // A conductor that took an allocation and stopped heart-beating before it gave a node.
      await registerConductor(harness.t.db.knex, 'ghost', '', ['fake-hardware']);
      await harness.t.db.knex('conductors').where({ hostname: 'ghost' }).update({ updated_at: Date.now() - 600_000 });
      node = await availableNode(harness, { resource_class: 'orphan' });
      const a = await createAllocation(harness.t.db.knex, { resource_class: 'orphan' });
      await harness.t.db.knex('allocations').where({ id: a.id }).update({ conductor_affinity: 'ghost' });
      orphan = a.uuid;
    });
    h = env.h;
  });
  afterAll(async () => { await env.close(); });

  it('are taken over by an alive conductor', async () => {
    expect(await settled(h, orphan)).toMatchObject({ state: 'active', node_uuid: node });
    expect((await h.t.db.knex('allocations').where({ uuid: orphan }).first()).conductor_affinity).toBe('heir');
  });
});
