// Database access: one knex instance over SQLite (better-sqlite3) or PostgreSQL (pg), the
// migrations, and a wake-up channel (LISTEN/NOTIFY on PostgreSQL, an in-process event on SQLite)
// that the API uses to wake conductors.
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { InvalidInput } from '../common/errors.ts';

let pgLoaded: Promise<typeof pg> | undefined;

/** pg, loaded for the first PostgreSQL database (a process on SQLite never loads it; knex requires the same module). */
function loadPg(): Promise<typeof pg> {
  return (pgLoaded ??= import('pg').then(({ default: loaded }) => {
    // bigint columns hold millisecond timestamps, well inside Number's exact range.
    loaded.types.setTypeParser(20, (v: string) => Number(v));
    return loaded;
  }));
}

export type DbKind = 'sqlite' | 'pg';

export interface Database {
  knex: Knex;
  kind: DbKind;
  url: string;
  /** Wakes every listener of `channel`, in this process and (on PostgreSQL) in every other. */
  notify(channel: string, payload?: string): Promise<void>;
  /**
   * Resolves once the writes made so far are committed (SQLite's commit shared by a turn of the
   * event loop; at once when none waits), so that what is answered next is on disk: the API
   * awaits it before each response. Rejects if that commit failed.
   */
  committed(): Promise<void>;
  /** Calls `handler` on every notification of `channel`; returns an unsubscribe function. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Migrations are the files in db/migrations, applied in name order. */
class FolderMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+_.*\.ts$/.test(f)).sort();
  }
  getMigrationName(migration: string): string {
    return migration.replace(/\.ts$/, '');
  }
  async getMigration(migration: string): Promise<Knex.Migration> {
    // A template of a relative path with its extension, which esbuild bundles as every file it
    // matches, so the production bundle runs them without tsx (vite's import analysis accepts it too).
    return import(`./migrations/${this.getMigrationName(migration)}.ts`);
  }
}

/** better-sqlite3's statements as db/direct.ts runs them. */
export interface DirectStatement {
  raw(on: boolean): DirectStatement;
  columns(): { name: string }[];
  all(params: unknown[]): unknown[][];
  run(params: unknown[]): { changes: number };
}

/** The SQLite connection as db/direct.ts uses it: prepare goes through tuneConnection (its cache and batch). */
export interface DirectConnection {
  prepare(sql: string): DirectStatement;
  /** Tells knex's `query` listeners of a statement run directly, as knex tells of its own. */
  announce(sql: string, bindings: readonly unknown[]): void;
}

interface SqliteConnection {
  pragma(s: string): unknown;
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
  close(): unknown;
  readonly inTransaction: boolean;
}

/** Statements kept prepared per connection; the `in (?, ?, …)` lists of batches make many shapes. */
const STATEMENT_CACHE_SIZE = 500;
const DML = /^\s*(insert|update|delete|select|with)\b/i;
const WRITE = /^\s*(insert|update|delete)\b/i;

/**
 * Two costs of knex's better-sqlite3 dialect, paid on every query, were a third of the lifecycle
 * bench's CPU:
 * - it prepares each query anew: the prepared statements are kept, by SQL text, least recently
 *   used dropped (sharing one is safe: knex runs each to completion, all/run, before the next);
 * - each write is its own transaction, whose commit writes every page it touched to the WAL:
 *   writes outside a transaction join one begun at the first of them and committed at the end of
 *   this turn of the event loop (setImmediate), so the writes of the requests and node work of one
 *   turn share a commit. The commit runs before any timer or I/O callback of the next turn, so
 *   nothing in this process or another reads around it. An API answer waits for it (`committed`,
 *   which the API awaits on each response) rather than committing itself: the requests answered
 *   in one turn share one commit, and what was acknowledged survives a crash; a crash inside the
 *   turn loses only unacknowledged writes, as a crash just before them would. An explicit
 *   transaction, DDL or a pragma first commits the open batch.
 * Returns the function that tells when the writes made so far are committed, and whether an
 * explicit transaction holds the connection.
 */
function tuneConnection(conn: SqliteConnection): TunedConnection {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  /** The open batch: settled by its commit. */
  let batch: { done: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  const commit = () => {
    if (!batch) return;
    const committing = batch;
    batch = undefined;
    try {
      if (conn.inTransaction) conn.exec('COMMIT');
    } catch (err) {
      // The answers waiting for it fail; the turn's commit throws as it always did (the process stops).
      committing.reject(err);
      throw err;
    }
    committing.resolve();
  };
  const open = () => {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A batch no answer waits for (conductor work) must not be an unhandled rejection besides.
    done.catch(() => undefined);
    batch = { done, resolve, reject };
    setImmediate(commit);
  };
  const close = conn.close.bind(conn);
  // Closing with a transaction open would roll the batch back.
  conn.close = () => {
    commit();
    return close();
  };
  conn.prepare = (sql: string) => {
    if (batch && !DML.test(sql)) commit();
    else if (!batch && !conn.inTransaction && WRITE.test(sql)) {
      conn.exec('BEGIN');
      open();
    }
    let statement = cache.get(sql);
    if (statement) {
      cache.delete(sql);
    } else {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sql, statement);
    return statement;
  };
  return {
    committed: () => batch?.done ?? Promise.resolve(),
    // A transaction open that is not the batch is someone's explicit one, holding the connection.
    held: () => conn.inTransaction && !batch,
  };
}

/** What db/index.ts keeps of each SQLite connection: when its writes are committed, and whether a transaction holds it. */
interface TunedConnection {
  committed(): Promise<void>;
  held(): boolean;
}

/** The SQLite connection of each root knex instance (one per pool: min = max = 1), for directConnection. */
const sqliteConnections = new WeakMap<Knex, { direct?: DirectConnection; tuned?: TunedConnection }>();

/**
 * SQLite's connection, for statements run on it directly (db/direct.ts), when `knex` is a
 * database's own instance (not a transaction) and no transaction holds the connection; else
 * undefined, and the statement goes through knex, which waits for the connection.
 */
export function directConnection(knex: Knex): DirectConnection | undefined {
  const entry = sqliteConnections.get(knex);
  if (!entry?.direct || entry.tuned!.held()) return undefined;
  return entry.direct;
}

/** `connected` is told of each SQLite connection the pool makes. */
function knexConfig(url: string, connected: (conn: SqliteConnection, tuned: TunedConnection) => void, maxConnections: number): { kind: DbKind; config: Knex.Config } {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length) || ':memory:';
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return {
      kind: 'sqlite',
      config: {
        client: 'better-sqlite3',
        connection: { filename: file },
        useNullAsDefault: true,
        pool: {
          min: 1,
          max: 1,
          afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
            connected(conn, tuneConnection(conn));
            conn.pragma('journal_mode = WAL');
            conn.pragma('synchronous = NORMAL');
            conn.pragma('foreign_keys = ON');
            conn.pragma('busy_timeout = 5000');
            done(null, conn);
          },
        },
      },
    };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { kind: 'pg', config: { client: 'pg', connection: url, pool: { min: 0, max: maxConnections } } };
  }
  throw new InvalidInput(`Unsupported database URL "${url}": use sqlite:PATH or postgres://...`);
}

export async function openDatabase(url: string, opts: { migrate?: boolean; maxConnections?: number } = {}): Promise<Database> {
  const sqlite: { direct?: DirectConnection; tuned?: TunedConnection } = {};
  const { kind, config } = knexConfig(url, (conn, tuned) => {
    const direct: DirectConnection = {
      prepare: (sql) => conn.prepare(sql) as DirectStatement,
      announce: (sql, bindings) => {
        if (knex.listenerCount('query') > 0) knex.emit('query', { sql, bindings, method: 'raw' });
      },
    };
    Object.assign(sqlite, { direct, tuned });
  }, opts.maxConnections ?? 20);
  const pgClient = kind === 'pg' ? (await loadPg()).Client : undefined;
  // A failed query's error names its SQL with placeholders, never the bound values (a BMC password).
  const knex = knexFactory({ ...config, compileSqlOnError: false });
  if (kind === 'sqlite') sqliteConnections.set(knex, sqlite);
  if (opts.migrate !== false) await migrate(knex);

  const local = new EventEmitter();
  local.setMaxListeners(0);
  let listener: pg.Client | undefined;
  const channels = new Map<string, number>();

  const db: Database = {
    knex,
    kind,
    url,
    async committed() {
      if (sqlite.tuned) await sqlite.tuned.committed();
    },
    async notify(channel, payload = '') {
      if (kind === 'pg') await knex.raw('select pg_notify(?, ?)', [channel, payload]);
      else local.emit(channel, payload);
    },
    async listen(channel, handler) {
      if (kind === 'pg') {
        if (!listener) {
          listener = new pgClient!({ connectionString: url });
          await listener.connect();
          listener.on('notification', (msg) => local.emit(msg.channel, msg.payload ?? ''));
          // A lost LISTEN connection only delays wake-ups: the conductors also poll.
          listener.on('error', () => undefined);
        }
        const count = channels.get(channel) ?? 0;
        if (count === 0) await listener.query(`LISTEN "${channel.replace(/"/g, '')}"`);
        channels.set(channel, count + 1);
      }
      local.on(channel, handler);
      return async () => {
        local.off(channel, handler);
        if (kind === 'pg' && listener) {
          const left = (channels.get(channel) ?? 1) - 1;
          channels.set(channel, left);
          if (left === 0) await listener.query(`UNLISTEN "${channel.replace(/"/g, '')}"`).catch(() => undefined);
        }
      };
    },
    async close() {
      local.removeAllListeners();
      if (listener) await listener.end().catch(() => undefined);
      await knex.destroy();
    },
  };
  return db;
}

export async function migrate(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource: new FolderMigrationSource() });
}

export function now(): number {
  return Date.now();
}

/** ISO 8601 with an explicit +00:00 offset, as Ironic renders datetimes (gophercloud needs it). */
export function isoTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  // toISOString always ends in Z; slicing it off costs less than a replace (5,000 per page of nodes).
  return `${new Date(ms).toISOString().slice(0, -1)}+00:00`;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export function fromJson<T = Record<string, unknown>>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  // Most JSON columns hold an empty object: a literal is ten times cheaper than parsing one.
  return (text === '{}' ? {} : JSON.parse(text)) as T;
}

/** Narrows `q` to rows whose `column` contains `text` literally (its % and _ are not wildcards). */
export function whereContains(q: Knex.QueryBuilder, column: string, text: string): Knex.QueryBuilder {
  return q.whereRaw("?? like ? escape '\\'", [column, `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`]);
}

/**
 * Narrows `q` to rows whose `column` is one of `values`. A long list is bound as one JSON or array
 * value rather than one placeholder each: SQLite and PostgreSQL cap the placeholders of a statement.
 */
export function whereInMany(q: Knex.QueryBuilder, column: string, values: readonly number[]): Knex.QueryBuilder {
  if (values.length <= 1000) return q.whereIn(column, [...values]);
  if (q.client.config.client === 'pg') return q.whereRaw('?? = any(?::bigint[])', [column, [...values]]);
  return q.whereRaw('?? in (select value from json_each(?))', [column, JSON.stringify(values)]);
}

interface SqliteStatement {
  raw(on: boolean): SqliteStatement;
  columns(): { name: string }[];
  all(params: unknown[]): unknown[][];
}

/** A bound value as knex's better-sqlite3 dialect passes it (SQLite has no booleans or dates). */
export function sqliteBinding(value: unknown): unknown {
  if (value instanceof Date) return value.valueOf();
  return typeof value === 'boolean' ? Number(value) : value;
}

/**
 * Runs a select and hands each row, as an array of its column values, to the decoder that
 * `compile` makes for the result's column names. On SQLite the rows come from better-sqlite3 as
 * arrays: building an object per row of a wide table (what knex asks for) was most of the cost
 * of reading a page of 1,000 nodes. Elsewhere (PostgreSQL, a transaction) knex's rows are used.
 */
export async function selectDecoded<T>(knex: Knex, q: Knex.QueryBuilder, compile: (columns: readonly string[]) => (row: unknown[]) => T): Promise<T[]> {
  if (knex.client.config.client !== 'better-sqlite3' || knex.isTransaction) {
    const rows = (await q) as Record<string, unknown>[];
    if (rows.length === 0) return [];
    const decode = compile(Object.keys(rows[0]));
    return rows.map((r) => decode(Object.values(r)));
  }
  const { sql, bindings } = q.toSQL().toNative();
  const conn = (await knex.client.acquireConnection()) as SqliteConnection;
  try {
    // The statement is the one knex shares (tuneConnection's cache): back to objects before anyone else runs it.
    const statement = (conn.prepare(sql) as SqliteStatement).raw(true);
    try {
      const decode = compile(statement.columns().map((c) => c.name));
      return statement.all(bindings.map(sqliteBinding)).map(decode);
    } finally {
      statement.raw(false);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

export function toNullableBool(value: unknown): boolean | null {
  return value === null || value === undefined ? null : toBool(value);
}
