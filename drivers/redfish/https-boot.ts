// Redfish UEFI HTTP boot (Ironic's redfish-https): no virtual media is mounted; the BMC is told to
// boot the ISO at a URL over UEFI HTTP (Boot.BootSourceOverrideTarget UefiHttp with Boot.HttpBootUri),
// once for the deploy ramdisk (driver_info.deploy_iso), persistently for a ramdisk instance
// (instance_info.boot_iso). The firmware gets its address by DHCP, as Ironic's interface assumes.
import { MissingParameter, UnsupportedOperation } from '../../common/errors.ts';
import type { BootInterface, TaskContext } from '../interfaces.ts';
import { withInternalInfo, withoutInternalInfo } from '../internal-info.ts';
import { isoUrl } from './boot.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
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

function deployIso(ctx: TaskContext): string {
  const image = isoUrl(ctx.node, 'driver_info', 'deploy_iso');
  if (!image) throw new MissingParameter(`Node ${ctx.node.uuid} is missing driver_info/deploy_iso, the ISO the ${REDFISH_HTTPS_BOOT} boot interface has the BMC boot over UEFI HTTP`);
  return image;
}

export function redfishHttpsBoot(): BootInterface {
  return {
    name: REDFISH_HTTPS_BOOT,
    properties: { ...REDFISH_PROPERTIES, deploy_iso: 'URL of the deploy ramdisk ISO the node boots over UEFI HTTP. Required.' },
    validate(node) {
      parseRedfishInfo(node);
      if (!isoUrl(node, 'driver_info', 'deploy_iso')) {
        throw new MissingParameter(`Node ${node.uuid} is missing driver_info/deploy_iso, the ISO the ${REDFISH_HTTPS_BOOT} boot interface has the BMC boot over UEFI HTTP`);
      }
      isoUrl(node, 'instance_info', 'boot_iso');
    },
    async prepareRamdisk(ctx, purpose) {
      const image = deployIso(ctx);
      await bootFromUri(ctx, image, false);
      await ctx.save(withInternalInfo(ctx.node, { boot: { purpose, via: 'uefi-http', image } }));
    },
    async cleanUpRamdisk(ctx) {
      await ctx.save(withoutInternalInfo(ctx.node, ['boot']));
    },
    async prepareInstance(ctx) {
      const image = isoUrl(ctx.node, 'instance_info', 'boot_iso');
      if (image) {
        await bootFromUri(ctx, image, true);
        return;
      }
      await standardSetBootDevice(await RedfishNode.open(ctx), 'disk', true);
    },
    // Nothing is mounted: the next override (disk, or another URI) replaces this one.
    async cleanUpInstance() {},
    bootsInstanceIso: true,
  };
}
