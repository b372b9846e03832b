// Finding this conductor's work: nodes of its group that it owns on the hash ring and that have
// pending tasks (first: an API call may be waiting for the answer), a working provision state or a
// requested power change.
import { WORKING_STATES } from '../../common/states.ts';
import { nodesNeedingWork } from '../../db/nodes.ts';
import { nodesWithPendingTasks } from '../../db/tasks.ts';
import type { Runtime } from './runtime.ts';

/** Ids of owned nodes with work, most urgent first. */
export async function findWork(rt: Runtime): Promise<number[]> {
  const withTasks = await nodesWithPendingTasks(rt.db.knex, rt.group);
  const working = await nodesNeedingWork(rt.db.knex, rt.group, WORKING_STATES);
  const ids = new Set<number>();
  for (const node of [...withTasks, ...working]) if (rt.owns(node)) ids.add(node.id);
  return [...ids];
}
