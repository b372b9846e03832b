// The lifecycle's hot statements (a node by uuid or name, a node's compare-and-set update, a new
// node, a history line) run straight on SQLite's connection, their SQL made once per shape (table,
// columns, which conditions are null). Through knex each paid for building its SQL, the pool's
// acquire and release and knex's runner: about a fifth of the server's CPU per API request in the
// lifecycle bench's profile. Elsewhere (PostgreSQL, a transaction, the connection held by one) the
// callers use knex as before; both ways give the same rows.
import { BoundedMemo } from '../common/bounded-memo.ts';
import { sqliteBinding, type DirectConnection } from './index.ts';

type Row = Record<string, unknown>;

/** SQL by shape (the callers' shapes are few; `fields` of a PATCH vary the update's). */
const shapes = new BoundedMemo<string>(256);

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `where` as knex's where(object) reads it: each column equal to its value, `is null` for null. */
function conditions(where: Row): { sql: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of Object.entries(where)) {
    if (value === undefined) throw new Error(`Undefined binding for column "${column}"`);
    if (value === null) {
      parts.push(`${quote(column)} is null`);
    } else {
      parts.push(`${quote(column)} = ?`);
      values.push(sqliteBinding(value));
    }
  }
  return { sql: parts.join(' and '), values };
}

/** The shape's key: the column names, with which conditions are null. */
function whereKey(where: Row): string {
  return Object.entries(where).map(([c, v]) => (v === null ? `${c}:null` : c)).join(',');
}

/** Runs a statement that returns rows and decodes them as arrays (no object per row from better-sqlite3). */
function decodedRows<T>(conn: DirectConnection, sql: string, values: unknown[], compile: (columns: readonly string[]) => (row: unknown[]) => T): T[] {
  conn.announce(sql, values);
  const statement = conn.prepare(sql);
  // The statement is shared with knex through the connection's cache: back to objects after.
  statement.raw(true);
  try {
    const decode = compile(statement.columns().map((c) => c.name));
    return statement.all(values).map(decode);
  } finally {
    statement.raw(false);
  }
}

/** `select * from table where … limit 1`, decoded. */
export function firstRow<T>(conn: DirectConnection, table: string, where: Row, compile: (columns: readonly string[]) => (row: unknown[]) => T): T | undefined {
  const cond = conditions(where);
  const sql = shapes.get(`first ${table} ${whereKey(where)}`, () => `select * from ${quote(table)} where ${cond.sql} limit 1`);
  return decodedRows(conn, sql, cond.values, compile)[0];
}

/** `insert into table (…) values (…)`, with `returning *` decoded when `compile` is given. Undefined values are null, as knex writes them here. */
export function insertRow(conn: DirectConnection, table: string, row: Row): void;
export function insertRow<T>(conn: DirectConnection, table: string, row: Row, compile: (columns: readonly string[]) => (row: unknown[]) => T): T;
export function insertRow<T>(conn: DirectConnection, table: string, row: Row, compile?: (columns: readonly string[]) => (row: unknown[]) => T): T | void {
  const columns = Object.keys(row);
  const sql = shapes.get(`insert ${table} ${columns.join(',')} ${compile ? 'returning' : ''}`, () => (
    `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values (${columns.map(() => '?').join(', ')})${compile ? ' returning *' : ''}`
  ));
  const values = columns.map((c) => (row[c] === undefined ? null : sqliteBinding(row[c])));
  if (!compile) {
    conn.announce(sql, values);
    conn.prepare(sql).run(values);
    return;
  }
  return decodedRows(conn, sql, values, compile)[0];
}

/** `update table set … where … returning *`, decoded: the rows it changed. Undefined values are left out, as knex leaves them. */
export function updateRows<T>(conn: DirectConnection, table: string, fields: Row, where: Row, compile: (columns: readonly string[]) => (row: unknown[]) => T): T[] {
  const columns = Object.keys(fields).filter((c) => fields[c] !== undefined);
  const cond = conditions(where);
  const sql = shapes.get(`update ${table} ${columns.join(',')} ${whereKey(where)}`, () => (
    `update ${quote(table)} set ${columns.map((c) => `${quote(c)} = ?`).join(', ')} where ${cond.sql} returning *`
  ));
  return decodedRows(conn, sql, [...columns.map((c) => sqliteBinding(fields[c])), ...cond.values], compile);
}
