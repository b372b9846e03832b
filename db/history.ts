// node_history: what happened to a node, in words a person reads (`baremetal node history list`).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { now } from './index.ts';

export type Severity = 'info' | 'warning' | 'error';

export interface HistoryRecord {
  id: number;
  uuid: string;
  node_id: number;
  conductor: string | null;
  event_type: string;
  severity: Severity;
  event: string;
  user: string | null;
  created_at: number;
}

export interface HistoryEntry {
  event: string;
  severity?: Severity;
  /** A short category: provisioning, power, inspection, cleaning, deploy, console, ... */
  event_type?: string;
  conductor?: string | null;
  user?: string | null;
}

export async function recordHistory(knex: Knex, nodeId: number, entry: HistoryEntry): Promise<void> {
  await knex('node_history').insert({
    uuid: randomUUID(),
    node_id: nodeId,
    conductor: entry.conductor ?? null,
    event_type: entry.event_type ?? 'provisioning',
    severity: entry.severity ?? 'info',
    event: entry.event,
    user: entry.user ?? null,
    created_at: now(),
  });
}

export async function historyOfNode(knex: Knex, nodeId: number, opts: { limit?: number; marker?: string } = {}): Promise<HistoryRecord[]> {
  const q = knex('node_history').where({ node_id: nodeId }).orderBy('id', 'asc');
  if (opts.marker) {
    const m = await knex('node_history').where({ uuid: opts.marker }).first();
    if (m) q.where('id', '>', m.id);
  }
  if (opts.limit) q.limit(opts.limit);
  return q;
}
