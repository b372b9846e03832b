// Boot through virtual media: the BMC mounts an ISO by URL (driver_info.deploy_iso for the ramdisk,
// instance_info.boot_iso for a ramdisk instance) and the node boots it, one time or persistently.
import { InvalidInput, MissingParameter } from '../../common/errors.ts';
import type { BootInterface, TaskContext } from '../interfaces.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { standardSetBootDevice } from './management.ts';
import { RedfishNode } from './system.ts';
import type { Vendor } from './vendor.ts';
import { withInternalInfo, withoutInternalInfo } from '../internal-info.ts';

/** The ISO URL at node[where][key], or null when unset; throws InvalidInput when it is no URL a BMC can fetch. */
export function isoUrl(node: NodeRecord, where: 'driver_info' | 'instance_info', key: string): string | null {
  const value = node[where][key];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !/^(https?|nfs|cifs|smb):\/\//i.test(value)) {
    throw new InvalidInput(`${where}/${key} of node ${node.uuid} must be the URL (http, https, nfs or cifs) of an ISO image the BMC can fetch, got ${JSON.stringify(value)}`);
  }
  return value;
}

async function boot(ctx: TaskContext, vendor: Vendor, image: string, persistent: boolean): Promise<void> {
  const rn = await RedfishNode.open(ctx);
  if (vendor.insertBootMedia) await vendor.insertBootMedia(rn, image);
  else await rn.insertMedia(await rn.cdDevice(), image);
  if (vendor.bootFromMedia) await vendor.bootFromMedia(rn, persistent);
  else await (vendor.setBootDevice ?? standardSetBootDevice)(rn, 'cdrom', persistent);
}

async function eject(ctx: TaskContext, vendor: Vendor): Promise<void> {
  const rn = await RedfishNode.open(ctx);
  if (vendor.ejectBootMedia) await vendor.ejectBootMedia(rn);
  else await rn.ejectMedia(await rn.cdDevice());
}

export function redfishVirtualMediaBoot(vendor: Vendor): BootInterface {
  return {
    name: vendor.bootName,
    properties: { ...REDFISH_PROPERTIES, deploy_iso: 'URL of the deploy ramdisk ISO the BMC mounts as virtual media. Required.' },
    validate(node) {
      parseRedfishInfo(node);
      if (!isoUrl(node, 'driver_info', 'deploy_iso')) {
        throw new MissingParameter(`Node ${node.uuid} is missing driver_info/deploy_iso, the ISO the ${vendor.bootName} boot interface mounts`);
      }
      isoUrl(node, 'instance_info', 'boot_iso');
    },
    async prepareRamdisk(ctx, purpose) {
      const image = isoUrl(ctx.node, 'driver_info', 'deploy_iso');
      if (!image) throw new MissingParameter(`Node ${ctx.node.uuid} is missing driver_info/deploy_iso, the ISO the ${vendor.bootName} boot interface mounts`);
      await boot(ctx, vendor, image, false);
      await ctx.save(withInternalInfo(ctx.node, { boot: { purpose, via: 'virtual-media', image } }));
    },
    async cleanUpRamdisk(ctx) {
      await eject(ctx, vendor);
      await ctx.save(withoutInternalInfo(ctx.node, ['boot']));
    },
    async prepareInstance(ctx) {
      const image = isoUrl(ctx.node, 'instance_info', 'boot_iso');
      if (image) {
        await boot(ctx, vendor, image, true);
        return;
      }
      await eject(ctx, vendor);
      const rn = await RedfishNode.open(ctx);
      await (vendor.setBootDevice ?? standardSetBootDevice)(rn, 'disk', true);
    },
    async cleanUpInstance(ctx) {
      await eject(ctx, vendor);
    },
    bootsInstanceIso: true,
  };
}
