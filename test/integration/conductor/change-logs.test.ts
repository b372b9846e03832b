// The node change and transition logs are pruned by a conductor, whether or not a console client
// reads them, in deletes of a bounded size.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pruneChanges } from '../../../db/console.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, startConductor } from './helpers.ts';

const MINUTE = 60_000;

describe.each(BACKENDS)('change log pruning on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor | undefined;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterEach(async () => { await conductor?.stop(); conductor = undefined; });
  afterAll(async () => { await t.drop(); });

  async function addChanges(count: number, at: number): Promise<void> {
    // SQLite takes at most 500 rows a statement.
    await t.db.knex.batchInsert('node_changes', Array.from({ length: count }, () => ({ node_uuid: '00000000-0000-4000-8000-000000000001', at })), 500);
  }

  it('deletes at most the number of rows asked, oldest first, and only those older than the bound', async () => {
    await t.db.knex('node_changes').delete();
    const now = Date.now();
    await addChanges(7, now - 20 * MINUTE);
    await addChanges(2, now);
    expect(await pruneChanges(t.db.knex, now - 10 * MINUTE, 5)).toBe(5);
    expect(await pruneChanges(t.db.knex, now - 10 * MINUTE, 5)).toBe(2);
    expect(await pruneChanges(t.db.knex, now - 10 * MINUTE, 5)).toBe(0);
    expect((await t.db.knex('node_changes').select('at')).map((r) => Number(r.at))).toEqual([now, now]);
  });

  it('a conductor prunes changes older than 10 minutes and transitions older than a week, with no console client', async () => {
    // Not a node's: a node's writes add rows of their own.
    const uuid = '00000000-0000-4000-8000-000000000002';
    const now = Date.now();
    await t.db.knex('node_changes').delete();
    await addChanges(12_000, now - 11 * MINUTE);
    await addChanges(3, now - MINUTE);
    await t.db.knex('node_transitions').insert([
      { node_uuid: uuid, from_state: 'enroll', to_state: 'verifying', at: now - 8 * 24 * 60 * MINUTE },
      { node_uuid: uuid, from_state: 'verifying', to_state: 'manageable', at: now - 6 * 24 * 60 * MINUTE },
    ]);
    conductor = await startConductor(t.db, `pruner-${backend}`, { changeLogPruneInterval: 0.2 });
    const count = async (table: string) => Number((await t.db.knex(table).count({ n: '*' }).first())!.n);
    // 12,000 old rows take three deletes of 5,000; the recent ones stay.
    await eventually(async () => (await count('node_changes')) === 3, 15_000, 'old changes to be pruned');
    expect((await t.db.knex('node_transitions').where({ node_uuid: uuid }).select('to_state')).map((r) => r.to_state)).toEqual(['manageable']);
  });
});
