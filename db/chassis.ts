// Data access for chassis (a grouping of nodes with a description).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';
import { applyPage, type PageQuery } from './paging.ts';

export interface ChassisRecord {
  id: number;
  uuid: string;
  description: string | null;
  extra: Record<string, unknown>;
  created_at: number;
  updated_at: number | null;
}

function rowToChassis(row: Record<string, unknown>): ChassisRecord {
  return { ...(row as unknown as ChassisRecord), extra: fromJson(row.extra as string, {}) };
}

export async function createChassis(knex: Knex, fields: { uuid?: string; description?: string | null; extra?: Record<string, unknown> }): Promise<ChassisRecord> {
  const [row] = await knex('chassis')
    .insert({ uuid: fields.uuid ?? randomUUID(), description: fields.description ?? null, extra: toJson(fields.extra ?? {}), created_at: now() })
    .returning('*');
  return rowToChassis(row);
}

export async function findChassis(knex: Knex, uuid: string): Promise<ChassisRecord | undefined> {
  const row = await knex('chassis').where({ uuid: uuid.toLowerCase() }).first();
  return row ? rowToChassis(row) : undefined;
}

export async function listChassis(knex: Knex, page: PageQuery): Promise<ChassisRecord[]> {
  return (await applyPage(knex('chassis').select('chassis.*'), page, 'chassis')).map(rowToChassis);
}

export async function updateChassis(knex: Knex, id: number, fields: { description?: string | null; extra?: Record<string, unknown> }): Promise<ChassisRecord> {
  const row: Record<string, unknown> = { updated_at: now() };
  if ('description' in fields) row.description = fields.description;
  if (fields.extra) row.extra = toJson(fields.extra);
  const [updated] = await knex('chassis').where({ id }).update(row).returning('*');
  return rowToChassis(updated);
}

export async function deleteChassis(knex: Knex, id: number): Promise<void> {
  await knex('chassis').where({ id }).delete();
}

export async function chassisHasNodes(knex: Knex, id: number): Promise<boolean> {
  return Boolean(await knex('nodes').select('id').where({ chassis_id: id }).first());
}

/** uuid of each chassis id in `ids`, in one query. */
export async function chassisUuidsByIds(knex: Knex, ids: readonly (number | null)[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids.filter((i): i is number => i !== null && i !== undefined))];
  if (unique.length === 0) return new Map();
  const rows = await knex('chassis').select('id', 'uuid').whereIn('id', unique);
  return new Map(rows.map((r: { id: number; uuid: string }) => [r.id, r.uuid]));
}

/** The UUID of the chassis with row id `id` (a node's chassis_uuid). */
export async function chassisUuidOf(knex: Knex, id: number): Promise<string | null> {
  const row = await knex('chassis').select('uuid').where({ id }).first();
  return (row?.uuid as string | undefined) ?? null;
}
