import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import type { PortRecord } from '../../../db/ports.ts';
import { getImplementation, resolveDriver } from '../../../drivers/registry.ts';
import type { TaskContext } from '../../../drivers/interfaces.ts';

function context(node: Partial<NodeRecord>): TaskContext & { node: NodeRecord } {
  const ctx = {
    node: { driver: 'fake-hardware', driver_info: {}, driver_internal_info: {}, ...node } as NodeRecord,
    ports: [] as PortRecord[],
    driver: resolveDriver({ driver: 'fake-hardware' }),
    logger: silentLogger,
    config: defaultConfig(),
    signal: new AbortController().signal,
    async save(fields: Partial<NodeRecord>) { ctx.node = { ...ctx.node, ...fields }; },
    async note() {},
  };
  return ctx;
}

describe('pxe, ipxe and http boot interfaces', () => {
  it('records the ramdisk purpose and boots from the network, then boots the disk for the instance', async () => {
    for (const name of ['pxe', 'ipxe', 'http']) {
      const boot = getImplementation('boot', name);
      const ctx = context({ driver_internal_info: { agent_url: 'http://x:9999' } });
      await boot.prepareRamdisk(ctx, 'clean');
      expect(ctx.node.driver_internal_info).toMatchObject({ agent_url: 'http://x:9999', boot: { purpose: 'clean', interface: name } });
      // Fake management has no 'uefi http': the http interface falls back to pxe.
      expect(ctx.node.driver_internal_info).toMatchObject({ fake_boot_device: 'pxe', fake_boot_persistent: false });
      await boot.cleanUpRamdisk(ctx);
      expect(ctx.node.driver_internal_info.boot).toBeUndefined();
      await boot.prepareRamdisk(ctx, 'deploy');
      await boot.prepareInstance(ctx);
      expect(ctx.node.driver_internal_info.boot).toBeUndefined();
      expect(ctx.node.driver_internal_info).toMatchObject({ agent_url: 'http://x:9999', fake_boot_device: 'disk', fake_boot_persistent: true });
    }
  });

  it('validates driver_info and refuses a node none of whose ports may PXE boot', () => {
    const boot = getImplementation('boot', 'ipxe');
    expect(() => boot.validate({ driver_info: { deploy_kernel: 5 } } as unknown as NodeRecord, [])).toThrow('driver_info.deploy_kernel must be a non-empty string');
    expect(() => boot.validate({ driver_info: {} } as NodeRecord, [{ pxe_enabled: false } as PortRecord])).toThrow('pxe_enabled');
    expect(() => boot.validate({ driver_info: { deploy_kernel: 'http://k' } } as unknown as NodeRecord, [{ pxe_enabled: true } as PortRecord])).not.toThrow();
  });
});
