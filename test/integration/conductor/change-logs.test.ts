// The node change and transition logs and finished node tasks are pruned by a conductor, whether
// or not a console client reads them, in deletes of a bounded size.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pruneChanges } from '../../../db/console.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, fakeNode, startConductor } from './helpers.ts';

const MINUTE = 60_000;
/** The node uuid of the change rows the tests add. */
const CHANGED = '00000000-0000-4000-8000-000000000001';

describe.each(BACKENDS)('change log pruning on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor | undefined;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterEach(async () => { await conductor?.stop(); conductor = undefined; });
  afterAll(async () => { await t.drop(); });

  async function addChanges(count: number, at: number): Promise<void> {
    // SQLite takes at most 500 rows a statement.
    await t.db.knex.batchInsert('node_changes', Array.from({ length: count }, () => ({ node_uuid: CHANGED, at })), 500);
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

  it('a conductor prunes changes older than 10 minutes, transitions older than a week and tasks finished over an hour ago, with no console client', async () => {
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
    const node = await fakeNode(t.db);
    const task = (status: string, finished: number | null) => ({ node_id: node.id, kind: 'noop', status, created_at: now - 2 * 60 * MINUTE, updated_at: finished });
    await t.db.knex('node_tasks').insert([task('done', now - 61 * MINUTE), task('failed', now - 90 * MINUTE), task('done', now - MINUTE), task('running', now - 90 * MINUTE)]);
    conductor = await startConductor(t.db, `pruner-${backend}`, { changeLogPruneInterval: 0.2 });
    // The task's node writes changes of its own: count only the rows added here.
    const added = async () => Number((await t.db.knex('node_changes').where({ node_uuid: CHANGED }).count({ n: '*' }).first())!.n);
    // 12,000 old rows take three deletes of 5,000; the recent ones stay.
    await eventually(async () => (await added()) === 3, 15_000, 'old changes to be pruned');
    expect((await t.db.knex('node_transitions').where({ node_uuid: uuid }).select('to_state')).map((r) => r.to_state)).toEqual(['manageable']);
    // Tasks go last in a run. A task still running, or one finished within the hour, stays.
    const tasks = async () => (await t.db.knex('node_tasks').where({ node_id: node.id }).orderBy('id').select('status')).map((r) => r.status).join();
    await eventually(async () => (await tasks()) === 'done,running', 15_000, 'old tasks to be pruned');
  });
});
