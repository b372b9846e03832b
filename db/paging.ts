// Keyset pagination shared by the list queries: ORDER BY <key>, id with NULLs sorting as the
// smallest value on both back ends, and the marker row's position as the starting point.
import type { Knex } from 'knex';

export interface PageQuery {
  limit: number;
  sortKey: string;
  sortDir: 'asc' | 'desc';
  /** The row the previous page ended with (its `id` and sort-key value). */
  marker?: Record<string, unknown>;
}

/** Applies order, marker and limit to `q` (whose table holds `id` and `sortKey` columns). */
export function applyPage(q: Knex.QueryBuilder, page: PageQuery, table: string): Knex.QueryBuilder {
  const key = `${table}.${page.sortKey}`;
  const id = `${table}.id`;
  const asc = page.sortDir === 'asc';
  if (page.marker) {
    const mv = page.marker[page.sortKey];
    const mid = page.marker.id as number;
    if (page.sortKey === 'id') q.where(id, asc ? '>' : '<', mid);
    else if (asc) {
      if (mv === null || mv === undefined) q.where((w) => w.whereNotNull(key).orWhere((w2) => w2.whereNull(key).where(id, '>', mid)));
      else q.where((w) => w.where(key, '>', mv as Knex.Value).orWhere((w2) => w2.where(key, mv as Knex.Value).where(id, '>', mid)));
    } else {
      if (mv === null || mv === undefined) q.where((w) => w.whereNull(key).where(id, '<', mid));
      else q.where((w) => w.where(key, '<', mv as Knex.Value).orWhereNull(key).orWhere((w2) => w2.where(key, mv as Knex.Value).where(id, '<', mid)));
    }
  }
  if (page.sortKey !== 'id') {
    // NULL first ascending, last descending (SQLite and PostgreSQL disagree by default).
    q.orderByRaw(`(?? is null) ${asc ? 'desc' : 'asc'}`, [key]);
    q.orderBy(key, page.sortDir);
  }
  q.orderBy(id, page.sortDir);
  return q.limit(page.limit);
}
