// Timeouts of the states that wait for the deploy agent or ramdisk (Ironic's *_callback_timeout,
// inspect_wait_timeout): a node waiting too long goes to the state's failure state with a
// last_error that says which state timed out after how long, in maintenance too (unlike Ironic,
// where such a node waits for ever). Working states (deploying, cleaning, ...) are timed by the
// conductor running their step (node-work.ts). Hold states wait for a person and have no timeout,
// as in Ironic.
import type { TimeoutsConfig } from '../../common/config.ts';
import { ProvisionState as S } from '../../common/states.ts';
import { now } from '../../db/index.ts';
import { withdrawBootRecords } from '../../db/boot-records.ts';
import { updateNodeWithHistory } from '../../db/history.ts';
import { nodesInStateSince } from '../../db/nodes.ts';
import type { Runtime } from './runtime.ts';
import { provisionMoved } from './provision-events.ts';
import { failureFields } from './transition.ts';

interface WaitTimeout {
  state: string;
  key: keyof TimeoutsConfig;
  since: 'provision_updated_at' | 'inspection_started_at';
  waitingFor: string;
}

const WAIT_TIMEOUTS: WaitTimeout[] = [
  { state: S.DEPLOY_WAIT, key: 'deployCallback', since: 'provision_updated_at', waitingFor: 'the deploy agent to call back' },
  { state: S.CLEAN_WAIT, key: 'cleanCallback', since: 'provision_updated_at', waitingFor: 'the agent to finish cleaning' },
  { state: S.INSPECT_WAIT, key: 'inspectWait', since: 'inspection_started_at', waitingFor: 'the ramdisk to send inspection data' },
  { state: S.RESCUE_WAIT, key: 'rescueCallback', since: 'provision_updated_at', waitingFor: 'the rescue ramdisk to call back' },
  { state: S.SERVICE_WAIT, key: 'serviceCallback', since: 'provision_updated_at', waitingFor: 'the agent to finish servicing' },
];

/** Fails the owned nodes that waited too long; returns how many. */
export async function checkTimeouts(rt: Runtime): Promise<number> {
  let failed = 0;
  for (const t of WAIT_TIMEOUTS) {
    const seconds = rt.config.conductor.timeouts[t.key];
    for (const node of await nodesInStateSince(rt.db.knex, rt.group, t.state, now() - seconds * 1000, t.since)) {
      if (!rt.owns(node)) continue;
      const message = `Timeout reached in "${t.state}" after ${seconds} s waiting for ${t.waitingFor} (conductor.timeouts.${t.key})`;
      // Compare-and-set: still unlocked, in the same state since the same moment.
      const changed = await updateNodeWithHistory(rt.db.knex, node.id, failureFields(node, message), {
        reservation: null, provision_state: t.state, provision_updated_at: node.provision_updated_at,
      }, (updated) => ({ event: `${message} ("${t.state}" -> "${updated.provision_state}")`, severity: 'error', event_type: 'provisioning', conductor: rt.host }),
      // In the same transaction: netboot never sees a failed node that still boots its ramdisk.
      (trx) => withdrawBootRecords(trx, node.id));
      if (!changed) continue;
      failed++;
      provisionMoved(rt, node, changed, 'fail');
    }
  }
  return failed;
}
