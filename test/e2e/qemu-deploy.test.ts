// A real deploy, end to end: a QEMU virtual machine (TCG) behind the simulated Redfish BMC boots
// from the network through ISC dhcrelay, runs Anvil's agent ramdisk, is inspected, cleaned and
// deployed with a bootable qcow2 image (support/os-image.ts) and a config drive, boots that OS, which
// reports the config drive's hostname, user-data output and static address on its serial console,
// and is cleaned again when undeployed. The disk is checked on the host with qemu-img. Second case, the same machine: deployed as OpenShift
// deploys (custom-agent with install_coreos) with a CoreOS-layout image and an Ignition config; the
// image boots (GRUB in BIOS-BOOT, the kernel and initramfs on its boot file system) and its first
// boot applies the config as Ignition does (files, a user with an SSH key, a unit's ExecStart) and
// reports it on the serial console; the disk is then read back with debugfs. Prints the time of each phase. `anvil all-in-one` runs fast track, so
// inspection, cleaning and the deploy run on one ramdisk boot, and so do the undeploy's cleaning
// and the second deploy. ANVIL_E2E_POWER=ovirt puts the machine
// behind the simulated oVirt Engine instead, as its VM, enrolled with the ovirt driver.
// The network, Anvil and the BMC are the rig of support/rig.ts.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugfsCat, debugfsMode, makeCoreosImage, type CoreosImage } from '../helpers/coreos-image.ts';
import { buildCoreosBoot, buildOsImage, expectOsReport, OS_IMAGE_ESP, OS_USER_DATA, type OsImage } from './support/os-image.ts';
import { qcow2InstanceInfo } from './support/payload-image.ts';
import { rawView, readSectors, startQemuRig, type QemuRig } from './support/rig.ts';

const VM_CPUS = 2;
const VM_MEMORY_MB = 1024;
const DISK_BYTES = 5 * 1024 ** 3;
/** The static address network_data gives the deployed OS (TEST-NET-1: nothing routes it). */
const STATIC_ADDRESS = '192.0.2.10';
const MIB = 1024 * 1024;
const POWER = process.env.ANVIL_E2E_POWER === 'ovirt' ? 'ovirt' : 'redfish';

let rig: QemuRig;
let nodeUuid: string;
let os: OsImage;
let coreos: CoreosImage;
let configDriveStart = 0;

const provision = (target: string, extra: Record<string, unknown> = {}) => rig.provision(nodeUuid, target, extra);
const waitForState = (state: string, limitSec: number) => rig.waitForState(nodeUuid, state, limitSec);
/** How many times the machine booted the agent ramdisk so far (the ramdisk's init says so on the serial console). */
const ramdiskBoots = async () => ((await readFile(rig.machine.consoleLog, 'latin1').catch(() => '')).match(/anvil-ramdisk: \[[\d.]+\] starting the agent/g) ?? []).length;

/** A GPT partition entry of a disk's first 34 sectors (protective MBR, header, entries): first sector, sectors, name. */
function gptEntry(head: Buffer, index: number): { start: number; sectors: number; name: string } {
  const entries = Number(head.readBigUInt64LE(512 + 72)) * 512;
  const at = entries + index * head.readUInt32LE(512 + 84);
  const start = Number(head.readBigUInt64LE(at + 32));
  return { start, sectors: Number(head.readBigUInt64LE(at + 40)) - start + 1, name: head.subarray(at + 56, at + 128).toString('utf16le').replace(/\0+$/, '') };
}

beforeAll(async () => {
  rig = await startQemuRig({ name: 'vm', power: POWER, cpus: VM_CPUS, memoryMb: VM_MEMORY_MB, diskBytes: DISK_BYTES });
  os = await rig.timed('build the instance OS image (cached after the first run)', () => buildOsImage());
  // The CoreOS image boots (GRUB from BIOS-BOOT, the kernel and initramfs on its boot file system) into coreos-init.sh.
  coreos = await makeCoreosImage(join(rig.dir, 'coreos'), { boot: { ...(await buildCoreosBoot(join(rig.dir, 'coreos'))), cmdline: 'console=ttyS0 quiet' } });
}, 900_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

describe('a real deploy to a QEMU machine through a DHCP relay', () => {
  it(`enrolls the machine with the ${POWER} driver and verifies its BMC`, async () => {
    nodeUuid = await rig.timed('enroll and manage', () => rig.enroll());
  }, 120_000);

  it('inspects it: the agent reports the machine\'s real CPUs, memory and disk', async () => {
    const node = await rig.timed('inspect (PXE boot, agent inventory)', async () => {
      await provision('inspect');
      return waitForState('manageable', 300);
    });
    const inventory = (await rig.api.get(`/v1/nodes/${nodeUuid}/inventory`)).data.inventory;
    expect(inventory.cpu.count).toBe(VM_CPUS);
    expect(inventory.memory.physical_mb).toBeGreaterThan(VM_MEMORY_MB * 0.8);
    expect(inventory.memory.physical_mb).toBeLessThanOrEqual(VM_MEMORY_MB);
    expect(inventory.disks).toEqual(expect.arrayContaining([expect.objectContaining({ name: '/dev/vda', size: DISK_BYTES })]));
    expect(inventory.interfaces).toEqual(expect.arrayContaining([expect.objectContaining({ mac_address: rig.mac })]));
    expect(node.properties).toMatchObject({ cpus: VM_CPUS, local_gb: expect.any(Number) });
  }, 330_000);

  it('provides it: automated cleaning through the agent the inspection booted (fast track)', async () => {
    await rig.timed('provide (cleaning through the agent)', async () => {
      await provision('provide');
      await waitForState('available', 300);
    });
    // The agent stays up for the deploy.
    expect(await rig.machine.powerState()).toBe('on');
    expect(await ramdiskBoots()).toBe(1);
  }, 330_000);

  it('deploys a bootable qcow2 image with a config drive, reaches active and boots it: the OS reports its config drive', async () => {
    const consoleBefore = await rig.consoleLength();
    await rig.timed('deploy (image and config drive)', async () => {
      const patch = await rig.api.patch(`/v1/nodes/${nodeUuid}`, qcow2InstanceInfo(os));
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      await provision('active', {
        configdrive: {
          meta_data: { uuid: nodeUuid, hostname: 'e2e-vm' },
          user_data: OS_USER_DATA,
          network_data: {
            links: [{ id: 'nic0', type: 'phy', ethernet_mac_address: rig.mac, mtu: 1500 }],
            networks: [{ id: 'net0', type: 'ipv4', link: 'nic0', ip_address: STATIC_ADDRESS, netmask: '255.255.255.0', routes: [] }],
            services: [],
          },
        },
      });
      await waitForState('active', 300);
    });
    // Inspection, cleaning and the deploy ran on one ramdisk boot.
    expect(await ramdiskBoots()).toBe(1);
    // boot_instance powered the machine on from its disk: SYSLINUX, the kernel, the OS's first boot.
    const report = await rig.timed('instance boot to its first-boot report', () => rig.consoleUntil(consoleBefore, 'anvil-os: first boot done', 180));
    expectOsReport(report, { firmware: 'bios', hostname: 'e2e-vm', address: STATIC_ADDRESS });
    await rig.powerOff(nodeUuid);

    const disk = rig.disk;
    const image = os.qcow2;
    // The image's EFI System Partition (SYSLINUX, GRUB, kernel, initramfs) is on the disk byte for byte.
    const compare = await execa('qemu-img', ['compare', '-U', '--image-opts', rawView(image, OS_IMAGE_ESP.offset, OS_IMAGE_ESP.size), rawView(disk, OS_IMAGE_ESP.offset, OS_IMAGE_ESP.size)], { reject: false });
    expect(compare.stdout).toContain('Images are identical');
    // The protective MBR keeps the image's boot code (gptmbr); the GPT gained the config drive partition at the disk's end.
    const head = await readSectors(disk, 0, 34);
    expect(head.subarray(0, 440).equals((await readSectors(image, 0, 1)).subarray(0, 440))).toBe(true);
    expect(gptEntry(head, 0)).toEqual({ start: OS_IMAGE_ESP.offset / 512, sectors: OS_IMAGE_ESP.size / 512, name: 'ANVIL-OS' });
    const cd = gptEntry(head, 1);
    expect(cd).toMatchObject({ sectors: (64 * MIB) / 512, name: 'config-2' });
    const { start: cdStart, sectors: cdSectors } = cd;
    configDriveStart = cdStart;
    expect((cdStart + cdSectors) * 512).toBeLessThanOrEqual(DISK_BYTES - 33 * 512);
    // The config drive reads back as the ISO Anvil built.
    const iso = join(rig.dir, 'configdrive.iso');
    await writeFile(iso, await readSectors(disk, cdStart, cdSectors));
    expect((await execa('isoinfo', ['-d', '-i', iso])).stdout).toMatch(/Volume id: config-2/);
    const meta = JSON.parse((await execa('isoinfo', ['-R', '-i', iso, '-x', '/openstack/latest/meta_data.json'])).stdout);
    expect(meta).toMatchObject({ uuid: nodeUuid, hostname: 'e2e-vm' });
    expect(`${(await execa('isoinfo', ['-R', '-i', iso, '-x', '/openstack/latest/user_data'])).stdout}\n`).toBe(OS_USER_DATA);
  }, 330_000);

  it('undeploys it: cleaning erases the disk\'s metadata', async () => {
    await rig.timed('undeploy (cleaning through the agent)', async () => {
      await provision('deleted');
      await waitForState('available', 300);
    });
    const disk = rig.disk;
    expect((await readSectors(disk, 0, 2048)).equals(Buffer.alloc(MIB))).toBe(true);
    expect((await readSectors(disk, DISK_BYTES / 512 - 2048, 2048)).equals(Buffer.alloc(MIB))).toBe(true);
    // The config drive partition's start is wiped too (its ISO header is gone).
    expect((await readSectors(disk, configDriveStart, 2048)).equals(Buffer.alloc(MIB))).toBe(true);
  }, 330_000);
});

describe('the same machine deployed as OpenShift deploys: custom-agent with install_coreos', () => {
  // An Ignition v3 config using files (plain and base64 data URLs, modes), a user with an SSH key and a unit.
  const hello = '#!/bin/sh\necho "hello from $(hostname) as $(id -un)"\n';
  const ignition = JSON.stringify({
    ignition: { version: '3.4.0' },
    storage: {
      files: [
        { path: '/etc/hostname', mode: 0o644, contents: { source: 'data:,e2e-coreos' } },
        { path: '/usr/local/bin/hello', mode: 0o755, contents: { source: `data:;base64,${Buffer.from(hello).toString('base64')}` } },
      ],
    },
    passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnvilE2eTestKeyOnly core@e2e'] }] },
    systemd: { units: [{ name: 'hello.service', enabled: true, contents: '[Unit]\nDescription=Hello\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/hello\n[Install]\nWantedBy=multi-user.target\n' }] },
  });

  it('writes the CoreOS image and the Ignition config where CoreOS\'s first boot reads it, and the booted image applies it', async () => {
    const consoleBefore = await rig.consoleLength();
    await rig.timed('deploy (custom-agent, install_coreos)', async () => {
      const patch = await rig.api.patch(`/v1/nodes/${nodeUuid}`, [
        { op: 'replace', path: '/deploy_interface', value: 'custom-agent' },
        ...qcow2InstanceInfo(coreos),
      ]);
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      await provision('active', { configdrive: { user_data: ignition }, deploy_steps: [{ interface: 'deploy', step: 'install_coreos', args: {}, priority: 80 }] });
      await waitForState('active', 300);
    });
    // The undeploy's cleaning booted the ramdisk once more; this deploy reused that agent.
    expect(await ramdiskBoots()).toBe(2);
    // boot_instance started the machine from its disk: GRUB, the kernel, and the first boot reading ignition/config.ign.
    const report = await rig.timed('CoreOS boot to its Ignition report', () => rig.consoleUntil(consoleBefore, 'anvil-coreos: ignition done', 300));
    expect(report).toMatch(/anvil-coreos: Ignition config on \/dev\/vda3, version 3\.4\.0\r?\n/);
    expect(report).toMatch(/anvil-coreos: file \/etc\/hostname mode 644, 10 bytes\r?\n/);
    expect(report).toMatch(new RegExp(`anvil-coreos: file /usr/local/bin/hello mode 755, ${hello.length} bytes\r?\n`));
    expect(report).toMatch(/anvil-coreos: hostname e2e-coreos\r?\n/);
    expect(report).toMatch(/anvil-coreos: user core uid 1000, 1 SSH key\(s\)\r?\n/);
    expect(report).toMatch(/anvil-coreos: unit hello.service: hello from e2e-coreos as root\r?\n/);
    await rig.powerOff(nodeUuid);

    const disk = rig.disk;
    // Before the boot partition and the root partition: the image, byte for byte.
    const same = (offset: number, size: number) => execa('qemu-img', ['compare', '-U', '--image-opts', rawView(coreos.qcow2, offset, size), rawView(disk, offset, size)], { reject: false });
    expect((await same(0, coreos.boot!.offset)).stdout).toContain('Images are identical');
    expect((await same(coreos.root.offset, coreos.root.size)).stdout).toContain('Images are identical');
    // The boot file system, read back without mounting: the Ignition config as coreos-installer leaves it.
    const boot = join(rig.dir, 'boot.ext4');
    await writeFile(boot, await readSectors(disk, coreos.boot!.offset / 512, coreos.boot!.size / 512));
    expect(await debugfsCat(boot, 0, 'ignition/config.ign')).toBe(ignition);
    expect(await debugfsMode(boot, 0, 'ignition/config.ign')).toEqual({ mode: '0600', uid: 0, gid: 0 });
    expect(await debugfsMode(boot, 0, 'ignition')).toEqual({ mode: '0700', uid: 0, gid: 0 });
    expect(await debugfsCat(boot, 0, 'loader/entries/ostree-1.conf')).toContain('title Fedora CoreOS');
  }, 660_000);
});
