import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import type { PortRecord } from '../../../db/ports.ts';
import { getImplementation, resolveDriver } from '../../../drivers/registry.ts';
import type { BootRecord, TaskContext } from '../../../drivers/interfaces.ts';

type TestContext = TaskContext & { node: NodeRecord; bootRecords: BootRecord[] };

function context(node: Partial<NodeRecord>, ports: Partial<PortRecord>[] = []): TestContext {
  const ctx: TestContext = {
    node: { driver: 'fake-hardware', driver_info: {}, driver_internal_info: {}, ...node } as NodeRecord,
    ports: ports as PortRecord[],
    driver: resolveDriver({ driver: 'fake-hardware' }),
    logger: silentLogger,
    config: defaultConfig(),
    signal: new AbortController().signal,
    bootRecords: [],
    async save(fields: Partial<NodeRecord>) { ctx.node = { ...ctx.node, ...fields }; },
    async note() {},
    async setBootRecords(records) { ctx.bootRecords = [...records]; },
    async saveBiosSettings() { throw new Error('the pxe boot interface caches no BIOS settings'); },
    async saveFirmwareComponents() { throw new Error('the pxe boot interface records no firmware'); },
  };
  return ctx;
}

const PORTS = [{ id: 1, address: '52:54:00:00:00:01', pxe_enabled: true }, { id: 2, address: '52:54:00:00:00:02', pxe_enabled: false }];

describe('pxe, ipxe and http boot interfaces', () => {
  it('write a boot record per PXE-enabled port and boot from the network, then withdraw it and boot the disk for the instance', async () => {
    for (const name of ['pxe', 'ipxe', 'http']) {
      const boot = getImplementation('boot', name);
      const ctx = context({ driver_internal_info: { agent_url: 'http://x:9999' } }, PORTS);
      await boot.prepareRamdisk(ctx, 'clean');
      expect(ctx.bootRecords).toEqual([{ kind: 'ramdisk', mac: '52:54:00:00:00:01', portId: 1, purpose: 'clean', kernel: null, initrd: null, kernelArgs: '', ipxeScript: null, bootFile: null, expiresAt: null }]);
      // Fake management has no 'uefi http': the http interface falls back to pxe.
      expect(ctx.node.driver_internal_info).toEqual({ agent_url: 'http://x:9999', fake_boot_device: 'pxe', fake_boot_persistent: false });
      await boot.cleanUpRamdisk(ctx);
      expect(ctx.bootRecords).toEqual([]);
      await boot.prepareRamdisk(ctx, 'deploy');
      expect(ctx.bootRecords).toHaveLength(1);
      await boot.prepareInstance(ctx);
      expect(ctx.bootRecords).toEqual([]);
      expect(ctx.node.driver_internal_info).toMatchObject({ agent_url: 'http://x:9999', fake_boot_device: 'disk', fake_boot_persistent: true });
      await boot.prepareRamdisk(ctx, 'deploy');
      await boot.cleanUpInstance(ctx);
      expect(ctx.bootRecords).toEqual([]);
    }
  });

  it('boots the rescue ramdisk of driver_info for rescue, the deploy ramdisk otherwise, with the node\'s kernel arguments', async () => {
    const boot = getImplementation('boot', 'ipxe');
    const driver_info = { deploy_kernel: 'k', deploy_ramdisk: 'http://r', rescue_kernel: 'rk', kernel_append_params: 'nofb' };
    const ctx = context({ driver_info }, PORTS);
    await boot.prepareRamdisk(ctx, 'rescue');
    expect(ctx.bootRecords[0]).toMatchObject({ purpose: 'rescue', kernel: 'rk', initrd: 'http://r', kernelArgs: 'nofb' });
    await boot.prepareRamdisk(ctx, 'inspect');
    expect(ctx.bootRecords[0]).toMatchObject({ purpose: 'inspect', kernel: 'k', initrd: 'http://r', kernelArgs: 'nofb' });
  });

  it('validates driver_info and refuses a node none of whose ports may PXE boot', () => {
    const boot = getImplementation('boot', 'ipxe');
    expect(() => boot.validate({ driver_info: { deploy_kernel: 5 } } as unknown as NodeRecord, [])).toThrow('driver_info.deploy_kernel must be a non-empty string');
    expect(() => boot.validate({ driver_info: {} } as NodeRecord, [{ pxe_enabled: false } as PortRecord])).toThrow('pxe_enabled');
    expect(() => boot.validate({ driver_info: { deploy_kernel: 'http://k' } } as unknown as NodeRecord, [{ pxe_enabled: true } as PortRecord])).not.toThrow();
  });
});
