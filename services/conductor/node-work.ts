// One unit of conductor work on one node: take the lock, answer its pending tasks, carry out a
// requested power change, drive its provision state until it rests (or waits for the agent), and
// release the lock. Each working state's step gets timeouts.working; a step that overruns sends
// the node to its failure state, one interrupted by the conductor's stop is handed back. A node in
// maintenance is worked too, except the operations maintenance aborts (ABORTED_IN_MAINTENANCE).
import { errorMessage } from '../../common/errors.ts';
import { ABORTED_IN_MAINTENANCE, nextState, WORKING_STATES } from '../../common/states.ts';
import { recordHistory } from '../../db/history.ts';
import { withdrawBootRecords } from '../../db/boot-records.ts';
import { INTERFACE_NAMES, releaseNode, updateNode, type NodeRecord } from '../../db/nodes.ts';
import { portsOfNode } from '../../db/ports.ts';
import type { ClaimedNode } from './claim.ts';
import { LockLost, openTask, type NodeTask } from './context.ts';
import { FLOWS } from './flows.ts';
import { failPendingTasks, runPendingTasks } from './node-tasks.ts';
import { performPowerAction } from './power.ts';
import { reasonAfterAbort, untilAborted, type Runtime } from './runtime.ts';
import { fail, failureFields, transition } from './transition.ts';

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Drives the locked node through working states until it reaches a state with no conductor work. */
async function runProvisioning(rt: Runtime, ctx: NodeTask): Promise<void> {
  const outer = ctx.signal;
  try {
    while (WORKING_STATES.has(ctx.node.provision_state) && !rt.stopping) {
      const state = ctx.node.provision_state;
      const flow = FLOWS[state];
      const aborted = ctx.node.maintenance ? ABORTED_IN_MAINTENANCE[state] : undefined;
      if (aborted) {
        ctx.eventType = flow.eventType;
        await fail(ctx, aborted, { reservation: null });
        return;
      }
      const seconds = rt.config.conductor.timeouts.working;
      const deadline = AbortSignal.timeout(seconds * 1000);
      ctx.signal = AbortSignal.any([outer, deadline]);
      ctx.eventType = flow.eventType;
      let step;
      const work = flow.run(ctx);
      try {
        step = await untilAborted(work, ctx.signal);
      } catch (err) {
        if (outer.aborted || err instanceof LockLost) throw err;
        const reason = deadline.aborted ? await reasonAfterAbort(work) : undefined;
        const message = deadline.aborted
          ? `${capitalize(state)} timed out after ${seconds} s (conductor.timeouts.working)${reason ? `: ${reason}` : ''}`
          : `${flow.operation} failed: ${errorMessage(err)}`;
        await fail(ctx, message, { reservation: null });
        return;
      }
      // The last move of this run releases the lock in the same update.
      const last = !WORKING_STATES.has(nextState(state, step.event) ?? '') || rt.stopping;
      await transition(ctx, step.event, step.why, last ? { ...step.fields, reservation: null } : step.fields);
    }
  } finally {
    ctx.signal = outer;
  }
}

/** A node whose driver can't be composed (unknown hardware type or interface) can do nothing: say why. */
async function failUndrivable(rt: Runtime, node: NodeRecord, err: unknown): Promise<void> {
  const why = `Cannot load the driver of the node: ${errorMessage(err)}`;
  const fields: Partial<NodeRecord> = {};
  if (node.target_power_state) Object.assign(fields, { target_power_state: null, power_request: null, last_error: why });
  if (WORKING_STATES.has(node.provision_state)) Object.assign(fields, failureFields(node, why));
  if (Object.keys(fields).length > 0) {
    const updated = await updateNode(rt.db.knex, node.id, fields, { reservation: rt.host });
    await recordHistory(rt.db.knex, updated ?? node.id, { event: why, severity: 'error', conductor: rt.host });
    if (fields.provision_state) await withdrawBootRecords(rt.db.knex, node.id);
  }
  await failPendingTasks(rt, node.id, why);
}

function driverChanged(a: NodeRecord, b: NodeRecord): boolean {
  return a.driver !== b.driver || INTERFACE_NAMES.some((i) => a[`${i}_interface`] !== b[`${i}_interface`]);
}

/** Works one node this conductor has locked (claim.ts), then releases it. */
export async function workNode(rt: Runtime, claimed: ClaimedNode): Promise<void> {
  const { node } = claimed;
  let ctx: NodeTask | undefined;
  try {
    try {
      ctx = openTask(rt, node, claimed.ports, rt.stopSignal);
    } catch (err) {
      await failUndrivable(rt, node, err);
      return;
    }
    if (claimed.tasks) {
      await runPendingTasks(rt, ctx);
      // A task's inspection rules may have given the node another driver or interfaces (a discovered
      // node managed on at once): the work that follows uses them, not the ones the lock was taken with.
      if (driverChanged(node, ctx.node)) {
        const before = ctx;
        try {
          ctx = openTask(rt, before.node, await portsOfNode(rt.db.knex, node.id), rt.stopSignal);
        } catch (err) {
          await failUndrivable(rt, before.node, err);
          return;
        } finally {
          before.close();
        }
      }
    }
    if (ctx.node.target_power_state) await performPowerAction(ctx);
    await runProvisioning(rt, ctx);
  } catch (err) {
    if (err instanceof LockLost) {
      rt.logger.warn({ node: node.uuid }, `${err.message}; its work here stops`);
    } else if (rt.stopSignal.aborted) {
      await recordHistory(rt.db.knex, ctx?.node ?? node, {
        event: `Conductor ${rt.host} stopped while the node was "${ctx?.node.provision_state ?? node.provision_state}"; the node is handed back to be worked again`,
        severity: 'warning',
        conductor: rt.host,
      });
    } else {
      rt.logger.error({ node: node.uuid, err }, `node work failed: ${errorMessage(err)}`);
    }
  } finally {
    const stillLocked = !ctx || ctx.locked;
    ctx?.close();
    if (stillLocked) await releaseNode(rt.db.knex, node.id, rt.host);
  }
}
