// Boot through virtual media: the BMC mounts an ISO by URL and the node boots it, one time or
// persistently. The ramdisk ISO is driver_info.deploy_iso when given, else the node's own, built
// from the deploy kernel and ramdisk with the agent's command line and, for a DHCP-less boot, its
// network_data (drivers/in-band/boot-iso.ts). A ramdisk instance boots instance_info.boot_iso, or
// an ISO built from instance_info kernel + ramdisk.
import { InvalidInput } from '../../common/errors.ts';
import { checkNetworkData } from '../../common/network-data.ts';
import { unsignedUrl } from '../../images/signed-url.ts';
import type { BootInterface, TaskContext } from '../interfaces.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { instanceIso, ramdiskIso, removeNodeIso, type NodeIso } from '../in-band/boot-iso.ts';
import { RAMDISK_PROPERTIES, validateRamdiskInfo } from '../pxe/index.ts';
import { bmcPeer, parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { standardSetBootDevice } from './management.ts';
import { RedfishNode } from './system.ts';
import type { Vendor } from './vendor.ts';
import { internalInfo, withInternalInfo, withoutInternalInfo } from '../internal-info.ts';

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

/** Hands a built ISO to `use` (the BMC); if the BMC refuses it, the ISO is deleted again, so nothing is left half-done. */
export async function withBuiltIso(ctx: TaskContext, iso: NodeIso, use: (url: string) => Promise<void>): Promise<void> {
  try {
    await use(iso.url);
  } catch (err) {
    await removeNodeIso(ctx, iso.key);
    throw err;
  }
}

async function bootBuilt(ctx: TaskContext, vendor: Vendor, iso: NodeIso, persistent: boolean): Promise<void> {
  await withBuiltIso(ctx, iso, (url) => boot(ctx, vendor, url, persistent));
}

/** Forgets the ramdisk boot and deletes its ISO if it was built for the node (at clean-up, and when the instance boots, as Ironic's prepare_instance). */
export async function dropRamdiskBoot(ctx: TaskContext): Promise<void> {
  const boot = internalInfo(ctx.node).boot;
  if (!boot) return;
  if (boot.iso) await removeNodeIso(ctx, boot.iso);
  await ctx.save(withoutInternalInfo(ctx.node, ['boot']));
}

/** Deletes the instance ISO built for the node, if any (at the instance's clean-up). */
export async function dropInstanceIso(ctx: TaskContext): Promise<void> {
  const built = internalInfo(ctx.node).instance_iso;
  if (!built) return;
  await removeNodeIso(ctx, built);
  await ctx.save(withoutInternalInfo(ctx.node, ['instance_iso']));
}

async function eject(ctx: TaskContext, vendor: Vendor): Promise<void> {
  const rn = await RedfishNode.open(ctx);
  if (vendor.ejectBootMedia) await vendor.ejectBootMedia(rn);
  else await rn.ejectMedia(await rn.cdDevice());
}

export function redfishVirtualMediaBoot(vendor: Vendor): BootInterface {
  return {
    name: vendor.bootName,
    properties: {
      ...REDFISH_PROPERTIES, ...RAMDISK_PROPERTIES,
      deploy_iso: 'URL of a deploy ramdisk ISO the BMC mounts as virtual media. Optional: without it the node gets its own ISO of deploy_kernel and deploy_ramdisk (with its network_data for a DHCP-less boot).',
    },
    validate(node) {
      parseRedfishInfo(node);
      validateRamdiskInfo(node);
      isoUrl(node, 'driver_info', 'deploy_iso');
      isoUrl(node, 'instance_info', 'boot_iso');
      if (Object.keys(node.network_data ?? {}).length > 0) checkNetworkData(node.network_data, `network_data of node ${node.uuid}`);
    },
    async prepareRamdisk(ctx, purpose) {
      const given = isoUrl(ctx.node, 'driver_info', 'deploy_iso');
      if (given) {
        await boot(ctx, vendor, given, false);
        await ctx.save(withInternalInfo(ctx.node, { boot: { purpose, via: 'virtual-media', image: given } }));
        return;
      }
      const iso = await ramdiskIso(ctx, purpose, await bmcPeer(ctx.node));
      await bootBuilt(ctx, vendor, iso, false);
      await ctx.save(withInternalInfo(ctx.node, { boot: { purpose, via: 'virtual-media', image: unsignedUrl(iso.url), iso: iso.key } }));
    },
    async cleanUpRamdisk(ctx) {
      await eject(ctx, vendor);
      await dropRamdiskBoot(ctx);
    },
    async prepareInstance(ctx) {
      await dropRamdiskBoot(ctx);
      const image = isoUrl(ctx.node, 'instance_info', 'boot_iso');
      if (image) {
        await boot(ctx, vendor, image, true);
        return;
      }
      const iso = await instanceIso(ctx, await bmcPeer(ctx.node));
      if (iso) {
        await bootBuilt(ctx, vendor, iso, true);
        await ctx.save(withInternalInfo(ctx.node, { instance_iso: iso.key }));
        return;
      }
      await eject(ctx, vendor);
      const rn = await RedfishNode.open(ctx);
      await (vendor.setBootDevice ?? standardSetBootDevice)(rn, 'disk', true);
    },
    async cleanUpInstance(ctx) {
      await eject(ctx, vendor);
      await dropInstanceIso(ctx);
    },
    bootsInstanceIso: true,
  };
}
