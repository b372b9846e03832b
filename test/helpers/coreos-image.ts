// A small disk image laid out as CoreOS's are (GPT: BIOS-BOOT, EFI-SYSTEM, boot as ext4 labelled
// boot, root), made with Debian's sfdisk and mke2fs, and the readers the install_coreos tests check
// a written disk with (debugfs, no mounting). With `boot` files it also boots as CoreOS does, from
// GRUB to the kernel and initramfs on the boot file system: on BIOS through GRUB's boot.img in the
// protective MBR and a core.img filling BIOS-BOOT (laid out as grub-install does), on UEFI through
// \EFI\BOOT\BOOTX64.EFI on EFI-SYSTEM; both a standalone GRUB (images/boot-iso.ts).
import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { standaloneGrub } from '../../images/boot-iso.ts';

const MIB = 1024 * 1024;

export interface CoreosImage {
  raw: string;
  qcow2: string;
  /** sha256 of the qcow2. */
  sha256: string;
  bytes: number;
  /** Byte offsets and sizes of the boot and root partitions (absent without a boot partition). */
  boot?: { offset: number; size: number };
  root: { offset: number; size: number };
  /** The text of /etc/os-release in the root file system. */
  osRelease: string;
}

/** The kernel and initramfs a bootable image carries on its boot file system, and their command line. */
export interface CoreosBootFiles { kernel: string; initrd: string; cmdline: string }

const BIOS_BOOT_SECTOR = 2048;
const BIOS_BOOT_SECTORS = 2048;
const GRUB_PC = '/usr/lib/grub/i386-pc';

/** GRUB's configuration: the boot file system by its label, then CoreOS's kernel and initramfs from it. */
function grubConfig(cmdline: string): string {
  return `set timeout=0\nsearch --no-floppy --label boot --set=root\nlinux /ostree/vmlinuz ${cmdline}\ninitrd /ostree/initramfs.img\nboot\n`;
}

/**
 * GRUB for BIOS on a GPT disk as grub-bios-setup lays it out: boot.img's code in the MBR with the
 * first sector of core.img (at 0x5c, GRUB_BOOT_MACHINE_KERNEL_SECTOR), core.img in BIOS-BOOT, its
 * first sector's blocklist (the last 12 bytes: start, sectors, load segment 0x820) naming the rest.
 */
async function installBiosGrub(raw: string, coreImg: string): Promise<void> {
  const boot = await readFile(path.join(GRUB_PC, 'boot.img'));
  const core = await readFile(coreImg);
  const sectors = Math.ceil(core.length / 512);
  if (sectors > BIOS_BOOT_SECTORS) throw new Error(`GRUB's core.img (${core.length} bytes) does not fit the BIOS boot partition`);
  boot.writeBigUInt64LE(BigInt(BIOS_BOOT_SECTOR), 0x5c);
  core.writeBigUInt64LE(BigInt(BIOS_BOOT_SECTOR + 1), 500);
  core.writeUInt16LE(sectors - 1, 508);
  core.writeUInt16LE(0x820, 510);
  const fh = await open(raw, 'r+');
  try {
    await fh.write(boot, 0, 440, 0);
    await fh.write(core, 0, core.length, BIOS_BOOT_SECTOR * 512);
  } finally {
    await fh.close();
  }
}

/**
 * Builds it in `dir`: 48 MiB, 1 MiB BIOS-BOOT, 8 MiB EFI-SYSTEM, 16 MiB boot (ext4 labelled boot,
 * holding a loader entry), root (ext4 labelled root, holding /etc/os-release). `withoutBoot`: the
 * boot partition and file system are left out (an image install_coreos must refuse).
 */
export async function makeCoreosImage(dir: string, opts: { withoutBoot?: boolean; name?: string; boot?: CoreosBootFiles } = {}): Promise<CoreosImage> {
  const name = opts.name ?? (opts.withoutBoot ? 'noboot' : 'coreos');
  await mkdir(dir, { recursive: true });
  const raw = path.join(dir, `${name}.raw`);
  // A bootable image's boot file system holds a kernel and an initramfs: 64 MiB instead of 16.
  const bootSectors = opts.boot ? 131072 : 32768;
  const rootStart = 20480 + bootSectors;
  const bytes = (opts.boot ? 96 : 48) * MIB;
  await execa('truncate', ['-s', String(bytes), raw]);
  const table = [
    'label: gpt',
    `start=${BIOS_BOOT_SECTOR}, size=${BIOS_BOOT_SECTORS}, type=21686148-6449-6E6F-744E-656564454649, name=BIOS-BOOT`,
    'start=4096, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI-SYSTEM',
    ...(opts.withoutBoot ? [] : [`start=20480, size=${bootSectors}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=boot`]),
    `start=${rootStart}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root`,
  ];
  await execa('sfdisk', ['-q', raw], { input: `${table.join('\n')}\n` });
  const tree = path.join(dir, `${name}-trees`);
  const osRelease = `NAME="Fedora CoreOS (Anvil test image ${name})"\nID=fedora\nVARIANT_ID=coreos\n`;
  await mkdir(path.join(tree, 'boot', 'loader', 'entries'), { recursive: true });
  await mkdir(path.join(tree, 'root', 'etc'), { recursive: true });
  await writeFile(path.join(tree, 'boot', 'loader', 'entries', 'ostree-1.conf'), `title Fedora CoreOS\nlinux /ostree/vmlinuz\n${opts.boot ? `initrd /ostree/initramfs.img\noptions ${opts.boot.cmdline}\n` : ''}`);
  if (opts.boot) {
    await mkdir(path.join(tree, 'boot', 'ostree'));
    await copyFile(opts.boot.kernel, path.join(tree, 'boot', 'ostree', 'vmlinuz'));
    await copyFile(opts.boot.initrd, path.join(tree, 'boot', 'ostree', 'initramfs.img'));
  }
  await writeFile(path.join(tree, 'root', 'etc', 'os-release'), osRelease);
  const root = { offset: rootStart * 512, size: bytes - rootStart * 512 - 34 * 512 };
  const boot = opts.withoutBoot ? undefined : { offset: 20480 * 512, size: bootSectors * 512 };
  // mke2fs writes into the image at the partition's offset (-E offset) from a directory (-d).
  const mkfs = (label: string, from: string, part: { offset: number; size: number }) =>
    execa('mkfs.ext4', ['-q', '-F', '-L', label, '-d', from, '-E', `offset=${part.offset}`, raw, `${Math.floor(part.size / 1024)}k`]);
  if (boot) await mkfs('boot', path.join(tree, 'boot'), boot);
  await mkfs('root', path.join(tree, 'root'), root);
  if (opts.boot) {
    const config = grubConfig(opts.boot.cmdline);
    await standaloneGrub('i386-pc', config, path.join(tree, 'core.img'));
    await installBiosGrub(raw, path.join(tree, 'core.img'));
    // EFI-SYSTEM: FAT holding the UEFI GRUB, made apart (mtools work on a file) and written into its partition.
    await standaloneGrub('x86_64-efi', config, path.join(tree, 'BOOTX64.EFI'));
    const esp = path.join(tree, 'esp.img');
    await execa('mkfs.vfat', ['-C', '-n', 'EFI-SYSTEM', esp, String((16384 * 512) / 1024)]);
    await execa('mmd', ['-i', esp, '::/EFI', '::/EFI/BOOT']);
    await execa('mcopy', ['-i', esp, path.join(tree, 'BOOTX64.EFI'), '::/EFI/BOOT/BOOTX64.EFI']);
    await execa('dd', [`if=${esp}`, `of=${raw}`, 'bs=512', 'seek=4096', 'conv=notrunc', 'status=none']);
  }
  await rm(tree, { recursive: true, force: true });
  const qcow2 = path.join(dir, `${name}.qcow2`);
  await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { raw, qcow2, sha256: createHash('sha256').update(await readFile(qcow2)).digest('hex'), bytes, boot, root, osRelease };
}

/** A file of the ext4 file system at `offset` of a raw disk, read with debugfs (null when it is not there). */
export async function debugfsCat(disk: string, offset: number, file: string): Promise<string | null> {
  const stat = await execa('debugfs', ['-R', `stat ${file}`, `${disk}?offset=${offset}`], { reject: false });
  if (/File not found/.test(stat.stderr)) return null;
  return (await execa('debugfs', ['-R', `cat ${file}`, `${disk}?offset=${offset}`])).stdout;
}

/** Mode (octal, e.g. "0600") and owner of a file of that file system, from debugfs stat. */
export async function debugfsMode(disk: string, offset: number, file: string): Promise<{ mode: string; uid: number; gid: number }> {
  const out = (await execa('debugfs', ['-R', `stat ${file}`, `${disk}?offset=${offset}`])).stdout;
  const mode = /Mode:\s+(\d+)/.exec(out)?.[1];
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  if (!mode || !owner) throw new Error(`debugfs stat ${file} did not say its mode and owner:\n${out}`);
  return { mode, uid: Number(owner[1]), gid: Number(owner[2]) };
}
