// What a conductor says when it moves a node along the state machine, besides the node's history:
// Ironic's provision_set notification, and the duration of the deploy, clean or inspect that
// ended (Prometheus), from one table of the states each operation spans. Every conductor move goes
// through provisionMoved (transition.ts, the wait-state timeouts, take-overs).
import { operationDuration } from '../../common/metrics.ts';
import { ProvisionState as S } from '../../common/states.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { emitProvisionSet } from '../notifications/node-events.ts';
import type { Runtime } from './runtime.ts';

type Operation = 'deploy' | 'clean' | 'inspect';

/** The states an operation spans, and the one it fails to. */
const OPERATIONS: Record<Operation, { states: readonly string[]; failed: string }> = {
  deploy: { states: [S.DEPLOYING, S.DEPLOY_WAIT], failed: S.DEPLOY_FAILED },
  clean: { states: [S.CLEANING, S.CLEAN_WAIT], failed: S.CLEAN_FAILED },
  inspect: { states: [S.INSPECTING, S.INSPECT_WAIT], failed: S.INSPECT_FAILED },
};
const OPERATION_OF = new Map<string, Operation>(Object.entries(OPERATIONS).flatMap(([op, o]) => o.states.map((s) => [s, op as Operation])));

/**
 * When each running operation began, by node, as this conductor saw it: the API moves a node into
 * the operation's first state, so the first move this conductor makes from it starts the clock at
 * that state's provision_updated_at. (After a take-over the clock starts at the state the new
 * conductor found, so such a duration is short by what the dead conductor did.)
 */
const started = new Map<string, number>();

export type Moved = Pick<NodeRecord, 'uuid' | 'provision_state' | 'target_provision_state' | 'provision_updated_at'>;

/** A conductor moved the node from `before` to `after` by `event` (Ironic's event names: 'fail' for failures). */
export function provisionMoved(rt: Pick<Runtime, 'db' | 'host'>, before: Moved, after: NodeRecord, event: string, at = Date.now()): void {
  emitProvisionSet(rt.db.knex, { service: 'conductor', host: rt.host }, before, after, event);
  const op = OPERATION_OF.get(before.provision_state);
  if (!op) return;
  const start = started.get(before.uuid) ?? before.provision_updated_at;
  if (OPERATION_OF.get(after.provision_state) === op) {
    if (start !== null) started.set(before.uuid, start);
    return;
  }
  started.delete(before.uuid);
  if (start === null) return;
  operationDuration.observe({ operation: op, result: after.provision_state === OPERATIONS[op].failed ? 'failure' : 'success' }, Math.max(0, at - start) / 1000);
}
