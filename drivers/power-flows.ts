// The power changes flows make around their work, with Ironic's disable_power_off (API 1.95): a
// node whose BMC must never power it off (a DPU, a host that can't be powered back on) is
// rebooted where others are powered off and on again, and a bare power off is left out
// (ironic/drivers/utils.py power_off_and_on, deploy_utils.tear_down_inband_cleaning).
import type { TaskContext } from './interfaces.ts';

/** Powers the node off, unless disable_power_off forbids it (then it keeps running). */
export async function powerOffUnlessDisabled(ctx: TaskContext): Promise<void> {
  if (!ctx.node.disable_power_off) await ctx.driver.power.setPowerState(ctx, 'power off');
}

/** Powers the node on, or reboots it when it was never powered off (disable_power_off). */
export async function powerOnOrReboot(ctx: TaskContext): Promise<void> {
  if (ctx.node.disable_power_off) await ctx.driver.power.reboot(ctx, false);
  else await ctx.driver.power.setPowerState(ctx, 'power on');
}

/** Off, `work`, on; or `work` then one reboot for a node with disable_power_off. */
export async function powerOffAndOn(ctx: TaskContext, work: () => Promise<void>): Promise<void> {
  await powerOffUnlessDisabled(ctx);
  await work();
  await powerOnOrReboot(ctx);
}

/**
 * Stops the instance at tear-down: power off, the boot interface's instance clean-up, and for a
 * node that may not be powered off a reboot instead (Ironic's AgentBaseMixin.clean_up).
 */
export async function stopInstance(ctx: TaskContext): Promise<void> {
  await powerOffUnlessDisabled(ctx);
  await ctx.driver.boot.cleanUpInstance(ctx);
  if (ctx.node.disable_power_off) await ctx.driver.power.reboot(ctx, false);
}
