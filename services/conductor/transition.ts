// Moving a locked node along the state machine (common/states.ts) and saying so in its history.
import { failureState, nextState, ProvisionState as S, targetFor, type ProvisionEvent } from '../../common/states.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { now } from '../../db/index.ts';
import type { NodeTask } from './context.ts';

/** Fields that move a node from its state by `event`; throws when the table has no such transition. */
export function transitionFields(node: Pick<NodeRecord, 'uuid' | 'provision_state' | 'target_provision_state'>, event: ProvisionEvent): Partial<NodeRecord> {
  const to = nextState(node.provision_state, event);
  if (!to) throw new Error(`node ${node.uuid}: event "${event}" is not allowed in state "${node.provision_state}"`);
  return { provision_state: to, target_provision_state: targetFor(to, node.target_provision_state), provision_updated_at: now() };
}

/** Applies `event` to the node, with extra fields, and records the move in the node's history. */
export async function transition(ctx: NodeTask, event: ProvisionEvent, why: string, extra: Partial<NodeRecord> = {}): Promise<void> {
  const from = ctx.node.provision_state;
  await ctx.saveAndNote({ ...transitionFields(ctx.node, event), ...extra }, (node) => `${why}: "${from}" -> "${node.provision_state}"`);
}

/**
 * Fields that put a node in the failure state of `state` with `message` as last_error. A cleaning
 * failure also sets maintenance with fault "clean failure", as Ironic's cleaning_error_handler does.
 */
export function failureFields(node: Pick<NodeRecord, 'uuid' | 'provision_state' | 'target_provision_state'>, message: string): Partial<NodeRecord> {
  const to = failureState(node.provision_state);
  if (!to) throw new Error(`node ${node.uuid}: state "${node.provision_state}" has no failure state`);
  const fields: Partial<NodeRecord> = { provision_state: to, target_provision_state: targetFor(to, node.target_provision_state), provision_updated_at: now(), last_error: message };
  if (to === S.CLEAN_FAILED) Object.assign(fields, { maintenance: true, fault: 'clean failure', maintenance_reason: message });
  return fields;
}

/** Moves the locked node to its failure state with `message` as last_error, recorded as an error. */
export async function fail(ctx: NodeTask, message: string, extra: Partial<NodeRecord> = {}): Promise<void> {
  const from = ctx.node.provision_state;
  await ctx.saveAndNote({ ...failureFields(ctx.node, message), ...extra }, (node) => `${message} ("${from}" -> "${node.provision_state}")`, 'error');
}
