// Taking over from a conductor that stopped heart-beating (or from our own previous run): its node
// locks are released, and a node it left in a working state goes to that state's failure state,
// as Ironic does with STUCK_STATES_TREATED_AS_FAIL: half-done BMC work is not resumed blindly, the
// operator sees why in last_error and can retry. Its claimed tasks go back to the queue.
import { conductorTakeovers } from '../../common/metrics.ts';
import { WORKING_STATES } from '../../common/states.ts';
import { withdrawBootRecords } from '../../db/boot-records.ts';
import { updateNodeWithHistory } from '../../db/history.ts';
import { nodesReservedBy, type NodeRecord } from '../../db/nodes.ts';
import { requeueTasksOf } from '../../db/tasks.ts';
import type { Runtime } from './runtime.ts';
import { provisionMoved } from './provision-events.ts';
import { failureFields } from './transition.ts';

/**
 * Releases the locks `hosts` hold on nodes (only on nodes this conductor owns when `onlyOwned`),
 * failing interrupted operations with `why(host)` in last_error. Returns how many nodes it freed.
 */
export async function recoverLocksOf(rt: Runtime, hosts: string[], why: (host: string) => string, onlyOwned: boolean): Promise<number> {
  let freed = 0;
  for (const node of await nodesReservedBy(rt.db.knex, hosts)) {
    if (onlyOwned && !rt.owns(node)) continue;
    const holder = node.reservation!;
    const interrupted = WORKING_STATES.has(node.provision_state);
    const message = `${why(holder)} while the node was "${node.provision_state}"; that operation was interrupted`;
    const fields: Partial<NodeRecord> = interrupted ? { ...failureFields(node, message), reservation: null } : { reservation: null };
    // Compare-and-set on the holder: if it came back and released the lock itself, leave the node be.
    const done = await updateNodeWithHistory(rt.db.knex, node.id, fields, { reservation: holder }, () => ({
      event: interrupted ? `${message} ("${node.provision_state}" -> "${fields.provision_state}")` : `${why(holder)}; conductor ${rt.host} released its lock on the node`,
      severity: interrupted ? 'error' : 'warning',
      event_type: 'conductor',
      conductor: rt.host,
    }));
    if (!done) continue;
    if (interrupted) {
      await withdrawBootRecords(rt.db.knex, node.id);
      provisionMoved(rt, node, done, 'fail');
    }
    freed++;
    conductorTakeovers.inc({ conductor: rt.host, interrupted: String(interrupted) });
    rt.logger.warn({ node: node.uuid, from: holder }, interrupted ? `took over node, ${node.provision_state} failed` : 'took over node');
  }
  for (const host of hosts) await requeueTasksOf(rt.db.knex, host);
  return freed;
}
