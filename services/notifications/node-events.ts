// The node notifications whose status depends on the move: provision_set (Ironic's task manager
// rule, payloads.ts provisionStatus) and power_set / power_state_corrected.
import type { Knex } from 'knex';
import { UNSTABLE_STATES } from '../../common/states.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { emitNode, type Emitter } from './index.ts';
import { provisionStatus } from './payloads.ts';

/** baremetal.node.provision_set.<status> for a move from `before` to `after` by `event`. */
export function emitProvisionSet(knex: Knex, emitter: Emitter, before: Pick<NodeRecord, 'provision_state' | 'target_provision_state'>, after: NodeRecord, event: string): void {
  const { status, priority } = provisionStatus(event, UNSTABLE_STATES.has(before.provision_state), UNSTABLE_STATES.has(after.provision_state));
  emitNode(knex, emitter, 'provision_set', status, priority, 'NodeSetProvisionStatePayload', after, {
    event,
    previous_provision_state: before.provision_state,
    previous_target_provision_state: before.target_provision_state,
  });
}

/** baremetal.node.power_set.<start|end|error>, with the target Ironic calls to_power. */
export function emitPowerSet(knex: Knex, emitter: Emitter, node: NodeRecord, status: 'start' | 'end' | 'error', toPower: string): void {
  emitNode(knex, emitter, 'power_set', status, status === 'error' ? 'error' : 'info', 'NodeSetPowerStatePayload', node, { to_power: toPower });
}

/** baremetal.node.power_state_corrected.success: the BMC said otherwise than the database, which now follows it. */
export function emitPowerCorrected(knex: Knex, emitter: Emitter, node: NodeRecord, fromPower: string | null): void {
  emitNode(knex, emitter, 'power_state_corrected', 'success', 'info', 'NodeCorrectedPowerStatePayload', node, { from_power: fromPower });
}
