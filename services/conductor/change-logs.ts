// The node change log (node_changes: one row per watched node write, read by the console's change
// feed) and the provision-state transition log (node_transitions) are written by triggers on
// every node write, whether or not anyone reads them, and finished node tasks stay behind for
// whoever waits on their result: one conductor per group prunes them, the
// owner of a fixed key on the group's ring, in bounded deletes so that a long backlog (a fleet's
// lifecycle writes millions of rows) is worked off over a few runs instead of in one long statement.
import { pruneChanges, pruneTransitions } from '../../db/console.ts';
import { pruneTasks } from '../../db/tasks.ts';
import type { Runtime } from './runtime.ts';

/** Every change feed reads the log each few seconds: changes this old were read long ago. */
const KEEP_CHANGES_MS = 10 * 60_000;
/** Transitions are kept a week. */
const KEEP_TRANSITIONS_MS = 7 * 24 * 3600_000;
/** A finished task's result is read by the request waiting on it, within its timeout (minutes). */
const KEEP_TASKS_MS = 3600_000;
/** Rows one delete removes, and deletes one run makes at most. */
const BATCH = 5_000;
const BATCHES_PER_RUN = 20;

/** The key whose ring owner prunes: one conductor of each group, moving with the ring like a node. */
const PRUNER_KEY = 'anvil node change logs';

/** Prunes what is past keeping, if this conductor is its group's pruner; returns the rows removed. */
export async function pruneChangeLogs(rt: Runtime, at = Date.now()): Promise<number> {
  if (!rt.owns({ uuid: PRUNER_KEY, conductor_group: rt.group })) return 0;
  let removed = 0;
  for (const [prune, keep] of [[pruneChanges, KEEP_CHANGES_MS], [pruneTransitions, KEEP_TRANSITIONS_MS], [pruneTasks, KEEP_TASKS_MS]] as const) {
    for (let i = 0; i < BATCHES_PER_RUN && !rt.stopping; i++) {
      const n = await prune(rt.db.knex, at - keep, BATCH);
      removed += n;
      if (n < BATCH) break;
    }
  }
  return removed;
}
