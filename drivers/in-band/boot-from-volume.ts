// The deploy of a node that boots a volume (Ironic's AgentDeploy and RamdiskDeploy when the storage
// interface's should_write_image is false): no ramdisk, no agent, no image written. The boot
// interface points the node at the volume and the node is powered on into it. And the tear-down
// every in-band deploy ends with: the node's volume targets go with the instance, as Ironic's
// tear_down_storage_configuration deletes them.
import { DriverError } from '../../common/errors.ts';
import type { DeployArgs, Outcome, TaskContext } from '../interfaces.ts';
import { powerOffAndOn, stopInstance } from '../power-flows.ts';
import { bootVolumeOf } from '../storage/node-storage.ts';
import { withoutAgentBoot } from './ramdisk-boot.ts';
import { clearedProgress } from './steps.ts';

/** Deploys by booting the node's volume; undefined when the node has none to boot (its deploy writes an image). */
export async function deployBootVolume(ctx: TaskContext, args: DeployArgs): Promise<Outcome | undefined> {
  const volume = await bootVolumeOf(ctx);
  if (!volume) return undefined;
  const uuid = ctx.node.uuid;
  if (args.steps?.length) {
    throw new DriverError(`Node ${uuid} boots from volume target ${volume.target}: no agent runs, so the deploy steps ${args.steps.map((s) => `${s.interface}.${s.step}`).join(', ')} cannot run`);
  }
  if (args.configdrive !== undefined && args.configdrive !== null && args.configdrive !== '') {
    throw new DriverError(`Node ${uuid} boots from volume target ${volume.target}: Anvil writes no config drive onto a volume; deploy it without one`);
  }
  // A fast-tracked agent still running is powered off with the rest: it is forgotten.
  await ctx.save(withoutAgentBoot(ctx, clearedProgress('deploy')));
  await powerOffAndOn(ctx, () => ctx.driver.boot.prepareInstance(ctx));
  await ctx.note(`Booting the instance from volume target ${volume.target} (iSCSI ${volume.iqn}, LUN ${volume.lun}, initiator ${volume.initiatorIqn}); no image was written`);
  return 'done';
}

/** Stops the instance (its boot records withdrawn) and deletes the node's volume targets. */
export async function tearDownInstance(ctx: TaskContext): Promise<void> {
  await stopInstance(ctx);
  await ctx.deleteVolumeTargets?.();
}
