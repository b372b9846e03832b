// Test databases: every API and conductor test runs on both back ends. SQLite gets a fresh file;
// PostgreSQL gets a fresh database created in the server at ANVIL_TEST_PG (else the one
// scripts/setup-postgres.sh found or made, else the local one with trust, database `test`) and
// dropped afterwards, so test files never see each other's rows.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../db/index.ts';

const SETUP_URL_FILE = path.resolve(import.meta.dirname, '../../.cache/test-postgres.url');
export const PG_ADMIN_URL = process.env.ANVIL_TEST_PG
  ?? (existsSync(SETUP_URL_FILE) ? readFileSync(SETUP_URL_FILE, 'utf8').trim() : 'postgres://postgres@127.0.0.1:5432/test');

export interface TestDatabase {
  db: Database;
  url: string;
  /** Closes the connection and deletes the database. */
  drop(): Promise<void>;
}

export type Backend = 'sqlite' | 'pg';
export const BACKENDS: Backend[] = ['sqlite', 'pg'];

/** A URL for a new, empty database of the given kind (not yet migrated), and how to remove it. */
export async function createTestDatabaseUrl(kind: Backend): Promise<{ url: string; remove: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-test-'));
    return { url: `sqlite:${path.join(dir, 'anvil.sqlite')}`, remove: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `anvil_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    remove: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh, migrated database of the given kind. */
export async function createTestDatabase(kind: Backend): Promise<TestDatabase> {
  const { url, remove } = await createTestDatabaseUrl(kind);
  const db = await openDatabase(url);
  return {
    db,
    url,
    async drop() {
      await db.close();
      await remove();
    },
  };
}
