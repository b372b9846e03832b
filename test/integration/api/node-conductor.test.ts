// A node's `conductor` is the hash ring's owner of the node among the alive conductors of its
// group, as Ironic's API shows it, and the `conductor` filter selects by the same rule; with real
// conductors, the one the API names is the one that works the node. Both back ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConductor } from '../../../db/conductors.ts';
import { applyNodeFilters, findNode } from '../../../db/nodes.ts';
import { historyOfNode } from '../../../db/history.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { eventually } from '../conductor/helpers.ts';
import { createNode, startConductors, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('node conductor field on %s', (backend) => {
  let h: ApiHarness;
  const uuids: Record<string, string[]> = { '': [], rack2: [], orphans: [] };
  beforeAll(async () => {
    h = await startHarness(backend, { conductorRow: false });
    for (const [host, group] of [['cond-1', ''], ['cond-2', ''], ['cond-3', 'rack2']]) await registerConductor(h.t.db.knex, host, group, ['fake-hardware']);
    for (const group of Object.keys(uuids)) {
      for (let i = 0; i < (group === '' ? 24 : 3); i++) uuids[group].push((await createNode(h, { conductor_group: group })).uuid);
    }
  });
  afterAll(async () => { await h.close(); });

  async function conductorOf(uuid: string): Promise<string | null> {
    return (await h.call('GET', `/v1/nodes/${uuid}`)).body.conductor;
  }
  async function listed(query: string): Promise<string[]> {
    return (await h.call('GET', `/v1/nodes?${query}`)).body.nodes.map((n: { uuid: string }) => n.uuid).sort();
  }

  it('names the ring owner among the alive conductors of the node\'s group, null when the group has none', async () => {
    const owners = await Promise.all(uuids[''].map(conductorOf));
    expect(new Set(owners)).toEqual(new Set(['cond-1', 'cond-2']));
    for (const uuid of uuids.rack2) expect(await conductorOf(uuid)).toBe('cond-3');
    for (const uuid of uuids.orphans) expect(await conductorOf(uuid)).toBeNull();
    const page = (await h.call('GET', '/v1/nodes?fields=uuid,conductor&limit=1000')).body.nodes;
    for (const n of page) expect(n.conductor).toBe(await conductorOf(n.uuid));
    expect((await h.call('GET', `/v1/nodes/${uuids[''][0]}`, undefined, '1.48')).body).not.toHaveProperty('conductor');
  });

  it('filters by the same owner, page by page', async () => {
    const byOwner = new Map<string, string[]>();
    for (const uuid of uuids['']) {
      const owner = (await conductorOf(uuid))!;
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), uuid]);
    }
    expect(await listed('conductor=cond-1')).toEqual(byOwner.get('cond-1')!.sort());
    expect(await listed('conductor=cond-2')).toEqual(byOwner.get('cond-2')!.sort());
    expect(await listed('conductor=cond-3')).toEqual([...uuids.rack2].sort());
    expect(await listed('conductor=cond-3&conductor_group=rack2')).toEqual([...uuids.rack2].sort());
    expect(await listed('conductor=cond-3&conductor_group=')).toEqual([]);
    expect(await listed('conductor=nobody')).toEqual([]);
    const first = (await h.call('GET', '/v1/nodes?conductor=cond-1&limit=2')).body;
    expect(first.nodes).toHaveLength(2);
    const rest = (await h.call('GET', `/v1/nodes?conductor=cond-1&limit=1000&marker=${first.nodes[1].uuid}`)).body.nodes.map((n: { uuid: string }) => n.uuid);
    expect([...first.nodes.map((n: { uuid: string }) => n.uuid), ...rest].sort()).toEqual(byOwner.get('cond-1')!.sort());
    expect((await h.call('GET', '/v1/nodes?conductor=cond-1', undefined, '1.48')).status).toBe(406);
  });

  it('moves a dead conductor\'s nodes to the survivor of its group', async () => {
    await h.t.db.knex('conductors').where({ hostname: 'cond-2' }).update({ updated_at: Date.now() - 600_000 });
    for (const uuid of uuids['']) expect(await conductorOf(uuid)).toBe('cond-1');
    expect(await listed('conductor=cond-1')).toEqual([...uuids['']].sort());
    expect(await listed('conductor=cond-2')).toEqual([]);
  });

  it('binds a long id list as one value', async () => {
    const ids = (await h.t.db.knex('nodes').select('id')).map((r: { id: number }) => r.id);
    const many = [...ids, ...Array.from({ length: 5000 }, (_, i) => 1_000_000 + i)];
    const rows = await applyNodeFilters(h.t.db.knex('nodes').select('nodes.id'), { ids: many, include_children: true });
    expect(rows.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  });
});

describe.each(BACKENDS)('node conductor field with working conductors on %s', (backend) => {
  let h: ApiHarness;
  let stopConductors: () => Promise<void>;
  beforeAll(async () => {
    h = await startHarness(backend, { conductorRow: false });
    stopConductors = await startConductors(h, ['work-1', 'work-2']);
  });
  afterAll(async () => {
    await stopConductors();
    await h.close();
  });

  it('names the conductor that then works the node', async () => {
    const nodes = await Promise.all(Array.from({ length: 12 }, () => createNode(h)));
    for (const n of nodes) expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'manage' })).status).toBe(202);
    for (const n of nodes) await eventually(async () => (await h.call('GET', `/v1/nodes/${n.uuid}`)).body.provision_state === 'manageable', 20_000, `node ${n.uuid} to be manageable`);
    const named = new Set<string>();
    for (const n of nodes) {
      const shown = (await h.call('GET', `/v1/nodes/${n.uuid}`)).body;
      const worked = (await historyOfNode(h.t.db.knex, (await findNode(h.t.db.knex, n.uuid))!.id)).at(-1)?.conductor;
      expect(shown.conductor).toBe(worked);
      named.add(shown.conductor);
    }
    expect([...named].sort()).toEqual(['work-1', 'work-2']);
  });
});
