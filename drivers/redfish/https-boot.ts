// Redfish UEFI HTTP boot (Ironic's redfish-https): no virtual media is mounted; the BMC is told to
// boot the ISO at a URL over UEFI HTTP (Boot.BootSourceOverrideTarget UefiHttp with Boot.HttpBootUri),
// once for the deploy ramdisk, persistently for a ramdisk instance. The ramdisk ISO is
// driver_info.deploy_iso, else the node's own (drivers/in-band/boot-iso.ts); the instance's is
// instance_info.boot_iso, else one built of instance_info kernel + ramdisk. The firmware gets its
// address by DHCP, as Ironic's interface assumes.
import { UnsupportedOperation } from '../../common/errors.ts';
import { unsignedUrl } from '../../images/signed-url.ts';
import type { BootInterface, TaskContext } from '../interfaces.ts';
import { instanceIso, ramdiskIso } from '../in-band/boot-iso.ts';
import { withInternalInfo } from '../internal-info.ts';
import { RAMDISK_PROPERTIES, validateRamdiskInfo } from '../pxe/index.ts';
import { dropInstanceIso, dropRamdiskBoot, isoUrl, withBuiltIso } from './boot.ts';
import { bmcPeer, parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { bootOverrideBody, standardSetBootDevice } from './management.ts';
import { isObject, RedfishNode } from './system.ts';

export const REDFISH_HTTPS_BOOT = 'redfish-https';

/** One PATCH: UefiHttp (Once or Continuous) and the URI the firmware downloads, refused if the BMC offers no UefiHttp. */
async function bootFromUri(ctx: TaskContext, uri: string, persistent: boolean): Promise<void> {
  const rn = await RedfishNode.open(ctx);
  const system = await rn.system();
  const boot = isObject(system.Boot) ? system.Boot : {};
  const allowed = boot['BootSourceOverrideTarget@Redfish.AllowableValues'];
  // Ironic's _validate_hardware: a BMC must list UefiHttp among its override targets.
  if (!Array.isArray(allowed) || !allowed.includes('UefiHttp')) {
    throw new UnsupportedOperation(`The BMC of node ${ctx.node.uuid} does not offer UefiHttp boot (BootSourceOverrideTarget allows ${Array.isArray(allowed) ? allowed.join(', ') : 'nothing listed'}); use another boot interface`);
  }
  const body = bootOverrideBody(system, 'uefi http', persistent);
  (body.Boot as Record<string, unknown>).HttpBootUri = uri;
  await rn.client.patch(rn.systemPath, body);
}

export function redfishHttpsBoot(): BootInterface {
  return {
    name: REDFISH_HTTPS_BOOT,
    properties: {
      ...REDFISH_PROPERTIES, ...RAMDISK_PROPERTIES,
      deploy_iso: 'URL of a deploy ramdisk ISO the node boots over UEFI HTTP. Optional: without it the node gets its own ISO of deploy_kernel and deploy_ramdisk.',
    },
    validate(node) {
      parseRedfishInfo(node);
      validateRamdiskInfo(node);
      isoUrl(node, 'driver_info', 'deploy_iso');
      isoUrl(node, 'instance_info', 'boot_iso');
    },
    async prepareRamdisk(ctx, purpose) {
      const given = isoUrl(ctx.node, 'driver_info', 'deploy_iso');
      if (given) {
        await bootFromUri(ctx, given, false);
        await ctx.save(withInternalInfo(ctx.node, { boot: { purpose, via: 'uefi-http', image: given } }));
        return;
      }
      const iso = await ramdiskIso(ctx, purpose, await bmcPeer(ctx.node));
      await withBuiltIso(ctx, iso, (url) => bootFromUri(ctx, url, false));
      await ctx.save(withInternalInfo(ctx.node, { boot: { purpose, via: 'uefi-http', image: unsignedUrl(iso.url), iso: iso.key } }));
    },
    async cleanUpRamdisk(ctx) {
      await dropRamdiskBoot(ctx);
    },
    async prepareInstance(ctx) {
      await dropRamdiskBoot(ctx);
      const image = isoUrl(ctx.node, 'instance_info', 'boot_iso');
      if (image) {
        await bootFromUri(ctx, image, true);
        return;
      }
      const iso = await instanceIso(ctx, await bmcPeer(ctx.node));
      if (iso) {
        await withBuiltIso(ctx, iso, (url) => bootFromUri(ctx, url, true));
        await ctx.save(withInternalInfo(ctx.node, { instance_iso: iso.key }));
        return;
      }
      await standardSetBootDevice(await RedfishNode.open(ctx), 'disk', true);
    },
    // Nothing is mounted: the next override (disk, or another URI) replaces this one; a built instance ISO is deleted.
    async cleanUpInstance(ctx) {
      await dropInstanceIso(ctx);
    },
    bootsInstanceIso: true,
  };
}
