// The node change log the console reads (migrations 008 and 019): every watched change is read
// once a reader passes it, on both back ends; on PostgreSQL a transaction that commits after a
// later one is not skipped (its seq is lower than one already read).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeCursorNow, changesAfter } from '../../../db/console.ts';
import { createNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe.each(BACKENDS)('node change log on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterAll(async () => { await t.drop(); });

  it('gives each changed node after the cursor, and nothing twice', async () => {
    const a = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' });
    const b = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' });
    const start = await changeCursorNow(t.db.knex);
    await updateNode(t.db.knex, a.id, { provision_state: 'verifying' });
    await updateNode(t.db.knex, b.id, { reservation: 'c1' }); // not a watched column
    await updateNode(t.db.knex, b.id, { provision_state: 'verifying' });
    const first = await changesAfter(t.db.knex, start);
    expect(first.uuids.sort()).toEqual([a.uuid, b.uuid].sort());
    expect((await changesAfter(t.db.knex, first.cursor)).uuids).toEqual([]);
  });

  it('continues after a full page', async () => {
    const nodes = await Promise.all([1, 2, 3].map(() => createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' })));
    const start = await changeCursorNow(t.db.knex);
    for (const n of nodes) await updateNode(t.db.knex, n.id, { provision_state: 'verifying' });
    const page1 = await changesAfter(t.db.knex, start, 2);
    const page2 = await changesAfter(t.db.knex, page1.cursor, 2);
    expect([...page1.uuids, ...page2.uuids].sort()).toEqual(nodes.map((n) => n.uuid).sort());
  });
});

// Transaction horizons are PostgreSQL's alone: SQLite has one writer, so changes commit in seq order.
describe('node change log on pg, with transactions still open', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase('pg'); });
  afterAll(async () => { await t.drop(); });

  it('does not skip a transaction that began first and commits last', async () => {
    const slow = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' });
    const fast = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' });
    const start = await changeCursorNow(t.db.knex);
    const trx = await t.db.knex.transaction();
    await updateNode(trx, slow.id, { provision_state: 'verifying' }); // its change row gets the lower seq and xid
    await updateNode(t.db.knex, fast.id, { provision_state: 'verifying' }); // committed first
    const whileOpen = await changesAfter(t.db.knex, start);
    expect(whileOpen.uuids).toEqual([]); // the open transaction holds the horizon back
    await trx.commit();
    const after = await changesAfter(t.db.knex, whileOpen.cursor);
    expect(after.uuids.sort()).toEqual([slow.uuid, fast.uuid].sort());
  });

  it("is not held back by another database's open transaction", async () => {
    const other = await createTestDatabase('pg');
    const trx = await other.db.knex.transaction();
    try {
      await createNode(trx, { driver: 'fake-hardware', provision_state: 'enroll' }); // an xid older than ours, still running
      const node = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll' });
      const start = await changeCursorNow(t.db.knex);
      await updateNode(t.db.knex, node.id, { provision_state: 'verifying' });
      expect((await changesAfter(t.db.knex, start)).uuids).toEqual([node.uuid]);
    } finally {
      await trx.rollback();
      await other.drop();
    }
  });
});
