// What a QEMU guest network-boots in tests: Debian's kernel (downloaded with apt-get, unpacked, not
// installed; cached under .cache/netboot) and a busybox initramfs whose /init prints a marker and
// the kernel command line on the serial console, then powers off.
import { existsSync, mkdirSync, readdirSync, writeFileSync, copyFileSync, chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const CACHE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../.cache/netboot');
export const MARKER = 'ANVIL-NETBOOT-RAMDISK-UP';

/** Path of a vmlinuz from Debian's current linux-image-amd64 dependency. */
export async function debianKernel(): Promise<string> {
  const depends = (await execa('apt-cache', ['depends', 'linux-image-amd64'])).stdout;
  const pkg = /Depends: (linux-image-\d\S*)/.exec(depends)?.[1];
  if (!pkg) throw new Error(`apt-cache depends linux-image-amd64 names no kernel package:\n${depends}`);
  const dir = path.join(CACHE, pkg);
  const boot = path.join(dir, 'boot');
  if (!existsSync(boot)) {
    const download = path.join(CACHE, 'download');
    mkdirSync(download, { recursive: true });
    await execa('apt-get', ['download', pkg], { cwd: download, timeout: 120000 });
    const deb = readdirSync(download).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${download}`);
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    await execa('dpkg-deb', ['-x', path.join(download, deb), tmp]);
    await execa('mv', [tmp, dir]);
    rmSync(path.join(download, deb));
  }
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`no vmlinuz in ${boot}`);
  return path.join(boot, vmlinuz);
}

/** A tiny initramfs (busybox-static) written to `out`. */
export async function markerInitramfs(out: string): Promise<void> {
  const root = `${out}.root`;
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'dev']) mkdirSync(path.join(root, d), { recursive: true });
  copyFileSync('/usr/bin/busybox', path.join(root, 'bin', 'busybox'));
  writeFileSync(path.join(root, 'init'), [
    '#!/bin/busybox sh',
    '/bin/busybox mount -t proc proc /proc',
    `echo "${MARKER} cmdline=[$(/bin/busybox cat /proc/cmdline)]"`,
    '/bin/busybox poweroff -f',
    '',
  ].join('\n'));
  chmodSync(path.join(root, 'init'), 0o755);
  await execa('sh', ['-c', `cd "${root}" && find . | busybox cpio -o -H newc > "${out}"`]);
  rmSync(root, { recursive: true, force: true });
}
