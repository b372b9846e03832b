// Network boot interfaces `pxe`, `ipxe` and `http` (UEFI HTTP boot). Preparing a boot writes no
// files: the netboot role renders each node's loader config and iPXE script on demand from the
// record kept here in driver_internal_info.boot, so conductor and netboot may run on different
// hosts and share only the database.
import { InvalidInput } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { PortRecord } from '../../db/ports.ts';
import type { BootDevice, BootInterface, DriverFamily, RamdiskPurpose, TaskContext } from '../interfaces.ts';

export interface BootRecord {
  purpose: RamdiskPurpose;
  interface: string;
  prepared_at: number;
}

const PROPERTIES = {
  deploy_kernel: 'URL or file under the netboot HTTP root of the agent kernel. Optional: defaults to netboot.deployKernel.',
  deploy_ramdisk: 'URL or file under the netboot HTTP root of the agent ramdisk. Optional: defaults to netboot.deployRamdisk.',
  rescue_kernel: 'Kernel booted for rescue. Optional: defaults to the deploy kernel.',
  rescue_ramdisk: 'Ramdisk booted for rescue. Optional: defaults to the deploy ramdisk.',
  kernel_append_params: 'Extra kernel command line arguments for the ramdisk. Optional.',
};

function validate(node: NodeRecord, ports: readonly PortRecord[]): void {
  for (const key of ['deploy_kernel', 'deploy_ramdisk', 'rescue_kernel', 'rescue_ramdisk', 'kernel_append_params']) {
    const v = node.driver_info[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new InvalidInput(`driver_info.${key} must be a non-empty string`);
  }
  if (ports.length > 0 && !ports.some((p) => p.pxe_enabled)) {
    throw new InvalidInput('None of the node\'s ports has pxe_enabled set: the DHCP server would not answer it');
  }
}

function withoutBoot(node: NodeRecord): Record<string, unknown> {
  const { boot: _boot, ...rest } = node.driver_internal_info;
  return rest;
}

function networkBoot(name: 'pxe' | 'ipxe' | 'http'): BootInterface {
  async function bootDevice(ctx: TaskContext): Promise<BootDevice> {
    if (name !== 'http') return 'pxe';
    const supported = await ctx.driver.management.supportedBootDevices(ctx);
    return supported.includes('uefi http') ? 'uefi http' : 'pxe';
  }
  return {
    name,
    properties: PROPERTIES,
    validate,
    async prepareRamdisk(ctx, purpose) {
      const boot: BootRecord = { purpose, interface: name, prepared_at: Date.now() };
      await ctx.save({ driver_internal_info: { ...ctx.node.driver_internal_info, boot } });
      await ctx.driver.management.setBootDevice(ctx, await bootDevice(ctx), false);
    },
    async cleanUpRamdisk(ctx) {
      if (ctx.node.driver_internal_info.boot !== undefined) await ctx.save({ driver_internal_info: withoutBoot(ctx.node) });
    },
    async prepareInstance(ctx) {
      if (ctx.node.driver_internal_info.boot !== undefined) await ctx.save({ driver_internal_info: withoutBoot(ctx.node) });
      await ctx.driver.management.setBootDevice(ctx, 'disk', true);
    },
    async cleanUpInstance(ctx) {
      if (ctx.node.driver_internal_info.boot !== undefined) await ctx.save({ driver_internal_info: withoutBoot(ctx.node) });
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
