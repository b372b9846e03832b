// A small disk image laid out as CoreOS's are (GPT: BIOS-BOOT, EFI-SYSTEM, boot as ext4 labelled
// boot, root), made with Debian's sfdisk and mke2fs, and the readers the install_coreos tests check
// a written disk with (debugfs, no mounting).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

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

/**
 * Builds it in `dir`: 48 MiB, 1 MiB BIOS-BOOT, 8 MiB EFI-SYSTEM, 16 MiB boot (ext4 labelled boot,
 * holding a loader entry), root (ext4 labelled root, holding /etc/os-release). `withoutBoot`: the
 * boot partition and file system are left out (an image install_coreos must refuse).
 */
export async function makeCoreosImage(dir: string, opts: { withoutBoot?: boolean; name?: string } = {}): Promise<CoreosImage> {
  const name = opts.name ?? (opts.withoutBoot ? 'noboot' : 'coreos');
  await mkdir(dir, { recursive: true });
  const raw = path.join(dir, `${name}.raw`);
  const bytes = 48 * MIB;
  await execa('truncate', ['-s', String(bytes), raw]);
  const table = [
    'label: gpt',
    'start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=BIOS-BOOT',
    'start=4096, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI-SYSTEM',
    ...(opts.withoutBoot ? [] : ['start=20480, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=boot']),
    'start=53248, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root',
  ];
  await execa('sfdisk', ['-q', raw], { input: `${table.join('\n')}\n` });
  const tree = path.join(dir, `${name}-trees`);
  const osRelease = `NAME="Fedora CoreOS (Anvil test image ${name})"\nID=fedora\nVARIANT_ID=coreos\n`;
  await mkdir(path.join(tree, 'boot', 'loader', 'entries'), { recursive: true });
  await mkdir(path.join(tree, 'root', 'etc'), { recursive: true });
  await writeFile(path.join(tree, 'boot', 'loader', 'entries', 'ostree-1.conf'), 'title Fedora CoreOS\nlinux /ostree/vmlinuz\n');
  await writeFile(path.join(tree, 'root', 'etc', 'os-release'), osRelease);
  const root = { offset: 53248 * 512, size: bytes - 53248 * 512 - 34 * 512 };
  const boot = opts.withoutBoot ? undefined : { offset: 20480 * 512, size: 32768 * 512 };
  // mke2fs writes into the image at the partition's offset (-E offset) from a directory (-d).
  const mkfs = (label: string, from: string, part: { offset: number; size: number }) =>
    execa('mkfs.ext4', ['-q', '-F', '-L', label, '-d', from, '-E', `offset=${part.offset}`, raw, `${Math.floor(part.size / 1024)}k`]);
  if (boot) await mkfs('boot', path.join(tree, 'boot'), boot);
  await mkfs('root', path.join(tree, 'root'), root);
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
