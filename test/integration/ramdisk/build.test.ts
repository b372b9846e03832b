// The ramdisk builder on this machine: what goes into the initramfs, and the cache (the same inputs
// give the same build, found again without rebuilding). That it boots is proven by
// test/integration/qemu (self-test mode) and test/e2e (the agent).
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRamdisk, type Ramdisk } from '../../../ramdisk/build.ts';

let ramdisk: Ramdisk;
let listing: string[];

beforeAll(async () => {
  ramdisk = await buildRamdisk();
  const { stdout } = await execa('sh', ['-c', `zstd -dc "${ramdisk.initramfs}" | busybox cpio -t 2>/dev/null`], { maxBuffer: 64 * 1024 * 1024 });
  listing = stdout.split('\n');
}, 600_000);

describe('deploy ramdisk build', () => {
  it('holds the init, the agent launcher, bundle and code cache, node, qemu-img, sfdisk and busybox with its applets', () => {
    for (const path of ['init', 'anvil-agent.cjs', 'usr/lib/anvil-agent/agent.cjs', 'usr/lib/anvil-agent/agent.cjs.cache', 'usr/bin/node', 'usr/bin/qemu-img', 'usr/bin/sfdisk', 'usr/bin/busybox', 'usr/bin/udhcpc', 'usr/bin/modprobe', 'usr/bin/blockdev', 'etc/anvil/udhcpc.sh', 'usr/bin/dhclient', 'etc/anvil/dhcp6.sh', 'etc/anvil/dhclient6-hook.sh', 'etc/anvil/dhclient6.conf']) {
      expect(listing, path).toContain(path);
    }
  });

  it('holds the debugfs and isoinfo install_coreos runs, the plugin built into the agent bundle (no plugin folder without extra plugins)', () => {
    for (const path of ['usr/bin/debugfs', 'usr/bin/isoinfo', 'usr/lib/x86_64-linux-gnu/libext2fs.so.2']) expect(listing, path).toContain(path);
    expect(listing.filter((path) => path.startsWith('usr/lib/anvil-agent/plugins'))).toEqual([]);
  });

  it('holds the shared libraries node and qemu-img load, under the merged /usr', () => {
    expect(listing).toContain('usr/lib64/ld-linux-x86-64.so.2');
    for (const lib of ['libstdc++.so.6', 'libc.so.6', 'libglib-2.0.so.0', 'libgnutls.so.30']) expect(listing).toContain(`usr/lib/x86_64-linux-gnu/${lib}`);
    expect(listing).toEqual(expect.arrayContaining(['lib', 'lib64', 'bin', 'sbin']));
  });

  it('holds the kernel modules of virtual and common server hardware, with their index', () => {
    const modules = `usr/lib/modules/${ramdisk.kernelVersion}`;
    for (const file of ['modules.dep', 'modules.alias', 'kernel/drivers/net/virtio_net.ko', 'kernel/drivers/block/virtio_blk.ko', 'kernel/drivers/nvme/host/nvme.ko', 'kernel/drivers/net/ethernet/intel/igb/igb.ko']) {
      expect(listing).toContain(`${modules}/${file}`);
    }
  });

  it('is found again in the cache for the same inputs', async () => {
    const again = await buildRamdisk();
    expect(again).toMatchObject({ key: ramdisk.key, kernel: ramdisk.kernel, initramfs: ramdisk.initramfs, cached: true });
    console.log(`ramdisk: kernel ${(ramdisk.kernelBytes / 2 ** 20).toFixed(1)} MiB, initramfs ${(ramdisk.initramfsBytes / 2 ** 20).toFixed(1)} MiB (zstd)`);
  }, 120_000);
});
