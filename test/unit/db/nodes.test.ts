import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, findNode, listNodes, releaseNode, reserveNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe.each(BACKENDS)('nodes table on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterAll(async () => { await t.drop(); });

  it('stores and decodes JSON and boolean fields', async () => {
    const node = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name: 'n1', driver_info: { a: 1 }, maintenance: false });
    expect(node.driver_info).toEqual({ a: 1 });
    expect(node.maintenance).toBe(false);
    expect((await findNode(t.db.knex, 'n1'))?.uuid).toBe(node.uuid);
    expect((await findNode(t.db.knex, node.uuid.toUpperCase()))?.name).toBe('n1');
    const updated = await updateNode(t.db.knex, node.id, { maintenance: true, clean_step: { step: 'x' } });
    expect(updated?.maintenance).toBe(true);
    expect(updated?.clean_step).toEqual({ step: 'x' });
  });

  it('lists the nodes decoded as a single read decodes them, on every column list', async () => {
    await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name: 'listed', properties: { cpus: 4 }, secure_boot: true, deploy_step: null });
    const page = { limit: 1000, sortKey: 'id', sortDir: 'asc' as const };
    const listed = await listNodes(t.db.knex, {}, page);
    expect(listed.length).toBeGreaterThan(1);
    for (const node of listed) expect(node).toEqual(await findNode(t.db.knex, node.uuid));
    const one = listed.find((n) => n.name === 'listed')!;
    expect(one).toMatchObject({ properties: { cpus: 4 }, secure_boot: true, automated_clean: null, deploy_step: null, maintenance: false });
    // A narrow list: the columns asked for, the decoded fields at their empty values (as a partial row always read).
    const [narrow] = await listNodes(t.db.knex, { provision_state: 'enroll' }, { ...page, limit: 1 }, ['uuid', 'name']);
    expect(narrow).toMatchObject({ id: listed[0].id, uuid: listed[0].uuid, name: listed[0].name, properties: {}, maintenance: false, clean_step: null });
    expect(narrow).not.toHaveProperty('driver');
    // The statement the list ran (SQLite keeps it prepared, shared with knex) gives knex objects again.
    const again = await t.db.knex('nodes').select('nodes.*').whereNull('nodes.parent_node').orderBy('nodes.id', 'asc').limit(1000);
    expect(again[0]).toMatchObject({ id: listed[0].id, uuid: listed[0].uuid });
  });

  it('lets only one host take the reservation', async () => {
    const node = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' });
    const results = await Promise.all(['c1', 'c2', 'c3'].map((h) => reserveNode(t.db.knex, node.id, h)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const holder = results.find(Boolean)!.reservation!;
    expect(await releaseNode(t.db.knex, node.id, 'nobody')).toBe(false);
    expect(await releaseNode(t.db.knex, node.id, holder)).toBe(true);
    expect(await reserveNode(t.db.knex, node.id, 'c9')).toBeDefined();
  });
});
