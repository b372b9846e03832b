// Fast track (Ironic's [deploy]fast_track, manager_utils.is_fast_track): the agent still running
// from the previous phase is reused by the next one (inspection → cleaning → deploy) with no power
// cycle and no network boot. Any doubt that it is still the agent this node booted, alive, and
// holding the node's token sends the node back to a fresh ramdisk boot, saying why.
import { errorMessage } from '../../common/errors.ts';
import type { TaskContext } from '../interfaces.ts';
import { internalInfo } from '../internal-info.ts';
import { AgentClient } from './client.ts';
import { agentTuning } from './settings.ts';

/** Milliseconds the probe of the agent's command API may take: a live agent answers at once. */
const PROBE_TIMEOUT_MS = 3000;

/**
 * Whether fast track is configured (agent.fastTrack; `anvil all-in-one` turns it on when unset).
 * A phase that ends with the agent up then leaves it running for the next one, powered on (Ironic's
 * tear-downs of inspection and cleaning under fast track).
 */
export function fastTrackEnabled(ctx: Pick<TaskContext, 'config'>): boolean {
  return ctx.config.agent.fastTrack === true;
}

/**
 * Why the node's running agent can't be reused, or null when it can. `undefined` when there is no
 * agent to speak of (none recorded): not a doubt, simply nothing to reuse.
 */
export async function fastTrackDoubt(ctx: TaskContext): Promise<string | null | undefined> {
  const info = internalInfo(ctx.node);
  if (typeof info.agent_url !== 'string' || typeof info.agent_secret_token !== 'string') return undefined;
  // Ironic's fast_track_able: a node with a recorded failure starts afresh.
  if (ctx.node.last_error) return `the node has a last_error (${ctx.node.last_error})`;
  if (info.agent_boot_interface !== ctx.driver.boot.name) {
    return `the agent was booted by the ${info.agent_boot_interface ?? 'unknown'} boot interface, the node's is now ${ctx.driver.boot.name}`;
  }
  const age = Date.now() - Number(info.agent_last_heartbeat ?? 0);
  const window = agentTuning(ctx.config).fastTrackTimeout;
  if (!(age <= window * 1000)) return `the agent has been silent for ${Math.round(age / 1000)} s (agent.fastTrackTimeout ${window} s)`;
  const power = await ctx.driver.power.getPowerState(ctx);
  if (power !== 'power on') return `the machine is ${power ?? 'in an unknown power state'}`;
  try {
    await new AgentClient(info.agent_url, info.agent_secret_token, { timeoutMs: PROBE_TIMEOUT_MS, signal: ctx.signal }).commands();
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    // A 401 is an agent holding another token than the node's: not the agent this boot handed it to.
    return /HTTP 401/.test(errorMessage(err)) ? `the agent at ${info.agent_url} refuses the node's token` : `the agent at ${info.agent_url} does not answer: ${errorMessage(err)}`;
  }
  return null;
}

/**
 * True when fast track is on and the running agent may be reused; notes why not when there was an
 * agent it doubted (the node then boots the ramdisk afresh).
 */
export async function canFastTrack(ctx: TaskContext): Promise<boolean> {
  if (!fastTrackEnabled(ctx)) return false;
  const doubt = await fastTrackDoubt(ctx);
  if (doubt === null) return true;
  if (doubt !== undefined) await ctx.note(`Fast track not used: ${doubt}; booting the agent ramdisk again`, 'warning');
  return false;
}
