// firmware_components: a node's firmware as its firmware interface last read it (GET /v1/nodes/{id}/firmware).
import type { Knex } from 'knex';
import type { FirmwareComponent } from '../drivers/interfaces.ts';
import { now } from './index.ts';

export interface FirmwareRow {
  component: string;
  initial_version: string;
  current_version: string | null;
  last_version_flashed: string | null;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  created_at: number;
  updated_at: number | null;
}

const IDENTITY = ['vendor', 'model', 'serial_number'] as const;

/**
 * Records what the BMC reports: a new component keeps its first version as initial_version; a
 * known one gets its current version (and last_version_flashed when the component was just flashed),
 * and its vendor, model and serial number when the BMC names them.
 */
export async function saveFirmwareComponents(knex: Knex, nodeId: number, components: readonly FirmwareComponent[]): Promise<void> {
  const ts = now();
  await knex.transaction(async (trx) => {
    for (const c of components) {
      const before = await trx('firmware_components').where({ node_id: nodeId, component: c.component }).first();
      if (!before) {
        await trx('firmware_components').insert({
          node_id: nodeId, component: c.component, initial_version: c.current_version, current_version: c.current_version, last_version_flashed: c.last_version_flashed ?? null,
          vendor: c.vendor ?? null, model: c.model ?? null, serial_number: c.serial_number ?? null, created_at: ts, updated_at: null,
        });
        continue;
      }
      const change: Record<string, unknown> = {};
      if (before.current_version !== c.current_version) change.current_version = c.current_version;
      if (c.last_version_flashed !== undefined && before.last_version_flashed !== c.last_version_flashed) change.last_version_flashed = c.last_version_flashed;
      for (const key of IDENTITY) if (c[key] !== undefined && before[key] !== c[key]) change[key] = c[key];
      if (Object.keys(change).length) await trx('firmware_components').where({ node_id: nodeId, component: c.component }).update({ ...change, updated_at: ts });
    }
  });
}

export async function firmwareOfNode(knex: Knex, nodeId: number): Promise<FirmwareRow[]> {
  const rows = await knex('firmware_components').where({ node_id: nodeId }).orderBy('component');
  return rows.map((r) => ({
    component: String(r.component), initial_version: String(r.initial_version), current_version: r.current_version ?? null,
    last_version_flashed: r.last_version_flashed ?? null, vendor: r.vendor ?? null, model: r.model ?? null, serial_number: r.serial_number ?? null, created_at: Number(r.created_at), updated_at: r.updated_at === null ? null : Number(r.updated_at),
  }));
}
