// Bootable ISO images of a kernel, an initramfs and its command line, as a BMC mounts them for
// virtual media: BIOS through isolinux (El Torito, Debian's isolinux + syslinux-common), UEFI through
// an EFI System Partition image holding a standalone GRUB (grub-efi-amd64-bin) made without mounting
// anything (grub-mkstandalone, mkfs.vfat, mtools), both put together by xorriso. Extra files (the
// node's network_data.json for a DHCP-less boot) go into the ISO's tree.
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageError } from './errors.ts';

/** Debian's paths of the BIOS loader pieces and the MBR that makes the ISO bootable from a disk as well. */
export const ISOLINUX_FILES = {
  isolinux: '/usr/lib/ISOLINUX/isolinux.bin',
  mbr: '/usr/lib/ISOLINUX/isohdpfx.bin',
  ldlinux: '/usr/lib/syslinux/modules/bios/ldlinux.c32',
};

export interface BootIsoContent {
  kernel: string;
  initramfs: string;
  /** The kernel command line, words separated by spaces. */
  cmdline: string;
  /** Files by their path inside the ISO (e.g. openstack/latest/network_data.json). */
  files?: Record<string, string | Buffer>;
  /** ISO 9660 volume label; at most 32 characters. */
  label?: string;
}

/** Where the kernel and initramfs live inside the ISO (and the e2e OS images); GRUB finds its root by the kernel's path. */
export const KERNEL = 'anvil/vmlinuz';
export const INITRAMFS = 'anvil/initrd';

/** One command-line word quoted for GRUB's shell-like parser (single quotes keep `$`, `;` and spaces). */
function grubWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function grubConfig(cmdline: string): string {
  const words = cmdline.split(/\s+/).filter(Boolean).map(grubWord).join(' ');
  return [
    'set timeout=0',
    `search --no-floppy --file --set=root /${KERNEL}`,
    `linux /${KERNEL} ${words}`,
    `initrd /${INITRAMFS}`,
    'boot',
    '',
  ].join('\n');
}

export function isolinuxConfig(cmdline: string): string {
  return ['default anvil', 'prompt 0', 'label anvil', `  kernel /${KERNEL}`, `  append initrd=/${INITRAMFS} ${cmdline.trim()}`, ''].join('\n');
}

async function run(what: string, cmd: string, args: string[]): Promise<void> {
  const { execa } = await import('execa');
  try {
    await execa(cmd, args);
  } catch (err) {
    const e = err as { stderr?: string; shortMessage?: string; code?: string };
    const reason = e.code === 'ENOENT' ? `${cmd} is not installed` : (e.stderr?.trim().split('\n').slice(-3).join(' ') || e.shortMessage);
    throw new ImageError(`Building the boot ISO failed at ${what}: ${reason}`, 'ImageBuildFailed');
  }
}

async function requireFile(file: string, what: string): Promise<number> {
  const st = await stat(file).catch(() => null);
  if (!st?.isFile() || st.size === 0) throw new ImageError(`Cannot build the boot ISO: the ${what} ${file} is missing or empty`, 'ImageBuildFailed');
  return st.size;
}

/**
 * A standalone GRUB at `out`, with `config` built in as its grub.cfg: for x86_64-efi
 * (grub-efi-amd64-bin) one file that boots as \EFI\BOOT\BOOTX64.EFI from any FAT partition; for
 * i386-pc (grub-pc-bin) a core.img for a disk's BIOS boot area. Also used for the e2e tests' OS images.
 */
export async function standaloneGrub(format: 'x86_64-efi' | 'i386-pc', config: string, out: string): Promise<void> {
  const cfg = `${out}.cfg`;
  await writeFile(cfg, config);
  try {
    await run('grub-mkstandalone', 'grub-mkstandalone', [
      `--format=${format}`, `--output=${out}`, '--locales=', '--fonts=', '--themes=',
      // Preloaded: GRUB autoloads file systems as it probes, not partition tables (on a disk, not an ISO), nor BIOS disks.
      `--modules=part_gpt part_msdos${format === 'i386-pc' ? ' biosdisk' : ''}`,
      '--install-modules=linux normal iso9660 ext2 search search_fs_file search_label part_msdos part_gpt fat configfile echo all_video',
      `boot/grub/grub.cfg=${cfg}`,
    ]);
  } finally {
    await rm(cfg, { force: true });
  }
}

/** The EFI System Partition image: FAT holding \EFI\BOOT\BOOTX64.EFI, a GRUB with the config built in. */
async function espImage(tmp: string, cmdline: string): Promise<string> {
  const efi = path.join(tmp, 'BOOTX64.EFI');
  await standaloneGrub('x86_64-efi', grubConfig(cmdline), efi);
  const efiBytes = (await stat(efi)).size;
  // FAT12 needs room for its tables and the directory; a little slack over the loader's size.
  const sizeKiB = Math.ceil(efiBytes / 1024) + 512;
  const img = path.join(tmp, 'efiboot.img');
  await run('mkfs.vfat', 'mkfs.vfat', ['-C', '-n', 'ANVIL_ESP', img, String(sizeKiB)]);
  await run('mtools mmd', 'mmd', ['-i', img, '::/EFI', '::/EFI/BOOT']);
  await run('mtools mcopy', 'mcopy', ['-i', img, efi, '::/EFI/BOOT/BOOTX64.EFI']);
  return img;
}

/** Writes the ISO to `dest`; on any failure `dest` does not exist and the error names the step. */
export async function buildBootIso(content: BootIsoContent, dest: string): Promise<void> {
  await requireFile(content.kernel, 'kernel');
  await requireFile(content.initramfs, 'initramfs');
  for (const [what, file] of Object.entries(ISOLINUX_FILES)) await requireFile(file, `BIOS loader (${what}, Debian's isolinux/syslinux-common)`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'anvil-boot-iso-'));
  try {
    const tree = path.join(tmp, 'tree');
    await mkdir(path.join(tree, 'anvil'), { recursive: true });
    await mkdir(path.join(tree, 'isolinux'));
    await copyFile(content.kernel, path.join(tree, KERNEL));
    await copyFile(content.initramfs, path.join(tree, INITRAMFS));
    await copyFile(ISOLINUX_FILES.isolinux, path.join(tree, 'isolinux', 'isolinux.bin'));
    await copyFile(ISOLINUX_FILES.ldlinux, path.join(tree, 'isolinux', 'ldlinux.c32'));
    await writeFile(path.join(tree, 'isolinux', 'isolinux.cfg'), isolinuxConfig(content.cmdline));
    for (const [name, data] of Object.entries(content.files ?? {})) {
      const file = path.resolve(tree, name);
      if (!file.startsWith(tree + path.sep)) throw new ImageError(`Cannot build the boot ISO: ${name} is outside the image`, 'ImageBuildFailed');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, data);
    }
    await copyFile(await espImage(tmp, content.cmdline), path.join(tree, 'efiboot.img'));
    await run('xorriso', 'xorriso', [
      '-as', 'mkisofs', '-quiet', '-o', dest, '-V', (content.label ?? 'ANVIL_BOOT').slice(0, 32), '-J', '-R',
      '-isohybrid-mbr', ISOLINUX_FILES.mbr,
      '-c', 'isolinux/boot.cat', '-b', 'isolinux/isolinux.bin', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
      '-eltorito-alt-boot', '-e', 'efiboot.img', '-no-emul-boot', '-isohybrid-gpt-basdat',
      tree,
    ]);
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
