import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode } from '../../../db/nodes.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

/** The names of the nodes another connection to the same database sees. */
async function namesSeenElsewhere(t: TestDatabase): Promise<string[]> {
  if (t.db.kind === 'sqlite') {
    const other = new Sqlite(t.url.slice('sqlite:'.length), { readonly: true });
    try {
      return (other.prepare('select name from nodes order by id').all() as { name: string }[]).map((r) => r.name);
    } finally {
      other.close();
    }
  }
  const other = new pg.Client({ connectionString: t.url });
  await other.connect();
  try {
    return (await other.query<{ name: string }>('select name from nodes order by id')).rows.map((r) => r.name);
  } finally {
    await other.end();
  }
}

describe.each(BACKENDS)('writes answered after committed() on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterAll(async () => { await t.drop(); });

  it('shows every write made before committed() to another connection once it resolves', async () => {
    await Promise.all(['first', 'second'].map((name) => createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name })));
    await t.db.committed();
    expect(await namesSeenElsewhere(t)).toEqual(['first', 'second']);
    // Nothing written since: it resolves at once, and still all is there.
    await t.db.committed();
    expect(await namesSeenElsewhere(t)).toEqual(['first', 'second']);
  });
});

describe('SQLite: the writes of one turn of the event loop share one commit', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase('sqlite'); });
  afterAll(async () => { await t.drop(); });

  it('keeps the writes of requests answered in one turn in one transaction until that turn ends', async () => {
    // Two writers of the same turn (as two requests read from two sockets at once).
    const written = Promise.all(['a', 'b'].map((name) => createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', name })));
    await written;
    // Both are written, neither committed yet: one transaction is open for the turn.
    expect(await namesSeenElsewhere(t)).toEqual([]);
    const answers = [t.db.committed(), t.db.committed()];
    let settled = 0;
    for (const a of answers) void a.then(() => settled++);
    await Promise.resolve();
    expect(settled).toBe(0);
    await Promise.all(answers);
    expect(await namesSeenElsewhere(t)).toEqual(['a', 'b']);
  });
});
