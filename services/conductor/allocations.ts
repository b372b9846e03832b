// Allocations, as Ironic's conductor processes them (ironic/conductor/allocations.py): the API
// records one `allocating` and wakes the conductors; one takes it (compare-and-set on
// conductor_affinity), picks a suitable node and gives it by compare-and-set, or records in
// last_error why none fits; a conductor works several at once. An allocation whose conductor
// stopped heart-beating is taken over by the next pass of another. A backfill (`node` given) runs
// as a task of that node's conductor, with the node locked, and the API waits for it, as Ironic's
// synchronous backfill does.
import { setTimeout as sleep } from 'node:timers/promises';
import { Conflict, errorMessage, InvalidInput } from '../../common/errors.ts';
import { ProvisionState } from '../../common/states.ts';
import { allocationsToProcess, assignNode, backfillNode, failAllocation, getAllocation, suitableNodes, takeAllocation, updateAllocation, type AllocationRecord, type SuitableNode } from '../../db/allocations.ts';
import { traitsOfNode } from '../../db/traits.ts';
import type { TaskHandler } from './node-tasks.ts';
import type { Runtime } from './runtime.ts';

/** Allocations read per query of a pass. */
const BATCH = 50;
/** Allocations a conductor processes at once: each mostly waits for the database. */
const PARALLEL = 8;
/** Tries of a fresh list of suitable nodes, as Ironic's node_locked_retry_attempts. */
const ATTEMPTS = 3;
/** Ironic's node_locked_retry_interval: a node locked for a moment (a power sync) is tried again after it. */
const LOCKED_RETRY_MS = 1000;

/** The node task kind of a backfill. */
export const BACKFILL_ALLOCATION = 'backfill_allocation';

/** Why an allocation got no node: becomes its last_error, in Ironic's words. */
class AllocationFailed extends Error {
  constructor(a: AllocationRecord, reason: string) {
    super(`Failed to process allocation ${a.uuid}: ${reason}.`);
  }
}

/**
 * Processes the allocations waiting for a node that this conductor may take (new ones, its own
 * left by a previous run, those of conductors no longer alive), one at a time. Returns how many.
 */
export async function processAllocations(rt: Runtime): Promise<number> {
  const knex = rt.db.knex;
  let processed = 0;
  for (;;) {
    const batch = await allocationsToProcess(knex, rt.host, rt.config.conductor.heartbeatTimeout * 1000, BATCH);
    let taken = 0;
    // One iterator shared by the workers: each allocation of the batch goes to one of them.
    const waiting = batch.values();
    const worker = async () => {
      for (const seen of waiting) {
        if (rt.stopping) return;
        const a = await takeAllocation(knex, seen, rt.host);
        if (!a) continue;
        taken++;
        if (seen.conductor_affinity !== null && seen.conductor_affinity !== rt.host) {
          rt.logger.warn({ allocation: a.uuid, from: seen.conductor_affinity }, `took over allocation ${a.uuid} from conductor ${seen.conductor_affinity}, which is no longer alive`);
        }
        await allocate(rt, a);
        processed++;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    if (rt.stopping || batch.length < BATCH || taken === 0) return processed;
  }
}

/** Gives the allocation a node, or records why it got none. */
async function allocate(rt: Runtime, a: AllocationRecord): Promise<void> {
  let lastError: string;
  try {
    for (let attempt = 1; ; attempt++) {
      const locked = await tryNodes(rt, a, await candidates(rt, a));
      if (locked === undefined) return;
      if (attempt >= ATTEMPTS) {
        throw new AllocationFailed(a, locked ? `could not reserve any of ${locked} suitable nodes` : 'all nodes were filtered out during reservation');
      }
      // Every node was taken by other allocations meanwhile: a fresh list at once (or the reason none is left).
      if (locked === 0) continue;
      await sleep(LOCKED_RETRY_MS);
      // Stopping: the allocation stays ours and allocating; another conductor takes it over.
      if (rt.stopping) return;
    }
  } catch (err) {
    lastError = err instanceof AllocationFailed ? err.message : `Unexpected exception during allocation: ${errorMessage(err)}`;
  }
  if (await failAllocation(rt.db.knex, a, rt.host, lastError)) rt.logger.info({ allocation: a.uuid }, lastError);
}

/** Suitable nodes in the order to try them: shuffled so parallel allocations spread out, the one named as the allocation first. */
async function candidates(rt: Runtime, a: AllocationRecord): Promise<SuitableNode[]> {
  const nodes = await suitableNodes(rt.db.knex, a, true);
  if (nodes.length === 0) {
    // Which condition left none, for last_error: the resource class (and candidates), or the traits.
    if (a.traits.length === 0 || (await suitableNodes(rt.db.knex, a, false, 1)).length === 0) {
      throw new AllocationFailed(a, a.candidate_nodes.length
        ? `none of the requested nodes are available and match the resource class ${a.resource_class}`
        : `no available nodes match the resource class ${a.resource_class}`);
    }
    throw new AllocationFailed(a, `no suitable nodes have the requested traits ${a.traits.join(', ')}`);
  }
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
  }
  const named = a.name === null ? -1 : nodes.findIndex((n) => n.name === a.name);
  if (named > 0) nodes.unshift(...nodes.splice(named, 1));
  return nodes;
}

/** Tries the nodes in turn; undefined once one was given (or the allocation went away), else how many were locked. */
async function tryNodes(rt: Runtime, a: AllocationRecord, nodes: SuitableNode[]): Promise<number | undefined> {
  let locked = 0;
  for (const node of nodes) {
    const outcome = await assignNode(rt.db.knex, a, node, rt.host);
    if (outcome === 'assigned') {
      rt.logger.info({ allocation: a.uuid, node: node.uuid }, `node ${node.uuid} has been reserved for allocation ${a.uuid}`);
      return undefined;
    }
    if (outcome === 'allocation gone') {
      rt.logger.info({ allocation: a.uuid }, `allocation ${a.uuid} was deleted while it was processed`);
      return undefined;
    }
    if (outcome === 'node locked') locked++;
  }
  return locked;
}

/** What keeps the locked node from backfilling the allocation (Ironic's checks), empty when nothing. */
async function backfillProblems(rt: Runtime, a: AllocationRecord, node: { id: number; uuid: string; provision_state: string; resource_class: string | null }): Promise<string[]> {
  const problems: string[] = [];
  // Backfill records an allocation for a node deployed without one; it does not bypass allocating.
  if (node.provision_state !== ProvisionState.ACTIVE) problems.push(`Node must be in the "active" state, but the current state is "${node.provision_state}"`);
  if (a.resource_class && node.resource_class !== a.resource_class) {
    problems.push(`Resource class ${node.resource_class} does not match the requested resource class ${a.resource_class}`);
  }
  if (a.traits.length) {
    const traits = await traitsOfNode(rt.db.knex, node.id);
    if (!a.traits.every((t) => traits.includes(t))) problems.push(`List of traits ${traits.join(', ') || '(none)'} does not match the requested traits ${a.traits.join(', ')}`);
  }
  if (a.candidate_nodes.length && !a.candidate_nodes.includes(node.uuid)) {
    problems.push(`Candidate nodes must be empty or contain the target node, but got ${a.candidate_nodes.join(', ')}`);
  }
  return problems;
}

/** The backfill task: args.allocation_id names an allocating allocation created with this node. */
export const backfillAllocation: TaskHandler = {
  async run(ctx, args, rt) {
    const knex = rt.db.knex;
    const a = await getAllocation(knex, Number(args.allocation_id));
    if (!a || a.state !== 'allocating') throw new Conflict(`Allocation ${String(args.allocation_id)} was deleted before node ${ctx.node.uuid} was given to it`, 'AllocationNotFound');
    const problems = await backfillProblems(rt, a, ctx.node);
    let failure: Error | undefined;
    if (problems.length) {
      failure = new InvalidInput(new AllocationFailed(a, `Cannot backfill an allocation for node ${ctx.node.uuid}: ${problems.join('; ')}`).message, 'AllocationFailed');
    } else {
      const outcome = await backfillNode(knex, a, ctx.node);
      if (outcome === 'allocation gone') throw new Conflict(`Allocation ${a.uuid} was deleted before node ${ctx.node.uuid} was given to it`, 'AllocationNotFound');
      if (outcome === 'node taken') failure = new Conflict(`Node ${ctx.node.uuid} is associated with another allocation.`, 'NodeAssociated');
    }
    if (failure) {
      await updateAllocation(knex, a.id, { state: 'error', node_id: null, last_error: failure.message });
      throw failure;
    }
    return null;
  },
};
