// The `ramdisk` deploy interface (Ironic's RamdiskDeploy): the instance is a live ISO the node boots
// (instance_info.boot_iso, or instance_info kernel + ramdisk put on an ISO by virtual media), with nothing written to its disk: Metal3's live-ISO hosts. The boot
// interface boots it, where it can (virtual media mounts the ISO; the network boot interfaces
// cannot boot an instance ISO yet and the deploy fails saying so). Cleaning goes through the agent,
// as with direct. A node that boots a volume (storage interface `external`) boots it instead of a live ISO.
import { DriverError, InvalidInput, MissingParameter } from '../../common/errors.ts';
import type { DeployInterface } from '../interfaces.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { powerOffAndOn } from '../power-flows.ts';
import { deployBootVolume, tearDownInstance } from './boot-from-volume.ts';
import { directDeploy } from './direct.ts';

/** The live image: instance_info.boot_iso, or kernel + ramdisk that a virtual media boot interface makes an ISO of. */
function bootIso(node: NodeRecord): void {
  const { boot_iso: iso, kernel, ramdisk } = node.instance_info;
  const noIso = iso === undefined || iso === null || iso === '';
  if (noIso && typeof kernel === 'string' && kernel && typeof ramdisk === 'string' && ramdisk) return;
  if (noIso || iso === null || iso === '') throw new MissingParameter(`Node ${node.uuid} has no instance_info.boot_iso, the live ISO the ramdisk deploy boots`);
  if (typeof iso !== 'string' || !/^(https?|nfs|cifs|smb):\/\//i.test(iso)) throw new InvalidInput(`instance_info.boot_iso of node ${node.uuid} must be an http(s), nfs or cifs URL, got ${JSON.stringify(iso)}`);
}

export const ramdiskDeploy: DeployInterface = {
  name: 'ramdisk',
  properties: directDeploy.properties,
  validate(node, _ports, storage) {
    if (storage?.writesImage === false) return;
    if (['deploying', 'wait call-back', 'active'].includes(node.provision_state) || node.instance_info.boot_iso !== undefined) bootIso(node);
  },
  async deploy(ctx, args) {
    const fromVolume = await deployBootVolume(ctx, args);
    if (fromVolume) return fromVolume;
    bootIso(ctx.node);
    const boot = ctx.driver.boot;
    if (!boot.bootsInstanceIso) {
      throw new DriverError(`The ${boot.name} boot interface of node ${ctx.node.uuid} cannot boot a live ISO (instance_info.boot_iso) yet; use a virtual media boot interface (redfish-virtual-media) for the ramdisk deploy`);
    }
    await powerOffAndOn(ctx, () => boot.prepareInstance(ctx));
    await ctx.note('Booted the live ISO of instance_info.boot_iso; nothing was written to disk');
    return 'done';
  },
  tearDown: (ctx) => tearDownInstance(ctx),
  clean: (ctx, args) => directDeploy.clean(ctx, args),
  heartbeat: (ctx, heartbeat, steps) => directDeploy.heartbeat(ctx, heartbeat, steps),
  abort: (ctx) => directDeploy.abort!(ctx),
};
