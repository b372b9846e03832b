// Data access for volume connectors and targets (API 1.32). Both tables have the same shape of
// access (by UUID, by node, a page of them), so one set of functions serves both.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { fromJson, now, toJson } from './index.ts';
import { applyPage, type PageQuery } from './paging.ts';

type Json = Record<string, unknown>;

export interface VolumeConnectorRecord {
  id: number;
  uuid: string;
  node_id: number;
  type: string;
  connector_id: string;
  extra: Json;
  created_at: number;
  updated_at: number | null;
}

export interface VolumeTargetRecord {
  id: number;
  uuid: string;
  node_id: number;
  volume_type: string;
  properties: Json;
  boot_index: number;
  volume_id: string;
  extra: Json;
  created_at: number;
  updated_at: number | null;
}

export interface VolumeTables {
  volume_connectors: VolumeConnectorRecord;
  volume_targets: VolumeTargetRecord;
}
export type VolumeTable = keyof VolumeTables;

const JSON_FIELDS = ['extra', 'properties'];

function fromRow<T extends VolumeTable>(row: Json): VolumeTables[T] {
  const out: Json = { ...row };
  for (const f of JSON_FIELDS) if (f in row) out[f] = fromJson(row[f] as string, {});
  return out as unknown as VolumeTables[T];
}

function toRow(fields: Json): Json {
  const row: Json = { ...fields };
  for (const f of JSON_FIELDS) if (f in fields) row[f] = toJson(fields[f]);
  return row;
}

type Fields<T extends VolumeTable> = Omit<VolumeTables[T], 'id' | 'uuid' | 'created_at' | 'updated_at'> & { uuid?: string };

export async function createVolumeRecord<T extends VolumeTable>(knex: Knex, table: T, fields: Fields<T>): Promise<VolumeTables[T]> {
  const [row] = await knex(table).insert(toRow({ ...fields, uuid: fields.uuid ?? randomUUID(), created_at: now(), updated_at: null })).returning('*');
  return fromRow<T>(row);
}

export async function findVolumeRecord<T extends VolumeTable>(knex: Knex, table: T, uuid: string): Promise<VolumeTables[T] | undefined> {
  const row = await knex(table).where({ uuid: uuid.toLowerCase() }).first();
  return row ? fromRow<T>(row) : undefined;
}

/** One page, optionally of one node's records. */
export async function listVolumeRecords<T extends VolumeTable>(knex: Knex, table: T, nodeId: number | undefined, page: PageQuery): Promise<VolumeTables[T][]> {
  const q = knex(table).select(`${table}.*`);
  if (nodeId !== undefined) q.where(`${table}.node_id`, nodeId);
  return (await applyPage(q, page, table)).map((r: Json) => fromRow<T>(r));
}

export async function updateVolumeRecord<T extends VolumeTable>(knex: Knex, table: T, id: number, fields: Partial<Fields<T>>): Promise<VolumeTables[T]> {
  const [row] = await knex(table).where({ id }).update(toRow({ ...fields, updated_at: now() })).returning('*');
  return fromRow<T>(row);
}

export async function deleteVolumeRecord(knex: Knex, table: VolumeTable, id: number): Promise<void> {
  await knex(table).where({ id }).delete();
}

/** A node's volume targets, boot volume (boot_index 0) first, and its connectors: what a storage interface works from. */
export async function volumesOfNode(knex: Knex, nodeId: number): Promise<{ connectors: VolumeConnectorRecord[]; targets: VolumeTargetRecord[] }> {
  const [connectors, targets] = await Promise.all([
    knex('volume_connectors').where({ node_id: nodeId }).orderBy('id'),
    knex('volume_targets').where({ node_id: nodeId }).orderBy('boot_index'),
  ]);
  return { connectors: connectors.map((r: Json) => fromRow<'volume_connectors'>(r)), targets: targets.map((r: Json) => fromRow<'volume_targets'>(r)) };
}

/** Deletes a node's volume targets (an instance torn down takes its volumes' records with it, as in Ironic). */
export async function deleteVolumeTargetsOfNode(knex: Knex, nodeId: number): Promise<void> {
  await knex('volume_targets').where({ node_id: nodeId }).delete();
}
