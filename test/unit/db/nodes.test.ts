import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, findNode, releaseNode, reserveNode, updateNode } from '../../../db/nodes.ts';
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
