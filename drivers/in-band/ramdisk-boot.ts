// Booting a node into the agent ramdisk and taking it down again, shared by deploy, clean and inspect.
import { pollUntil } from '../../common/poll.ts';
import type { NetworkPurpose, RamdiskPurpose, TaskContext } from '../interfaces.ts';
import { AGENT_BOOT_KEYS, withoutInternalInfo, type InternalKey } from '../internal-info.ts';
import { AgentClient } from './client.ts';
import { canFastTrack } from './fast-track.ts';
import { agentTuning } from './settings.ts';
import { powerOffAndOn, powerOffUnlessDisabled, powerOnOrReboot } from '../power-flows.ts';

/** The fields that forget this ramdisk boot's agent (and `progress` keys of the steps it ran). */
export function withoutAgentBoot(ctx: TaskContext, progress: readonly InternalKey[] = []) {
  return withoutInternalInfo(ctx.node, [...AGENT_BOOT_KEYS, ...progress]);
}

/**
 * The network a ramdisk boot takes an instance's ports to (Ironic's add_rescuing_network,
 * add_servicing_network). Deploy, clean and inspect move before they start (conductor flows):
 * those nodes run no instance.
 */
const NETWORK_OF_RAMDISK: Partial<Record<RamdiskPurpose, NetworkPurpose>> = { rescue: 'rescuing', service: 'servicing' };

/** Powers off, prepares the ramdisk boot, powers on (one reboot with disable_power_off): the agent will look itself up. */
export async function bootRamdisk(ctx: TaskContext, purpose: RamdiskPurpose, progress: readonly InternalKey[]): Promise<void> {
  await ctx.save(withoutInternalInfo(ctx.node, [...AGENT_BOOT_KEYS, ...progress], { agent_boot_interface: ctx.driver.boot.name }));
  await powerOffAndOn(ctx, async () => {
    // The instance is off before its ports leave the tenant networks, as Ironic powers off first.
    const network = NETWORK_OF_RAMDISK[purpose];
    if (network) await ctx.driver.network.attach?.(ctx, network);
    await ctx.driver.boot.prepareRamdisk(ctx, purpose);
  });
}

/**
 * The agent for a phase: under fast track the one still running (its progress keys of the last
 * phase dropped, its steps started at once), else a fresh ramdisk boot. True when fast-tracked.
 */
export async function agentForPhase(ctx: TaskContext, purpose: RamdiskPurpose, progress: readonly InternalKey[]): Promise<boolean> {
  if (ctx.resumeAgent && await canFastTrack(ctx)) {
    await ctx.save(withoutInternalInfo(ctx.node, progress));
    await ctx.resumeAgent();
    return true;
  }
  await bootRamdisk(ctx, purpose, progress);
  return false;
}

/**
 * Ironic's tear_down_agent: ask the agent to power the machine off, watch the power state for a
 * while, then force it off. The agent's URL and token are dropped: that ramdisk is gone. With
 * disable_power_off nothing is powered off (Ironic locks the agent down instead; Anvil's agent
 * has no lockdown command, so it is left running until the reboot into the instance).
 */
export async function powerOffAgent(ctx: TaskContext): Promise<void> {
  if (ctx.node.disable_power_off) {
    // The node keeps running the ramdisk until boot_instance reboots it into the instance.
    await ctx.save(withoutAgentBoot(ctx));
    return;
  }
  const tuning = agentTuning(ctx.config);
  let asked = false;
  try {
    await AgentClient.forTask(ctx).execute('standby.power_off', {});
    asked = true;
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message }, 'agent power off failed; powering off through the BMC');
  }
  if (asked) {
    // The first reads come soon (an agent powers off in about a second), then every powerOffPollInterval.
    const interval = tuning.powerOffPollInterval * 1000;
    await pollUntil(async () => ((await ctx.driver.power.getPowerState(ctx)) === 'power off' ? true : undefined), {
      timeoutSec: tuning.powerOffWait, signal: ctx.signal, intervalMs: Math.min(250, interval), maxIntervalMs: interval,
    });
  }
  await ctx.driver.power.setPowerState(ctx, 'power off');
  await ctx.save(withoutAgentBoot(ctx));
}

/** Out of the ramdisk (servicing's, rescue's) and back into the instance on its disk. */
export async function bootInstanceAgain(ctx: TaskContext): Promise<void> {
  await powerOffUnlessDisabled(ctx);
  await ctx.driver.boot.cleanUpRamdisk(ctx);
  // Back on the tenant networks before the instance runs (Ironic's tear_down_service and unrescue).
  if (ctx.driver.network.currentPurpose?.(ctx) !== 'tenant') await ctx.driver.network.attach?.(ctx, 'tenant');
  await ctx.driver.boot.prepareInstance(ctx);
  await ctx.driver.management.setBootDevice(ctx, 'disk', true);
  await powerOnOrReboot(ctx);
}
