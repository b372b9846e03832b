// Calls that need the BMC: handed to the node's conductor as a node task, and waited for.
import { AnvilError } from '../../common/errors.ts';
import { enqueueTask, waitForTask, type NodeRef } from '../../db/tasks.ts';
import type { ApiContext } from './context.ts';
import { ServiceUnavailable } from './errors.ts';

/** Runs a node task and returns its result; a failed task answers with the conductor's status and message. */
export async function runNodeTask<R = unknown>(ctx: ApiContext, node: NodeRef, kind: string, args: Record<string, unknown> = {}): Promise<R> {
  const task = await enqueueTask(ctx.db, node, kind, args);
  let done;
  try {
    done = await waitForTask(ctx.db, task.id, ctx.taskTimeoutMs);
  } catch (err) {
    throw new ServiceUnavailable(`No conductor answered: ${(err as Error).message}`);
  }
  if (done.status === 'failed') {
    const info = (done.result ?? {}) as { status?: number; code?: string };
    throw new AnvilError(done.error ?? `${kind} failed`, typeof info.status === 'number' ? info.status : 500, info.code ?? 'ConductorError');
  }
  return done.result as R;
}
