// The conductors table: one row a conductor process, heart-beaten while it lives.
import type { Knex } from 'knex';
import { fromJson, now, toBool, toJson } from './index.ts';
import { applyPage, type PageQuery } from './paging.ts';

export interface ConductorRecord {
  id: number;
  hostname: string;
  conductor_group: string;
  online: boolean;
  /** Hardware types this conductor serves. */
  drivers: string[];
  created_at: number;
  updated_at: number;
}

function rowToConductor(row: Record<string, unknown>): ConductorRecord {
  return { ...(row as unknown as ConductorRecord), online: toBool(row.online), drivers: fromJson(row.drivers as string, []) };
}

/** Registers (or re-registers) a conductor and marks it online. */
export async function registerConductor(knex: Knex, hostname: string, group: string, drivers: string[]): Promise<ConductorRecord> {
  const ts = now();
  await knex('conductors')
    .insert({ hostname, conductor_group: group, online: true, drivers: toJson(drivers), created_at: ts, updated_at: ts })
    .onConflict('hostname')
    .merge({ conductor_group: group, online: true, drivers: toJson(drivers), updated_at: ts });
  return rowToConductor(await knex('conductors').where({ hostname }).first());
}

export async function heartbeatConductor(knex: Knex, hostname: string): Promise<void> {
  await knex('conductors').where({ hostname }).update({ updated_at: now(), online: true });
}

export async function unregisterConductor(knex: Knex, hostname: string): Promise<void> {
  await knex('conductors').where({ hostname }).update({ online: false, updated_at: now() });
}

/** Conductors that are online and heart-beat within `timeoutMs`. */
export async function aliveConductors(knex: Knex, timeoutMs: number): Promise<ConductorRecord[]> {
  const rows = await knex('conductors').where({ online: true }).where('updated_at', '>=', now() - timeoutMs).orderBy('hostname');
  return rows.map(rowToConductor);
}

export async function listConductors(knex: Knex): Promise<ConductorRecord[]> {
  return (await knex('conductors').orderBy('hostname')).map(rowToConductor);
}

/** One page of conductors (GET /v1/conductors). */
export async function pageOfConductors(knex: Knex, page: PageQuery): Promise<ConductorRecord[]> {
  return (await applyPage(knex('conductors').select('conductors.*'), page, 'conductors')).map(rowToConductor);
}

export async function getConductor(knex: Knex, hostname: string): Promise<ConductorRecord | undefined> {
  const row = await knex('conductors').where({ hostname }).first();
  return row ? rowToConductor(row) : undefined;
}

/** Whether a conductor row counts as alive: online and heart-beaten within `timeoutMs`. */
export function isAlive(c: ConductorRecord, timeoutMs: number): boolean {
  return c.online && c.updated_at >= now() - timeoutMs;
}
