// Data access for inspection rules (API 1.96).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { InspectionRule } from '../common/inspection-rules/engine.ts';
import { fromJson, now, toBool, toJson } from './index.ts';
import { applyPage, type PageQuery } from './paging.ts';

export interface InspectionRuleRecord extends InspectionRule {
  id: number;
  created_at: number;
  updated_at: number | null;
}

export type InspectionRuleFields = Omit<InspectionRule, 'uuid'>;

function rowToRule(row: Record<string, unknown>): InspectionRuleRecord {
  return {
    ...(row as unknown as InspectionRuleRecord),
    sensitive: toBool(row.sensitive),
    conditions: fromJson(row.conditions as string, []),
    actions: fromJson(row.actions as string, []),
  };
}

function ruleToRow(fields: Partial<InspectionRuleFields>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fields };
  if (fields.conditions) row.conditions = toJson(fields.conditions);
  if (fields.actions) row.actions = toJson(fields.actions);
  return row;
}

export async function createInspectionRule(knex: Knex, fields: InspectionRuleFields & { uuid?: string }): Promise<InspectionRuleRecord> {
  const [row] = await knex('inspection_rules').insert({ ...ruleToRow(fields), uuid: (fields.uuid ?? randomUUID()).toLowerCase(), created_at: now(), updated_at: null }).returning('*');
  return rowToRule(row);
}

export async function findInspectionRule(knex: Knex, uuid: string): Promise<InspectionRuleRecord | undefined> {
  const row = await knex('inspection_rules').where({ uuid: uuid.toLowerCase() }).first();
  return row ? rowToRule(row) : undefined;
}

export async function listInspectionRules(knex: Knex, page: PageQuery, phase?: string): Promise<InspectionRuleRecord[]> {
  const q = knex('inspection_rules').select('inspection_rules.*');
  if (phase !== undefined) q.where({ phase });
  return (await applyPage(q, page, 'inspection_rules')).map(rowToRule);
}

/** Every rule, in creation order (the engine orders them by priority). */
export async function allInspectionRules(knex: Knex): Promise<InspectionRuleRecord[]> {
  return (await knex('inspection_rules').orderBy('id')).map(rowToRule);
}

export async function updateInspectionRule(knex: Knex, id: number, fields: Partial<InspectionRuleFields>): Promise<InspectionRuleRecord> {
  const [row] = await knex('inspection_rules').where({ id }).update({ ...ruleToRow(fields), updated_at: now() }).returning('*');
  return rowToRule(row);
}

export async function deleteInspectionRule(knex: Knex, id: number): Promise<void> {
  await knex('inspection_rules').where({ id }).delete();
}

export async function deleteAllInspectionRules(knex: Knex): Promise<void> {
  await knex('inspection_rules').delete();
}
