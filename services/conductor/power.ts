// Power: carrying out a requested power change (the API set target_power_state and the node's
// power_request, db/requests.ts), and the periodic sync of power_state with what the BMC reports.
import { errorMessage, InvalidInput } from '../../common/errors.ts';
import { PowerState } from '../../common/states.ts';
import { updateNodeWithHistory } from '../../db/history.ts';
import { getNodeById } from '../../db/nodes.ts';
import type { NodeTask } from './context.ts';
import { openReadOnlyTask } from './context.ts';
import { reasonAfterAbort, untilAborted, type Runtime } from './runtime.ts';
import { emitPowerCorrected, emitPowerSet } from '../notifications/node-events.ts';

/** Performs the power change the API recorded on the locked node, then records the outcome. */
export async function performPowerAction(ctx: NodeTask): Promise<void> {
  const request = ctx.node.power_request ?? { target: ctx.node.target_power_state! };
  const timeout = request.timeout ?? ctx.config.conductor.powerStateChangeTimeout;
  const power = ctx.driver.power;
  ctx.eventType = 'power';
  // The driver waits up to `timeout` for the BMC; a second more here catches a driver that doesn't.
  const deadline = AbortSignal.timeout((timeout + 1) * 1000);
  const signal = AbortSignal.any([ctx.signal, deadline]);
  const saved = ctx.signal;
  ctx.signal = signal;
  const emitter = { service: 'conductor', host: ctx.runtime.host } as const;
  emitPowerSet(ctx.knex, emitter, ctx.node, 'start', request.target);
  const work = (async () => {
    switch (request.target) {
      case PowerState.ON:
      case PowerState.OFF:
      case PowerState.SOFT_OFF:
        await power.setPowerState(ctx, request.target, timeout);
        break;
      case PowerState.REBOOT:
        await power.reboot(ctx, false, timeout);
        break;
      case PowerState.SOFT_REBOOT:
        await power.reboot(ctx, true, timeout);
        break;
      default:
        throw new InvalidInput(`unknown power target "${request.target}"`);
    }
  })();
  try {
    await untilAborted(work, signal);
    const expected = request.target === PowerState.OFF || request.target === PowerState.SOFT_OFF ? PowerState.OFF : PowerState.ON;
    const observed = (await power.getPowerState(ctx)) ?? expected;
    await ctx.saveAndNote(
      { power_state: observed, target_power_state: null, power_request: null },
      () => `Power state set to "${observed}" (requested: ${request.target})`,
    );
    emitPowerSet(ctx.knex, emitter, ctx.node, 'end', request.target);
  } catch (err) {
    if (ctx.signal.aborted && !deadline.aborted) throw err;
    const why = deadline.aborted ? (await reasonAfterAbort(work)) ?? `the power change did not finish within ${timeout} s` : errorMessage(err);
    const message = `Failed to change power state to "${request.target}": ${why}`;
    await ctx.saveAndNote({ target_power_state: null, last_error: message, power_request: null }, () => message, 'error');
    emitPowerSet(ctx.knex, emitter, ctx.node, 'error', request.target);
  } finally {
    ctx.signal = saved;
  }
}

/**
 * Records the health the node's BMC reports (API 1.109), with a history line when it changes, as
 * Ironic's node_cache_health (a BMC that stops reporting one clears it). A failed read is no
 * failure of the sync: the field is left as it was.
 */
async function syncHealth(rt: Runtime, ctx: NodeTask, signal: AbortSignal): Promise<void> {
  const read = ctx.driver.management.getHealth;
  if (!read) return;
  const node = ctx.node;
  let health: string | null;
  try {
    health = await untilAborted(read.call(ctx.driver.management, ctx), signal);
  } catch (err) {
    if (!rt.stopSignal.aborted) rt.logger.warn({ node: node.uuid }, `health read failed: ${errorMessage(err)}`);
    return;
  }
  if (health === node.health) return;
  await updateNodeWithHistory(rt.db.knex, node.id, { health }, { health: node.health }, () => ({
    event: `Node health status changed: health='${health}' (previously '${node.health ?? 'None'}')`,
    severity: health === 'OK' ? 'info' : 'warning',
    event_type: 'monitoring',
    conductor: rt.host,
  }));
}

/**
 * Reads a node's power state without the lock (as Ironic's shared lock) and records a change;
 * `failures` counts reads that failed in a row, and after powerSyncMaxRetries the node goes to
 * maintenance with fault "power failure", as Ironic does. Resolves true when the BMC answered.
 */
export async function syncPowerState(rt: Runtime, nodeId: number, failures: Map<number, number>): Promise<boolean> {
  const node = await getNodeById(rt.db.knex, nodeId);
  if (!node || node.reservation || node.maintenance || node.target_power_state) return false;
  const deadline = AbortSignal.timeout(rt.config.conductor.powerStateChangeTimeout * 1000);
  const signal = AbortSignal.any([rt.stopSignal, deadline]);
  let observed: string | null;
  let read: Promise<string | null> | undefined;
  let ctx: NodeTask;
  try {
    ctx = await openReadOnlyTask(rt, node, signal);
    read = ctx.driver.power.getPowerState(ctx);
    observed = await untilAborted(read, signal);
  } catch (err) {
    if (rt.stopSignal.aborted) return false;
    const count = (failures.get(nodeId) ?? 0) + 1;
    failures.set(nodeId, count);
    const seconds = rt.config.conductor.powerStateChangeTimeout;
    const why = deadline.aborted ? (read && (await reasonAfterAbort(read))) || `the power state read did not finish within ${seconds} s` : errorMessage(err);
    rt.logger.warn({ node: node.uuid, attempt: count }, `power state sync failed: ${why}`);
    if (count >= rt.config.conductor.powerSyncMaxRetries) {
      const reason = `Power state sync failed ${count} times in a row, last: ${why}`;
      const done = await updateNodeWithHistory(rt.db.knex, nodeId, { maintenance: true, fault: 'power failure', maintenance_reason: reason, last_error: reason }, { reservation: null, maintenance: false },
        () => ({ event: `${reason}; node put in maintenance`, severity: 'error', event_type: 'power', conductor: rt.host }));
      if (done) failures.delete(nodeId);
    }
    return false;
  }
  failures.delete(nodeId);
  await syncHealth(rt, ctx, signal);
  if (observed === null || observed === node.power_state) return true;
  // Compare-and-set: nothing else changed the node (a lock, a requested change) since we read it.
  const corrected = await updateNodeWithHistory(rt.db.knex, nodeId, { power_state: observed }, { reservation: null, target_power_state: null, power_state: node.power_state }, () => ({
    event: node.power_state === null ? `Power state is "${observed}"` : `Power state changed outside Anvil: was "${node.power_state}", now "${observed}"`,
    severity: node.power_state === null ? 'info' : 'warning',
    event_type: 'power',
    conductor: rt.host,
  }));
  // A first reading is no correction; a change seen outside Anvil is (Ironic's power_state_corrected).
  if (corrected && node.power_state !== null) emitPowerCorrected(rt.db.knex, { service: 'conductor', host: rt.host }, corrected, node.power_state);
  return true;
}
