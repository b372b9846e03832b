// The boot ISO builder with Debian's xorriso, isolinux, GRUB and mtools: both El Torito entries
// (BIOS isolinux, UEFI ESP image with BOOTX64.EFI), the loader configs carrying the command line,
// extra files in the tree; failures name the step and leave no file behind.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBootIso, grubConfig } from '../../../images/boot-iso.ts';

const CMDLINE = "ipa-api-url=http://192.0.2.1:6385 ipa-node-uuid=1be26c0b-03f2-4d2e-ae87-c02d7f33c123 console=ttyS0 odd='$x;y'";

describe('boot ISO', () => {
  let dir: string;
  let kernel: string;
  let initramfs: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-boot-iso-test-'));
    kernel = path.join(dir, 'vmlinuz');
    initramfs = path.join(dir, 'initrd');
    await writeFile(kernel, Buffer.alloc(64 * 1024, 1));
    await writeFile(initramfs, Buffer.alloc(128 * 1024, 2));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('is bootable on BIOS and UEFI and holds the kernel, the initramfs, the command line and extra files', async () => {
    const iso = path.join(dir, 'node.iso');
    await buildBootIso({ kernel, initramfs, cmdline: CMDLINE, files: { 'openstack/latest/network_data.json': '{"links":[]}' }, label: 'ANVIL_TEST' }, iso);
    const torito = (await execa('xorriso', ['-indev', iso, '-report_el_torito', 'plain'])).stdout;
    expect(torito).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y/);
    expect(torito).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y/);
    expect(torito).toContain('/isolinux/isolinux.bin');
    expect(torito).toContain('/efiboot.img');
    const extract = async (name: string) => (await execa('isoinfo', ['-J', '-i', iso, '-x', name], { encoding: 'buffer' })).stdout as Uint8Array;
    expect(Buffer.from(await extract('/anvil/vmlinuz')).equals(await readFile(kernel))).toBe(true);
    expect(Buffer.from(await extract('/anvil/initrd')).equals(await readFile(initramfs))).toBe(true);
    expect(Buffer.from(await extract('/openstack/latest/network_data.json')).toString()).toBe('{"links":[]}');
    expect(Buffer.from(await extract('/isolinux/isolinux.cfg')).toString()).toContain(`append initrd=/anvil/initrd ${CMDLINE}`);
    expect((await execa('isoinfo', ['-d', '-i', iso])).stdout).toContain('Volume id: ANVIL_TEST');
    // The ESP is a FAT image with the removable-media loader path UEFI firmware looks for.
    const esp = path.join(dir, 'esp.img');
    await writeFile(esp, await extract('/efiboot.img'));
    expect((await execa('mdir', ['-b', '-i', esp, '::/EFI/BOOT'])).stdout).toContain('BOOTX64.EFI');
    const efi = (await execa('mtype', ['-i', esp, '::/EFI/BOOT/BOOTX64.EFI'], { encoding: 'buffer' })).stdout as Uint8Array;
    expect(Buffer.from(efi).subarray(0, 2).toString()).toBe('MZ');
    // GRUB gets each word single-quoted, so `$` and `;` reach the kernel as they are.
    expect(Buffer.from(efi).includes(grubConfig(CMDLINE))).toBe(true);
    expect(grubConfig(CMDLINE)).toContain("'odd='\\''$x;y'\\'''");
  });

  it('refuses a missing or empty kernel and writes nothing', async () => {
    const iso = path.join(dir, 'missing.iso');
    await expect(buildBootIso({ kernel: path.join(dir, 'nope'), initramfs, cmdline: CMDLINE }, iso)).rejects.toThrow(`Cannot build the boot ISO: the kernel ${path.join(dir, 'nope')} is missing or empty`);
    const empty = path.join(dir, 'empty');
    await writeFile(empty, '');
    await expect(buildBootIso({ kernel, initramfs: empty, cmdline: CMDLINE }, iso)).rejects.toThrow('the initramfs');
    expect(existsSync(iso)).toBe(false);
  });

  it('names xorriso when it fails and leaves no partial ISO', async () => {
    const iso = path.join(dir, 'no-such-folder', 'x.iso');
    await expect(buildBootIso({ kernel, initramfs, cmdline: CMDLINE }, iso)).rejects.toThrow(/^Building the boot ISO failed at xorriso: /);
    expect(existsSync(iso)).toBe(false);
  });

  it('refuses an extra file outside the image', async () => {
    const iso = path.join(dir, 'escape.iso');
    await expect(buildBootIso({ kernel, initramfs, cmdline: CMDLINE, files: { '../../etc/x': 'x' } }, iso)).rejects.toThrow('../../etc/x is outside the image');
    expect(existsSync(iso)).toBe(false);
  });
});
