// The node statements SQLite runs straight on its connection (db/direct.ts) give what knex gives,
// key for key, and step aside for a transaction: inside one they run in it, outside they wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyOfNode, recordHistory } from '../../../db/history.ts';
import { createNode, findNode, getNodeById, reserveNode, rowToNode, updateNode, type NodeRecord } from '../../../db/nodes.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe.each(BACKENDS)('node reads and writes on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterAll(async () => { await t.drop(); });

  /** The node as knex reads it, decoded as every read decodes it. */
  async function throughKnex(id: number): Promise<NodeRecord> {
    return rowToNode(await t.db.knex('nodes').where({ id }).first());
  }

  it('creates, finds, updates and locks nodes as knex reads them, byte for byte', async () => {
    const created = await createNode(t.db.knex, {
      driver: 'fake-hardware', provision_state: 'enroll', name: 'direct-1', driver_info: { address: 'x' }, properties: { cpus: 2 },
      maintenance: false, secure_boot: null, automated_clean: true, clean_step: null, description: undefined,
    });
    expect(JSON.stringify(created)).toBe(JSON.stringify(await throughKnex(created.id)));
    for (const found of [await findNode(t.db.knex, created.uuid), await findNode(t.db.knex, created.uuid.toUpperCase()), await findNode(t.db.knex, 'direct-1'), await getNodeById(t.db.knex, created.id)]) {
      expect(JSON.stringify(found)).toBe(JSON.stringify(created));
    }
    expect(await findNode(t.db.knex, 'nobody')).toBeUndefined();

    // A compare-and-set on a null column and on a value; one that does not match changes nothing.
    const updated = await updateNode(t.db.knex, created.id, { provision_state: 'verifying', deploy_step: { step: 'a' }, maintenance: true, extra: undefined }, { provision_state: 'enroll', reservation: null });
    expect(updated).toMatchObject({ provision_state: 'verifying', deploy_step: { step: 'a' }, maintenance: true, extra: {} });
    expect(JSON.stringify(updated)).toBe(JSON.stringify(await throughKnex(created.id)));
    expect(await updateNode(t.db.knex, created.id, { provision_state: 'manageable' }, { provision_state: 'enroll' })).toBeUndefined();
    const locked = await reserveNode(t.db.knex, created.id, 'c1');
    expect(locked?.reservation).toBe('c1');
    expect(await reserveNode(t.db.knex, created.id, 'c2')).toBeUndefined();
    expect(JSON.stringify(locked)).toBe(JSON.stringify(await throughKnex(created.id)));
  });

  it('reports a duplicate name as the unique violation it is', async () => {
    await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name: 'twice' });
    await expect(createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name: 'twice' })).rejects.toThrow(/unique|duplicate/i);
  });

  it('writes inside a transaction in it, and a write outside waits for it', async () => {
    const node = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', description: 'before' });
    let outside: Promise<NodeRecord | undefined> | undefined;
    await expect(t.db.knex.transaction(async (trx) => {
      await updateNode(trx, node.id, { description: 'rolled back' });
      await recordHistory(trx, node, { event: 'rolled back too' });
      expect((await getNodeById(trx, node.id))?.description).toBe('rolled back');
      outside = updateNode(t.db.knex, node.id, { name: 'after-the-transaction' });
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    expect(await outside).toMatchObject({ description: 'before', name: 'after-the-transaction' });
    expect(await historyOfNode(t.db.knex, node.id)).toEqual([]);
  });
});
