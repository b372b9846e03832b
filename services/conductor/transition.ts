// Moving a locked node along the state machine (common/states.ts) and saying so in its history.
import { ProvisionState as S, transitionFields, type ProvisionEvent } from '../../common/states.ts';
import { withdrawBootRecords } from '../../db/boot-records.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { NodeTask } from './context.ts';
import { provisionMoved } from './provision-events.ts';

type Moving = Pick<NodeRecord, 'uuid' | 'provision_state' | 'target_provision_state'>;

/** transitionFields, for a move the conductor's own flows decided: one the table lacks is a bug. */
function moveFields(node: Moving, event: ProvisionEvent): Partial<NodeRecord> {
  const fields = transitionFields(node, event);
  if (!fields) throw new Error(`node ${node.uuid}: event "${event}" is not allowed in state "${node.provision_state}"`);
  return fields;
}

/** Applies `event` to the node, with extra fields, and records the move in the node's history. */
export async function transition(ctx: NodeTask, event: ProvisionEvent, why: string, extra: Partial<NodeRecord> = {}): Promise<void> {
  const before = ctx.node;
  await ctx.saveAndNote({ ...moveFields(before, event), ...extra }, (node) => `${why}: "${before.provision_state}" -> "${node.provision_state}"`);
  provisionMoved(ctx.runtime, before, ctx.node, event);
}

/**
 * Fields that put a node in the failure state of `state` with `message` as last_error. A cleaning
 * failure also sets maintenance with fault "clean failure", as Ironic's cleaning_error_handler does.
 */
export function failureFields(node: Moving, message: string): Partial<NodeRecord> {
  const move = transitionFields(node, 'fail');
  if (!move) throw new Error(`node ${node.uuid}: state "${node.provision_state}" has no failure state`);
  const fields: Partial<NodeRecord> = { ...move, last_error: message };
  if (fields.provision_state === S.CLEAN_FAILED) Object.assign(fields, { maintenance: true, fault: 'clean failure', maintenance_reason: message });
  return fields;
}

/**
 * Moves the locked node to its failure state with `message` as last_error, recorded as an error.
 * The failed operation's network boot ends with it (as every path to a failure state does).
 */
export async function fail(ctx: NodeTask, message: string, extra: Partial<NodeRecord> = {}): Promise<void> {
  const before = ctx.node;
  // Withdrawn first: netboot never sees a failed node that still boots its ramdisk.
  await withdrawBootRecords(ctx.knex, ctx.node.id);
  await ctx.saveAndNote({ ...failureFields(before, message), ...extra }, (node) => `${message} ("${before.provision_state}" -> "${node.provision_state}")`, 'error');
  provisionMoved(ctx.runtime, before, ctx.node, 'fail');
}
