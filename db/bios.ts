// bios_settings: a node's BIOS settings as its bios interface last read them, with their registry.
import type { Knex } from 'knex';
import type { BiosSetting } from '../drivers/interfaces.ts';
import { fromJson, now, toJson } from './index.ts';

export interface BiosSettingRow extends BiosSetting {
  created_at: number;
  updated_at: number | null;
}

const FIELDS = ['value', 'attribute_type', 'allowable_values', 'lower_bound', 'upper_bound', 'min_length', 'max_length', 'read_only', 'reset_required', 'unique'] as const;

function fromRow(row: Record<string, unknown>): BiosSettingRow {
  const bool = (v: unknown) => (v === null || v === undefined ? null : Boolean(v));
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    name: String(row.name),
    value: row.value === null ? null : String(row.value),
    attribute_type: (row.attribute_type as string | null) ?? null,
    allowable_values: row.allowable_values === null ? null : fromJson<string[] | null>(row.allowable_values as string, null),
    lower_bound: num(row.lower_bound),
    upper_bound: num(row.upper_bound),
    min_length: num(row.min_length),
    max_length: num(row.max_length),
    read_only: bool(row.read_only),
    reset_required: bool(row.reset_required),
    unique: bool(row.unique),
    created_at: Number(row.created_at),
    updated_at: num(row.updated_at),
  };
}

/**
 * Replaces the node's settings with those read now, as Ironic's BIOSSettingList.sync_node_setting:
 * unchanged rows keep their times, changed ones get updated_at, gone ones are deleted.
 */
export async function replaceBiosSettings(knex: Knex, nodeId: number, settings: readonly BiosSetting[]): Promise<void> {
  const ts = now();
  await knex.transaction(async (trx) => {
    const existing = new Map((await trx('bios_settings').where({ node_id: nodeId })).map((r) => [String(r.name), fromRow(r)]));
    const seen = new Set<string>();
    for (const s of settings) {
      seen.add(s.name);
      const data = { ...s, allowable_values: s.allowable_values === null ? null : toJson(s.allowable_values) };
      const before = existing.get(s.name);
      if (!before) await trx('bios_settings').insert({ node_id: nodeId, ...data, created_at: ts, updated_at: null });
      else if (FIELDS.some((f) => JSON.stringify(before[f]) !== JSON.stringify(s[f]))) {
        await trx('bios_settings').where({ node_id: nodeId, name: s.name }).update({ ...data, updated_at: ts });
      }
    }
    const gone = [...existing.keys()].filter((n) => !seen.has(n));
    if (gone.length) await trx('bios_settings').where({ node_id: nodeId }).whereIn('name', gone).delete();
  });
}

export async function biosSettingsOfNode(knex: Knex, nodeId: number): Promise<BiosSettingRow[]> {
  return (await knex('bios_settings').where({ node_id: nodeId }).orderBy('name')).map(fromRow);
}

export async function biosSettingOfNode(knex: Knex, nodeId: number, name: string): Promise<BiosSettingRow | undefined> {
  const row = await knex('bios_settings').where({ node_id: nodeId, name }).first();
  return row ? fromRow(row) : undefined;
}
