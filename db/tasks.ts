// node_tasks: work the API (or an agent's call) hands to the conductor that owns a node, for
// operations that need the BMC or the node lock (boot device, heart-beats, inspection data...).
// The API enqueues and, for synchronous calls, waits for the result; conductors claim pending
// tasks of their nodes. Provision and power actions need no task: the API records them on the
// node row (provision_state / target_power_state) and the conductor picks them up.
import type { Knex } from 'knex';
import type { Database } from './index.ts';
import { fromJson, now, toJson } from './index.ts';
import type { NodeRecord } from './nodes.ts';

/** Channel that wakes conductors: new work is waiting. */
export const WORK_CHANNEL = 'anvil_work';
/** Payload of a WORK_CHANNEL notification that says allocations wait for a node (no node work). */
export const ALLOCATIONS_WAITING = 'allocations';

/** A node as a notification names it. */
export type NodeRef = Pick<NodeRecord, 'id' | 'uuid' | 'conductor_group'>;

/**
 * What a node-work notification names: enough for every conductor to tell, from its hash ring
 * and without a query, whether the node is its own, so that only the owner acts on it.
 */
export interface NodeWork extends NodeRef {
  /** A task of the node waits (enqueueTask), not only a state or power request. */
  tasks: boolean;
}

/** Wakes the conductor that owns the node: it has work (a provision or power request, a task). */
export async function notifyNodeWork(db: Database, node: NodeRef, tasks = false): Promise<void> {
  const work: NodeWork = { id: node.id, uuid: node.uuid, conductor_group: node.conductor_group, tasks };
  await db.notify(WORK_CHANNEL, JSON.stringify(work));
}

/** The node a WORK_CHANNEL payload names, or undefined for a payload that names none. */
export function nodeWorkOf(payload: string): NodeWork | undefined {
  if (!payload.startsWith('{')) return undefined;
  try {
    const work = JSON.parse(payload) as Partial<NodeWork>;
    if (typeof work.id === 'number' && typeof work.uuid === 'string' && typeof work.conductor_group === 'string') {
      return { id: work.id, uuid: work.uuid, conductor_group: work.conductor_group, tasks: work.tasks === true };
    }
  } catch {
    // Not ours to read: the caller treats it as a payload naming no node.
  }
  return undefined;
}
/** Channel on which a conductor announces a finished task (payload: task id). */
export const TASK_DONE_CHANNEL = 'anvil_task_done';

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed';

export interface TaskRecord<A = Record<string, unknown>, R = unknown> {
  id: number;
  node_id: number;
  kind: string;
  args: A;
  status: TaskStatus;
  result: R | null;
  error: string | null;
  claimed_by: string | null;
  created_at: number;
  updated_at: number | null;
}

function rowToTask(row: Record<string, unknown>): TaskRecord {
  return { ...(row as unknown as TaskRecord), args: fromJson(row.args as string, {}), result: fromJson(row.result as string, null) };
}

export async function enqueueTask(db: Database, node: NodeRef, kind: string, args: Record<string, unknown> = {}): Promise<TaskRecord> {
  const [row] = await db.knex('node_tasks').insert({ node_id: node.id, kind, args: toJson(args), status: 'pending', created_at: now() }).returning('*');
  await notifyNodeWork(db, node, true);
  return rowToTask(row);
}

/** Whether the node has a task of `kind` waiting or running. */
export async function hasUnfinishedTask(knex: Knex, nodeId: number, kind: string): Promise<boolean> {
  return (await knex('node_tasks').where({ node_id: nodeId, kind }).whereIn('status', ['pending', 'running']).first('id')) !== undefined;
}

/** Replaces the arguments of the node's pending task of `kind`, if there is one; false when there is none. */
export async function refreshPendingTask(knex: Knex, nodeId: number, kind: string, args: Record<string, unknown>): Promise<boolean> {
  return (await knex('node_tasks').where({ node_id: nodeId, kind, status: 'pending' }).update({ args: toJson(args) })) > 0;
}

export async function getTask(knex: Knex, id: number): Promise<TaskRecord | undefined> {
  const row = await knex('node_tasks').where({ id }).first();
  return row ? rowToTask(row) : undefined;
}

/** Pending tasks, oldest first, of the nodes in `nodeIds` (or of all nodes). */
export async function pendingTasks(knex: Knex, nodeIds?: number[]): Promise<TaskRecord[]> {
  const q = knex('node_tasks').where({ status: 'pending' }).orderBy('id');
  if (nodeIds) q.whereIn('node_id', nodeIds);
  return (await q).map(rowToTask);
}

/** Claims a pending task by compare-and-set; undefined when another conductor was faster. */
export async function claimTask(knex: Knex, id: number, host: string): Promise<TaskRecord | undefined> {
  const [row] = await knex('node_tasks').where({ id, status: 'pending' }).update({ status: 'running', claimed_by: host, updated_at: now() }).returning('*');
  return row ? rowToTask(row) : undefined;
}

export async function finishTask(db: Database, id: number, outcome: { result?: unknown; error?: string }): Promise<void> {
  await db.knex('node_tasks').where({ id }).update({
    status: outcome.error === undefined ? 'done' : 'failed',
    result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
    error: outcome.error ?? null,
    updated_at: now(),
  });
  await db.notify(TASK_DONE_CHANNEL, String(id));
}

/** Puts tasks a dead conductor had claimed back in the queue. */
export async function requeueTasksOf(knex: Knex, host: string): Promise<number> {
  return knex('node_tasks').where({ claimed_by: host, status: 'running' }).update({ status: 'pending', claimed_by: null, updated_at: now() });
}

/** Deletes at most `limit` of the oldest tasks that finished before `before` (ms); returns how many. */
export async function pruneTasks(knex: Knex, before: number, limit: number): Promise<number> {
  const finished = knex('node_tasks').select('id').whereIn('status', ['done', 'failed']).where('updated_at', '<', before).orderBy('id').limit(limit);
  return knex('node_tasks').whereIn('id', finished).delete();
}

/**
 * Waits until the task is done or failed (woken by TASK_DONE_CHANNEL, with a poll as a safety
 * net); throws after timeoutMs. Returns the finished task.
 */
export async function waitForTask(db: Database, id: number, timeoutMs: number): Promise<TaskRecord> {
  const deadline = Date.now() + timeoutMs;
  let wake: (() => void) | undefined;
  const unlisten = await db.listen(TASK_DONE_CHANNEL, (payload) => { if (payload === String(id)) wake?.(); });
  try {
    for (;;) {
      const task = await getTask(db.knex, id);
      if (!task) throw new Error(`Task ${id} disappeared`);
      if (task.status === 'done' || task.status === 'failed') return task;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for a conductor to ${task.kind.replace(/_/g, ' ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  } finally {
    await unlisten();
  }
}

/** Nodes of a conductor group with pending tasks, oldest task first. */
export async function nodesWithPendingTasks(knex: Knex, group: string): Promise<{ id: number; uuid: string; conductor_group: string }[]> {
  const rows = await knex('node_tasks as t')
    .join('nodes as n', 'n.id', 't.node_id')
    .where({ 't.status': 'pending', 'n.conductor_group': group })
    .groupBy('n.id', 'n.uuid', 'n.conductor_group')
    .select('n.id', 'n.uuid', 'n.conductor_group')
    .min('t.id as first_task')
    .orderBy('first_task');
  return rows.map((r) => ({ id: Number(r.id), uuid: String(r.uuid), conductor_group: String(r.conductor_group) }));
}

/** Hosts that hold running tasks (to find a dead conductor's unfinished work). */
export async function hostsWithRunningTasks(knex: Knex): Promise<string[]> {
  const rows = await knex('node_tasks').distinct('claimed_by').where({ status: 'running' }).whereNotNull('claimed_by');
  return rows.map((r: { claimed_by: string }) => r.claimed_by);
}

/** Puts one claimed task back in the queue (its conductor stopped before finishing it). */
export async function requeueTask(knex: Knex, id: number, host: string): Promise<boolean> {
  return (await knex('node_tasks').where({ id, claimed_by: host, status: 'running' }).update({ status: 'pending', claimed_by: null, updated_at: now() })) > 0;
}
