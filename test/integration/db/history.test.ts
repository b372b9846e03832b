// Node history lines record where the node stands: read from the row the caller holds, or from
// the database when the caller has only the node's id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyOfNode, recordHistory } from '../../../db/history.ts';
import { createNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe.each(BACKENDS)('node history on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterAll(async () => { await t.drop(); });

  /** The statements `work` runs. */
  async function statements(work: () => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    const listener = (q: { sql: string }) => seen.push(q.sql);
    t.db.knex.on('query', listener);
    try {
      await work();
    } finally {
      t.db.knex.removeListener('query', listener);
    }
    return seen;
  }

  it('writes the state of the row it is given, with that one insert only', async () => {
    const node = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'manageable', provision_updated_at: Date.now() - 90_000 });
    const updated = (await updateNode(t.db.knex, node.id, { provision_state: 'cleaning', target_provision_state: 'available', provision_updated_at: Date.now() - 5_000 }))!;
    const ran = await statements(() => recordHistory(t.db.knex, updated, { event: 'Cleaning started', conductor: 'c1' }));
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatch(/^insert into [`"]node_history[`"]/);
    const [line] = await historyOfNode(t.db.knex, node.id);
    expect(line).toMatchObject({ event: 'Cleaning started', conductor: 'c1', state: 'cleaning', target_provision_state: 'available' });
    expect(line.duration_seconds).toBeGreaterThanOrEqual(5);
    expect(line.duration_seconds).toBeLessThan(60);
  });

  it('reads the node\'s state when given its id', async () => {
    const node = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'active', target_provision_state: null });
    await recordHistory(t.db.knex, node.id, { event: 'Maintenance set', event_type: 'maintenance' });
    expect((await historyOfNode(t.db.knex, node.id))[0]).toMatchObject({ event: 'Maintenance set', event_type: 'maintenance', state: 'active', target_provision_state: null });
  });
});
