// Data access for deploy templates (API 1.55): a name that is a trait, and the deploy steps a
// deployment whose instance asks for that trait adds to its plan.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';
import { applyPage, type PageQuery } from './paging.ts';

export interface DeployTemplateStep {
  interface: string;
  step: string;
  args: Record<string, unknown>;
  priority: number;
}

export interface DeployTemplateRecord {
  id: number;
  uuid: string;
  name: string;
  steps: DeployTemplateStep[];
  extra: Record<string, unknown>;
  created_at: number;
  updated_at: number | null;
}

export type DeployTemplateFields = Pick<DeployTemplateRecord, 'name' | 'steps' | 'extra'>;

function rowToTemplate(row: Record<string, unknown>): DeployTemplateRecord {
  return { ...(row as unknown as DeployTemplateRecord), steps: fromJson(row.steps as string, []), extra: fromJson(row.extra as string, {}) };
}

function templateToRow(fields: Partial<DeployTemplateFields>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fields };
  if (fields.steps) row.steps = toJson(fields.steps);
  if (fields.extra) row.extra = toJson(fields.extra);
  return row;
}

export async function createDeployTemplate(knex: Knex, fields: DeployTemplateFields & { uuid?: string }): Promise<DeployTemplateRecord> {
  const [row] = await knex('deploy_templates').insert({ ...templateToRow(fields), uuid: fields.uuid ?? randomUUID(), created_at: now(), updated_at: null }).returning('*');
  return rowToTemplate(row);
}

export async function findDeployTemplateByUuid(knex: Knex, uuid: string): Promise<DeployTemplateRecord | undefined> {
  const row = await knex('deploy_templates').where({ uuid: uuid.toLowerCase() }).first();
  return row ? rowToTemplate(row) : undefined;
}

export async function findDeployTemplateByName(knex: Knex, name: string): Promise<DeployTemplateRecord | undefined> {
  const row = await knex('deploy_templates').where({ name }).first();
  return row ? rowToTemplate(row) : undefined;
}

/** The templates named by any of `names` (an instance's traits), in name order. */
export async function deployTemplatesNamed(knex: Knex, names: readonly string[]): Promise<DeployTemplateRecord[]> {
  if (names.length === 0) return [];
  return (await knex('deploy_templates').whereIn('name', [...names]).orderBy('name')).map(rowToTemplate);
}

export async function listDeployTemplates(knex: Knex, page: PageQuery): Promise<DeployTemplateRecord[]> {
  return (await applyPage(knex('deploy_templates').select('deploy_templates.*'), page, 'deploy_templates')).map(rowToTemplate);
}

export async function updateDeployTemplate(knex: Knex, id: number, fields: Partial<DeployTemplateFields>): Promise<DeployTemplateRecord> {
  const [row] = await knex('deploy_templates').where({ id }).update({ ...templateToRow(fields), updated_at: now() }).returning('*');
  return rowToTemplate(row);
}

export async function deleteDeployTemplate(knex: Knex, id: number): Promise<void> {
  await knex('deploy_templates').where({ id }).delete();
}
