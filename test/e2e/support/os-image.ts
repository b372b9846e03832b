// The e2e tests' instance OS: a small BIOS-bootable whole-disk image made from Debian packages,
// nothing mounted. An MBR (syslinux's boot code) with one active FAT partition holding SYSLINUX, the
// Debian kernel the ramdisk uses and a tiny initramfs (static busybox, the virtio and ISO 9660
// modules, os-init.sh as /init) whose first boot reads the config drive as cloud-init does and
// reports it on ttyS0 ("anvil-os: ..." lines). Cached under .cache/os-image by the hash of its inputs.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { busyboxEntries, compress, DEFAULT_CACHE_DIR, fetchKernel, moduleEntries, REPO_ROOT } from '../../../ramdisk/build.ts';
import type { CpioEntry } from '../../../ramdisk/cpio.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE = join(REPO_ROOT, '.cache', 'os-image');
/** What the OS needs of the kernel's modules: the virtio disk and NIC, and the config drive's file system. */
const MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'isofs'];
const SYSLINUX_MBR = '/usr/lib/syslinux/mbr/mbr.bin';
const MIB = 1024 * 1024;
/** The image: 64 MiB, its FAT partition from 1 MiB, 30 MiB long. */
export const OS_IMAGE_BYTES = 64 * MIB;
const PART_START = 2048;
const PART_SECTORS = 61440;

const SYSLINUX_CFG = 'SERIAL 0 115200\nDEFAULT os\nPROMPT 0\nTIMEOUT 0\nLABEL os\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND console=ttyS0 quiet\n';

export interface OsImage {
  qcow2: string;
  sha256: string;
  /** true when it came from the cache. */
  cached: boolean;
}

async function initramfsEntries(tmp: string, kernel: { root: string; version: string }): Promise<CpioEntry[]> {
  return [
    { type: 'symlink', path: 'bin', target: 'usr/bin' },
    { type: 'symlink', path: 'sbin', target: 'usr/bin' },
    { type: 'symlink', path: 'usr/sbin', target: 'bin' },
    { type: 'symlink', path: 'lib', target: 'usr/lib' },
    ...['dev', 'proc', 'sys', 'run', 'root', 'mnt', 'tmp'].map((path): CpioEntry => ({ type: 'dir', path })),
    { type: 'file', path: 'init', mode: 0o755, data: await readFile(join(HERE, 'os-init.sh')) },
    { type: 'file', path: 'etc/anvil-os/modules', data: Buffer.from(`${MODULES.join('\n')}\n`) },
    ...(await busyboxEntries()),
    ...(await moduleEntries(kernel.root, kernel.version, tmp, MODULES)),
  ];
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
    const entries = await initramfsEntries(tmp, kernel);
    const vmlinuz = await readFile(kernel.vmlinuz);
    const key = inputsHash(entries, vmlinuz, Buffer.from(SYSLINUX_CFG), await readFile(SYSLINUX_MBR), Buffer.from((await execa('syslinux', ['--version'], { reject: false })).stderr));
    const out = join(CACHE, key.slice(0, 16));
    const qcow2 = join(out, 'os.qcow2');
    if (existsSync(join(out, 'sha256'))) return { qcow2, sha256: (await readFile(join(out, 'sha256'), 'utf8')).trim(), cached: true };

    const initrd = join(tmp, 'initrd.img');
    await compress(entries, initrd);
    const cfg = join(tmp, 'syslinux.cfg');
    await writeFile(cfg, SYSLINUX_CFG);
    await writeFile(join(tmp, 'vmlinuz'), vmlinuz);
    // The FAT file system alone first (mtools and syslinux's installer work on a file), then into the disk.
    const fat = join(tmp, 'fat.img');
    await execa('mkfs.vfat', ['-C', '-n', 'ANVILOS', fat, String((PART_SECTORS * 512) / 1024)]);
    await execa('mcopy', ['-i', fat, join(tmp, 'vmlinuz'), initrd, cfg, '::/']);
    await execa('syslinux', ['--install', fat]);
    const raw = join(tmp, 'os.raw');
    await execa('truncate', ['-s', String(OS_IMAGE_BYTES), raw]);
    await execa('sfdisk', ['-q', raw], { input: `label: dos\nstart=${PART_START}, size=${PART_SECTORS}, type=c, bootable\n` });
    await execa('dd', [`if=${SYSLINUX_MBR}`, `of=${raw}`, 'bs=440', 'count=1', 'conv=notrunc', 'status=none']);
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
