// The `agent` rescue interface (Ironic's AgentRescue): the node boots the agent ramdisk in rescue
// mode (the boot interface's rescue kernel and ramdisk, else the deploy ones); at its first
// heart-beat the conductor sends the rescue password's sha512-crypt hash (finalize_rescue, never
// the plain password), the agent sets it for the `rescue` user, stops and leaves a login on the
// serial console. Unrescue boots the instance from its disk again.
import { DriverError, MissingParameter } from '../../common/errors.ts';
import type { RescueInterface, TaskContext } from '../interfaces.ts';
import { AgentClient, commandErrorText } from './client.ts';
import { bootInstanceAgain, bootRamdisk, withoutAgentBoot } from './ramdisk-boot.ts';
import { powerOffUnlessDisabled } from '../power-flows.ts';

function passwordHash(ctx: TaskContext): string {
  const hash = ctx.node.instance_info.hashed_rescue_password;
  if (typeof hash !== 'string' || !hash) throw new MissingParameter(`Node ${ctx.node.uuid} has no rescue password (instance_info.hashed_rescue_password): ask for rescue with a rescue_password`);
  return hash;
}

export const agentRescue: RescueInterface = {
  name: 'agent',
  validate() {},

  async rescue(ctx) {
    passwordHash(ctx);
    await ctx.driver.boot.cleanUpInstance(ctx);
    await bootRamdisk(ctx, 'rescue', []);
    await ctx.note('Booting the rescue ramdisk; waiting for the agent');
    return 'wait';
  },

  async finishRescue(ctx) {
    const result = await AgentClient.forTask(ctx).execute('rescue.finalize_rescue', { rescue_password: passwordHash(ctx), hashed: true });
    if (result.command_status !== 'SUCCEEDED') throw new DriverError(`The rescue ramdisk's agent could not set the rescue password: ${commandErrorText(result)}`);
    // The ramdisk keeps running; only its network boot setup goes, as Ironic's AgentRescue.clean_up.
    await ctx.driver.boot.cleanUpRamdisk(ctx);
    await ctx.save(withoutAgentBoot(ctx));
    await ctx.note('Rescue password set; the rescue user can log in on the serial console');
  },

  async unrescue(ctx) {
    await bootInstanceAgain(ctx);
    await ctx.note('Rescue ramdisk left; the instance boots from its disk again');
  },

  async cleanUp(ctx) {
    await powerOffUnlessDisabled(ctx);
    await ctx.driver.boot.cleanUpRamdisk(ctx);
    await ctx.save(withoutAgentBoot(ctx));
  },
};
