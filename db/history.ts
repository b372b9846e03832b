// node_history: what happened to a node, in words a person reads (`baremetal node history list`).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { directConnection, now } from './index.ts';
import { insertRow } from './direct.ts';
import { updateNode, type NodeRecord } from './nodes.ts';

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
  /** The project of the request that caused it (1.113). */
  project: string | null;
  /** The node's provision state, its target, and the whole seconds since it entered the state, when written (1.115). */
  state: string | null;
  target_provision_state: string | null;
  duration_seconds: number | null;
  created_at: number;
}

export interface HistoryEntry {
  event: string;
  severity?: Severity;
  /** A short category: provisioning, power, inspection, cleaning, deploy, console, ... */
  event_type?: string;
  conductor?: string | null;
  user?: string | null;
  project?: string | null;
}

/** Where the node stands, as a history line records it: callers that hold the node's row pass it. */
export type HistoryNode = Pick<NodeRecord, 'id' | 'provision_state' | 'target_provision_state' | 'provision_updated_at'>;

/**
 * Writes an event, with where the node stands now (as Ironic's node_history_record). Given the
 * node's row (just written or locked by the caller), it saves the query that would read it back;
 * given an id, it reads the row.
 */
export async function recordHistory(knex: Knex, node: number | HistoryNode, entry: HistoryEntry): Promise<void> {
  const row: Partial<HistoryNode> | undefined = typeof node === 'number'
    ? await knex('nodes').select('provision_state', 'target_provision_state', 'provision_updated_at').where({ id: node }).first()
    : node;
  const at = now();
  const line = {
    uuid: randomUUID(),
    node_id: typeof node === 'number' ? node : node.id,
    conductor: entry.conductor ?? null,
    event_type: entry.event_type ?? 'provisioning',
    severity: entry.severity ?? 'info',
    event: entry.event,
    user: entry.user ?? null,
    project: entry.project ?? null,
    state: row?.provision_state ?? null,
    target_provision_state: row?.target_provision_state ?? null,
    duration_seconds: typeof row?.provision_updated_at === 'number' ? Math.max(0, Math.floor((at - row.provision_updated_at) / 1000)) : null,
    created_at: at,
  };
  const conn = directConnection(knex);
  if (conn) insertRow(conn, 'node_history', line);
  else await knex('node_history').insert(line);
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

/** One event of a node, by its uuid. */
export async function findHistoryEvent(knex: Knex, nodeId: number, uuid: string): Promise<HistoryRecord | undefined> {
  return knex('node_history').where({ uuid, node_id: nodeId }).first();
}

/** Takes back the last line `conductor` wrote with this text (its save then failed: the move did not happen). */
export async function retractHistory(knex: Knex, nodeId: number, conductor: string, event: string): Promise<void> {
  await knex('node_history').where('id', knex('node_history').max('id').where({ node_id: nodeId, conductor, event })).delete();
}

/**
 * Updates a node by compare-and-set (`where`, as updateNode) and, when it matched, writes the
 * history line that says why, in one transaction. Returns the updated node, or undefined.
 */
export async function updateNodeWithHistory(
  knex: Knex, id: number, fields: Partial<NodeRecord>, where: Record<string, unknown>, entry: (node: NodeRecord) => HistoryEntry,
  alongside?: (trx: Knex.Transaction, node: NodeRecord) => Promise<void>,
): Promise<NodeRecord | undefined> {
  return knex.transaction(async (trx) => {
    const updated = await updateNode(trx, id, fields, where);
    if (updated) {
      await recordHistory(trx, updated, entry(updated));
      if (alongside) await alongside(trx, updated);
    }
    return updated;
  });
}
