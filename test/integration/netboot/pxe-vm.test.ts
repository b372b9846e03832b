// A real PXE boot: a QEMU guest (SeaBIOS + Debian's iPXE option ROM) on a tap of the leaf router
// gets its address from Anvil through ISC dhcrelay, chains to its iPXE script over HTTP, and boots
// the kernel and ramdisk Anvil serves; the ramdisk prints a marker and its command line on the
// serial console. KVM is used when /dev/kvm works and the CPU has VMX/SVM, else TCG.
import { accessSync, constants, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollNode } from './fixtures.ts';
import { canUseNetns } from './netns.ts';
import { SERVER, buildTopology, randomMac, type Topology } from './topology.ts';
import { MARKER, debianKernel, markerInitramfs } from './vm-assets.ts';

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return /\b(vmx|svm)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

describe('PXE boot of a QEMU guest through the relay', () => {
  let topo: Topology;

  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    const kernel = await debianKernel();
    topo = await buildTopology({ vmTap: true });
    copyFileSync(kernel, path.join(topo.httpRoot, 'deploy.kernel'));
    await markerInitramfs(path.join(topo.httpRoot, 'deploy.initramfs'));
    topo.ns.spawn('leaf', ['dhcrelay', '-4', '-d', '-a', '--no-pid', '-id', 'l1', '-id', 'tap0', '-iu', 'l0', SERVER]);
    // A link-local-only router advertisement spares iPXE its ~16 s wait for IPv6 autoconfiguration.
    const radvdConf = path.join(topo.dir, 'radvd.conf');
    writeFileSync(radvdConf, 'interface tap0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n};\n');
    await topo.ns.run('leaf', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    topo.ns.spawn('leaf', ['radvd', '-n', '-C', radvdConf, '-p', path.join(topo.dir, 'radvd.pid'), '-m', 'stderr']);
  }, 180000);

  afterAll(async () => {
    await topo?.stop();
  }, 20000);

  it('loads Anvil\'s kernel and ramdisk with the agent\'s arguments', async () => {
    const mac = randomMac();
    const node = await enrollNode(topo.db, { mac, state: 'deploying', driver_info: { kernel_append_params: 'console=ttyS0 quiet' } });
    const serial = path.join(topo.dir, 'serial.log');
    const accel = kvmUsable() ? 'kvm' : 'tcg';
    console.log(`PXE guest accelerator: ${accel}`);
    const qemu = topo.ns.spawn('leaf', [
      'qemu-system-x86_64', '-machine', `pc,accel=${accel}`, '-m', '512', '-smp', '1', '-display', 'none', '-monitor', 'none',
      '-serial', `file:${serial}`, '-no-reboot', '-boot', 'n',
      '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', `virtio-net-pci,netdev=n0,mac=${mac}`,
    ]);
    const started = Date.now();
    let console_ = '';
    while (!console_.includes(MARKER)) {
      if (qemu.exitCode !== null && !existsSync(serial)) throw new Error(`QEMU exited: ${(await qemu).all}`);
      if (Date.now() - started > 90000) throw new Error(`no ramdisk marker on the serial console after 90 s:\n${console_.slice(-3000)}\n--- netboot log ---\n${topo.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
      console_ = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
    }
    console.log(`PXE guest reached its ramdisk ${((Date.now() - started) / 1000).toFixed(1)} s after QEMU started`);
    const line = console_.split('\n').find((l) => l.includes(MARKER))!;
    expect(line).toContain(`ipa-api-url=http://${SERVER}:6385 ipa-node-uuid=${node.uuid} BOOTIF=${mac} console=ttyS0 quiet`);
    // The guest's iPXE got its address from the VM leaf pool, through the relay on tap0.
    expect(topo.log()).toMatch(new RegExp(`"mac":"${mac}","subnet":"vmleaf","type":"ACK"[^\\n]*"circuitId":"tap0"`));
  }, 120000);
});
