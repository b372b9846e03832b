// Finding and claiming this conductor's work: nodes of its group that it owns on the hash ring and
// that have pending tasks (first: an API call may be waiting for the answer), a working provision
// state or a requested power change. Locks are taken for a batch of nodes in one statement, and
// their ports and tasks read in one statement each, so the per-node cost is the work itself.
import { conductorClaims } from '../../common/metrics.ts';
import { WORKING_STATES } from '../../common/states.ts';
import { claimNodes, nodesNeedingWork, releaseNodes, type NodeRecord } from '../../db/nodes.ts';
import { portsOfNodes, type PortRecord } from '../../db/ports.ts';
import { nodesWithPendingTasks } from '../../db/tasks.ts';
import type { Runtime } from './runtime.ts';

export interface WorkItem {
  id: number;
  /** The scan saw pending tasks of this node. */
  tasks: boolean;
}

export interface ClaimedNode {
  node: NodeRecord;
  ports: PortRecord[];
  tasks: boolean;
}

/** Owned nodes with work, most urgent first. */
export async function findWork(rt: Runtime): Promise<WorkItem[]> {
  const withTasks = await nodesWithPendingTasks(rt.db.knex, rt.group);
  const working = await nodesNeedingWork(rt.db.knex, rt.group, WORKING_STATES);
  const items = new Map<number, WorkItem>();
  for (const node of withTasks) if (rt.owns(node)) items.set(node.id, { id: node.id, tasks: true });
  for (const node of working) if (rt.owns(node) && !items.has(node.id)) items.set(node.id, { id: node.id, tasks: false });
  return [...items.values()];
}

/** Locks the nodes it can among `items` and loads their ports; a node locked elsewhere is left out. */
export async function claimBatch(rt: Runtime, items: WorkItem[]): Promise<Map<number, ClaimedNode>> {
  const nodes = await claimNodes(rt.db.knex, items.map((i) => i.id), rt.host);
  conductorClaims.inc({ conductor: rt.host }, nodes.length);
  try {
    const ports = await portsOfNodes(rt.db.knex, nodes.map((n) => n.id));
    const tasks = new Set(items.filter((i) => i.tasks).map((i) => i.id));
    return new Map(nodes.map((node) => [node.id, { node, ports: ports.get(node.id) ?? [], tasks: tasks.has(node.id) }]));
  } catch (err) {
    await releaseNodes(rt.db.knex, nodes.map((n) => n.id), rt.host);
    throw err;
  }
}
