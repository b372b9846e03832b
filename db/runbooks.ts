// Data access for runbooks (API 1.92): a name, ordered steps and who may use them.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toBool, toJson } from './index.ts';
import { applyPage, type PageQuery } from './paging.ts';

export interface RunbookStep {
  interface: string;
  step: string;
  args: Record<string, unknown>;
  order: number;
}

export interface RunbookRecord {
  id: number;
  uuid: string;
  name: string;
  steps: RunbookStep[];
  disable_ramdisk: boolean;
  public: boolean;
  owner: string | null;
  extra: Record<string, unknown>;
  /** 1.112 */
  description: string | null;
  created_at: number;
  updated_at: number | null;
}

export type RunbookFields = Pick<RunbookRecord, 'name' | 'steps' | 'disable_ramdisk' | 'public' | 'owner' | 'extra' | 'description'>;

function rowToRunbook(row: Record<string, unknown>): RunbookRecord {
  return {
    ...(row as unknown as RunbookRecord),
    steps: fromJson(row.steps as string, []),
    extra: fromJson(row.extra as string, {}),
    disable_ramdisk: toBool(row.disable_ramdisk),
    public: toBool(row.public),
  };
}

function runbookToRow(fields: Partial<RunbookFields>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...fields };
  if (fields.steps) row.steps = toJson(fields.steps);
  if (fields.extra) row.extra = toJson(fields.extra);
  return row;
}

export async function createRunbook(knex: Knex, fields: RunbookFields & { uuid?: string }): Promise<RunbookRecord> {
  const [row] = await knex('runbooks').insert({ ...runbookToRow(fields), uuid: fields.uuid ?? randomUUID(), created_at: now(), updated_at: null }).returning('*');
  return rowToRunbook(row);
}

export async function findRunbookByUuid(knex: Knex, uuid: string): Promise<RunbookRecord | undefined> {
  const row = await knex('runbooks').where({ uuid: uuid.toLowerCase() }).first();
  return row ? rowToRunbook(row) : undefined;
}

export async function findRunbookByName(knex: Knex, name: string): Promise<RunbookRecord | undefined> {
  const row = await knex('runbooks').where({ name }).first();
  return row ? rowToRunbook(row) : undefined;
}

/** One page of runbooks; with `project`, only those it owns and the public ones (a project-scoped caller's share). */
export async function listRunbooks(knex: Knex, page: PageQuery, project?: string): Promise<RunbookRecord[]> {
  const q = knex('runbooks').select('runbooks.*');
  if (project !== undefined) q.where((w) => w.where('runbooks.owner', project).orWhere('runbooks.public', true));
  return (await applyPage(q, page, 'runbooks')).map(rowToRunbook);
}

export async function updateRunbook(knex: Knex, id: number, fields: Partial<RunbookFields>): Promise<RunbookRecord> {
  const [row] = await knex('runbooks').where({ id }).update({ ...runbookToRow(fields), updated_at: now() }).returning('*');
  return rowToRunbook(row);
}

/** The traits that approve runbooks for nodes (1.112), by runbook id, sorted. */
export async function traitsOfRunbooks(knex: Knex, ids: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  for (const row of await knex('runbook_traits').whereIn('runbook_id', ids).orderBy('trait')) out.get(row.runbook_id)?.push(row.trait);
  return out;
}

/** Replaces all of a runbook's traits. */
export async function setRunbookTraits(knex: Knex, id: number, traits: readonly string[]): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('runbook_traits').where({ runbook_id: id }).delete();
    const unique = [...new Set(traits)];
    if (unique.length) await trx('runbook_traits').insert(unique.map((trait) => ({ runbook_id: id, trait })));
  });
}

export async function addRunbookTrait(knex: Knex, id: number, trait: string): Promise<void> {
  await knex('runbook_traits').insert({ runbook_id: id, trait }).onConflict(['runbook_id', 'trait']).ignore();
}

/** Removes one trait, or all when none is named; a trait it does not have is no error (as Ironic). */
export async function removeRunbookTraits(knex: Knex, id: number, trait?: string): Promise<void> {
  const q = knex('runbook_traits').where({ runbook_id: id });
  if (trait !== undefined) q.where({ trait });
  await q.delete();
}

export async function deleteRunbook(knex: Knex, id: number): Promise<void> {
  await knex('runbooks').where({ id }).delete();
}
