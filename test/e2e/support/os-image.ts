// The e2e tests' instance OS: a small whole-disk image made from Debian packages, nothing mounted,
// that boots on BIOS and on UEFI alike (a hybrid GPT disk). Its GPT has one EFI System Partition
// (FAT) marked legacy-BIOS-bootable; the protective MBR holds syslinux's gptmbr.bin, which starts
// SYSLINUX in that partition on BIOS, while UEFI firmware runs \EFI\BOOT\BOOTX64.EFI from it, a
// standalone GRUB (images/boot-iso.ts). Both load the Debian kernel the ramdisk uses and a tiny
// initramfs (static busybox, the virtio and ISO 9660 modules, os-init.sh as /init) whose first boot
// reads the config drive as cloud-init does and reports it on ttyS0 ("anvil-os: ..." lines).
// Cached under .cache/os-image by the hash of its inputs.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect } from 'vitest';
import { grubConfig, INITRAMFS, isolinuxConfig, KERNEL, standaloneGrub } from '../../../images/boot-iso.ts';
import { busyboxEntries, compress, DEFAULT_CACHE_DIR, fetchKernel, hostProgramEntries, moduleEntries, REPO_ROOT } from '../../../ramdisk/build.ts';
import type { CpioEntry } from '../../../ramdisk/cpio.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE = join(REPO_ROOT, '.cache', 'os-image');
/** What the OS needs of the kernel's modules: the virtio disk and NIC, and the config drive's file system. */
const MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'isofs'];
/** syslinux's MBR boot code for GPT disks: it boots the partition whose GPT attributes say legacy BIOS bootable. */
const SYSLINUX_GPT_MBR = '/usr/lib/syslinux/mbr/gptmbr.bin';
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const MIB = 1024 * 1024;
/** The image: 64 MiB, its EFI System Partition from 1 MiB, 30 MiB long. */
export const OS_IMAGE_BYTES = 64 * MIB;
const PART_START = 2048;
const PART_SECTORS = 61440;
/** Where the EFI System Partition lies in the image, in bytes (the part of it a deploy leaves as it is). */
export const OS_IMAGE_ESP = { offset: PART_START * 512, size: PART_SECTORS * 512 };

const CMDLINE = 'console=ttyS0 quiet';
/** SYSLINUX's and GRUB's configurations: the same kernel, initramfs and command line. */
const SYSLINUX_CFG = `SERIAL 0 115200\n${isolinuxConfig(CMDLINE)}`;
const GRUB_CFG = grubConfig(CMDLINE);

/** User data for a deploy of this OS: a script its first boot runs, which says where and as whom. */
export const OS_USER_DATA = '#!/bin/sh\necho "user-data ran on $(hostname) as uid $(id -u)"\n';

/** Checks the OS's first-boot report (the serial console since the instance boot) against what its config drive gave. */
export function expectOsReport(report: string, want: { firmware: 'bios' | 'uefi'; hostname: string; address: string }): void {
  expect(report).toContain(want.firmware === 'bios' ? 'SYSLINUX' : 'Welcome to GRUB!');
  expect(report).toMatch(new RegExp(`anvil-os: firmware ${want.firmware}\r?\n`));
  expect(report).toMatch(new RegExp(`anvil-os: hostname ${want.hostname}\r?\n`));
  expect(report).toMatch(new RegExp(`anvil-os: address eth0 ${want.address.replace(/\./g, '\\.')}/24\r?\n`));
  expect(report).toMatch(new RegExp(`anvil-os: user-data: user-data ran on ${want.hostname} as uid 0\r?\n`));
}

export interface OsImage {
  qcow2: string;
  sha256: string;
  /** true when it came from the cache. */
  cached: boolean;
}

type Kernel = { root: string; version: string };

/** A tiny initramfs: static busybox, `init` (a script of this folder) as /init, the kernel modules it loads, and host programs with their libraries. */
async function initramfsEntries(tmp: string, kernel: Kernel, init: string, modules: readonly string[], programs: readonly string[] = []): Promise<CpioEntry[]> {
  return [
    { type: 'symlink', path: 'bin', target: 'usr/bin' },
    { type: 'symlink', path: 'sbin', target: 'usr/bin' },
    { type: 'symlink', path: 'usr/sbin', target: 'bin' },
    { type: 'symlink', path: 'lib', target: 'usr/lib' },
    { type: 'symlink', path: 'lib64', target: 'usr/lib64' },
    ...['dev', 'proc', 'sys', 'run', 'root', 'mnt', 'tmp'].map((path): CpioEntry => ({ type: 'dir', path })),
    { type: 'file', path: 'init', mode: 0o755, data: await readFile(join(HERE, init)) },
    { type: 'file', path: 'etc/anvil-os/modules', data: Buffer.from(`${modules.join('\n')}\n`) },
    ...(await busyboxEntries()),
    ...(await moduleEntries(kernel.root, kernel.version, tmp, modules)),
    ...(await hostProgramEntries(programs, tmp)).entries,
  ];
}

/** What the CoreOS image's first boot needs: the virtio disk, ext4 for the boot file system, and jq to read the Ignition config. */
const COREOS_MODULES = ['virtio_pci', 'virtio_blk', 'ext4', 'crc32c_generic'];

/**
 * The kernel and initramfs (coreos-init.sh as /init) of the e2e CoreOS image, written into `dir`:
 * its first boot applies the Ignition config install_coreos left on the boot file system.
 * The ramdisk's kernel must have been fetched (buildRamdisk).
 */
export async function buildCoreosBoot(dir: string): Promise<{ kernel: string; initrd: string }> {
  const tmp = join(dir, 'coreos-boot-tmp');
  await mkdir(tmp, { recursive: true });
  try {
    const kernel = await fetchKernel(DEFAULT_CACHE_DIR, undefined, () => {});
    const initrd = join(dir, 'coreos-initramfs.img');
    await compress(await initramfsEntries(tmp, kernel, 'coreos-init.sh', COREOS_MODULES, ['/usr/bin/jq']), initrd);
    return { kernel: kernel.vmlinuz, initrd };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function inputsHash(entries: CpioEntry[], ...parts: Buffer[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`${e.type}\0${e.path}\0${'mode' in e ? e.mode : ''}\0`);
    hash.update(e.type === 'file' ? e.data : e.type === 'symlink' ? e.target : '');
  }
  return hash.digest('hex');
}

/** Builds the OS image (or finds it in the cache). The ramdisk's kernel must have been fetched (buildRamdisk). */
export async function buildOsImage(): Promise<OsImage> {
  const tmp = join(CACHE, 'tmp', String(process.pid));
  await mkdir(tmp, { recursive: true });
  try {
    const kernel = await fetchKernel(DEFAULT_CACHE_DIR, undefined, () => {});
    const entries = await initramfsEntries(tmp, kernel, 'os-init.sh', MODULES);
    const vmlinuz = await readFile(kernel.vmlinuz);
    const versions = [(await execa('syslinux', ['--version'], { reject: false })).stderr, (await execa('grub-mkstandalone', ['--version'])).stdout];
    const key = inputsHash(entries, vmlinuz, Buffer.from(SYSLINUX_CFG + GRUB_CFG + versions.join('\n')), await readFile(SYSLINUX_GPT_MBR));
    const out = join(CACHE, key.slice(0, 16));
    const qcow2 = join(out, 'os.qcow2');
    if (existsSync(join(out, 'sha256'))) return { qcow2, sha256: (await readFile(join(out, 'sha256'), 'utf8')).trim(), cached: true };

    const initrd = join(tmp, 'initrd.img');
    await compress(entries, initrd);
    const cfg = join(tmp, 'syslinux.cfg');
    await writeFile(cfg, SYSLINUX_CFG);
    await writeFile(join(tmp, 'vmlinuz'), vmlinuz);
    const grub = join(tmp, 'BOOTX64.EFI');
    await standaloneGrub('x86_64-efi', GRUB_CFG, grub);
    // The FAT file system alone first (mtools and syslinux's installer work on a file), then into the disk.
    const fat = join(tmp, 'fat.img');
    await execa('mkfs.vfat', ['-C', '-n', 'ANVILOS', fat, String((PART_SECTORS * 512) / 1024)]);
    await execa('mmd', ['-i', fat, '::/anvil', '::/EFI', '::/EFI/BOOT']);
    await execa('mcopy', ['-i', fat, join(tmp, 'vmlinuz'), `::/${KERNEL}`]);
    await execa('mcopy', ['-i', fat, initrd, `::/${INITRAMFS}`]);
    await execa('mcopy', ['-i', fat, cfg, '::/syslinux.cfg']);
    await execa('mcopy', ['-i', fat, grub, '::/EFI/BOOT/BOOTX64.EFI']);
    await execa('syslinux', ['--install', fat]);
    const raw = join(tmp, 'os.raw');
    await execa('truncate', ['-s', String(OS_IMAGE_BYTES), raw]);
    await execa('sfdisk', ['-q', raw], { input: `label: gpt\nstart=${PART_START}, size=${PART_SECTORS}, type=${ESP_TYPE}, name=ANVIL-OS, attrs=LegacyBIOSBootable\n` });
    await execa('dd', [`if=${SYSLINUX_GPT_MBR}`, `of=${raw}`, 'bs=440', 'count=1', 'conv=notrunc', 'status=none']);
    await execa('dd', [`if=${fat}`, `of=${raw}`, 'bs=1M', `seek=${(PART_START * 512) / MIB}`, 'conv=notrunc', 'status=none']);
    await mkdir(out, { recursive: true });
    await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, `${qcow2}.partial`]);
    await rename(`${qcow2}.partial`, qcow2);
    const sha256 = createHash('sha256').update(await readFile(qcow2)).digest('hex');
    await writeFile(join(out, 'sha256'), `${sha256}\n`);
    return { qcow2, sha256, cached: false };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
