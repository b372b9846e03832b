// Network boot interfaces `pxe`, `ipxe` and `http` (UEFI HTTP boot). Preparing a boot writes no
// files: it writes a boot record for each PXE-enabled port (db/boot-records.ts), from which the
// netboot role renders the loader config and iPXE script on demand, so conductor and netboot may
// run on different hosts and share only the database. Cleaning up withdraws the records.
// A node that boots a volume (storage interface `external`) boots its instance from the network
// too: prepareInstance writes a SAN boot record (iPXE sanboot of the iSCSI LUN) and keeps it
// until the instance is cleaned up.
import { InvalidInput } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { PortRecord } from '../../db/ports.ts';
import type { BootDevice, BootInterface, BootRecord, DriverFamily, IscsiBootVolume, RamdiskPurpose, TaskContext } from '../interfaces.ts';
import { bootVolumeOf } from '../storage/node-storage.ts';

export const RAMDISK_PROPERTIES = {
  deploy_kernel: 'URL or file under the netboot HTTP root of the agent kernel. Optional: defaults to netboot.deployKernel.',
  deploy_ramdisk: 'URL or file under the netboot HTTP root of the agent ramdisk. Optional: defaults to netboot.deployRamdisk.',
  rescue_kernel: 'Kernel booted for rescue. Optional: defaults to the deploy kernel.',
  rescue_ramdisk: 'Ramdisk booted for rescue. Optional: defaults to the deploy ramdisk.',
  kernel_append_params: 'Extra kernel command line arguments for the ramdisk. Optional.',
};

function validate(node: NodeRecord, ports: readonly PortRecord[]): void {
  validateRamdiskInfo(node);
  if (ports.length > 0 && !ports.some((p) => p.pxe_enabled)) {
    throw new InvalidInput('None of the node\'s ports has pxe_enabled set: the DHCP server would not answer it');
  }
}

/** The ramdisk a node boots for `purpose`: the rescue or deploy kernel and ramdisk of driver_info (null: netboot's default) and its extra kernel arguments. */
export function ramdiskSources(node: NodeRecord, purpose: RamdiskPurpose): { kernel: string | null; initrd: string | null; kernelArgs: string } {
  const info = node.driver_info;
  const pick = (key: 'kernel' | 'ramdisk'): string | null => {
    const v = (purpose === 'rescue' ? info[`rescue_${key}`] : undefined) ?? info[`deploy_${key}`];
    return typeof v === 'string' && v ? v : null;
  };
  return { kernel: pick('kernel'), initrd: pick('ramdisk'), kernelArgs: typeof info.kernel_append_params === 'string' ? info.kernel_append_params : '' };
}

/** What each PXE-enabled port boots for `purpose`. */
export function ramdiskBootRecords(node: NodeRecord, ports: readonly PortRecord[], purpose: RamdiskPurpose): BootRecord[] {
  const sources = ramdiskSources(node, purpose);
  return ports.filter((p) => p.pxe_enabled).map((p) => ({
    kind: 'ramdisk', mac: p.address, portId: p.id, purpose, ...sources, ipxeScript: null, bootFile: null, expiresAt: null,
  }));
}

/** iPXE's iSCSI URI of each portal of the volume (iscsi:<host>:<protocol>:<port>:<lun>:<iqn>, the protocol left to TCP), as Ironic's iPXE template writes it. */
export function iscsiSanUrls(volume: IscsiBootVolume): string[] {
  return volume.portals.map((p) => `iscsi:${p.host}::${p.port ?? ''}:${volume.lun}:${volume.iqn}`);
}

/** What each PXE-enabled port boots for the instance on `volume`. */
export function sanBootRecords(ports: readonly PortRecord[], volume: IscsiBootVolume): BootRecord[] {
  const sanUrls = iscsiSanUrls(volume);
  return ports.filter((p) => p.pxe_enabled).map((p) => ({
    kind: 'san', mac: p.address, portId: p.id, sanUrls, initiatorIqn: volume.initiatorIqn, chap: volume.chap, volumeTarget: volume.target, expiresAt: null,
  }));
}

/** driver_info's ramdisk keys, when set, are non-empty strings. */
export function validateRamdiskInfo(node: NodeRecord): void {
  for (const key of ['deploy_kernel', 'deploy_ramdisk', 'rescue_kernel', 'rescue_ramdisk', 'kernel_append_params']) {
    const v = node.driver_info[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new InvalidInput(`driver_info.${key} must be a non-empty string`);
  }
}

function networkBoot(name: 'pxe' | 'ipxe' | 'http'): BootInterface {
  async function bootDevice(ctx: TaskContext): Promise<BootDevice> {
    if (name !== 'http') return 'pxe';
    const supported = await ctx.driver.management.supportedBootDevices(ctx);
    return supported.includes('uefi http') ? 'uefi http' : 'pxe';
  }
  return {
    name,
    properties: RAMDISK_PROPERTIES,
    validate,
    async prepareRamdisk(ctx, purpose) {
      await ctx.setBootRecords(ramdiskBootRecords(ctx.node, ctx.ports, purpose));
      await ctx.driver.management.setBootDevice(ctx, await bootDevice(ctx), false);
    },
    async cleanUpRamdisk(ctx) {
      await ctx.setBootRecords([]);
    },
    async prepareInstance(ctx) {
      const volume = await bootVolumeOf(ctx);
      if (volume) {
        // The instance is on the network: every boot goes through iPXE to the volume.
        await ctx.setBootRecords(sanBootRecords(ctx.ports, volume));
        await ctx.driver.management.setBootDevice(ctx, await bootDevice(ctx), true);
        return;
      }
      await ctx.setBootRecords([]);
      await ctx.driver.management.setBootDevice(ctx, 'disk', true);
    },
    async cleanUpInstance(ctx) {
      await ctx.setBootRecords([]);
    },
  };
}

export const pxeBoot = networkBoot('pxe');
export const ipxeBoot = networkBoot('ipxe');
export const httpBoot = networkBoot('http');

export const pxeFamily: DriverFamily = {
  implementations: { boot: [ipxeBoot, pxeBoot, httpBoot] },
  hardwareTypes: [],
};
