// Boot configurations rendered per node on demand: the iPXE script (HTTP and TFTP), and the
// pxelinux and GRUB configs PXE loaders look up by MAC over TFTP.
import { canonicalMac } from '../../common/mac.ts';
import type { BootTarget, TargetDirectory } from './targets.ts';

export function ipxeScript(t: BootTarget): string {
  return [
    '#!ipxe',
    `# Anvil ${t.purpose} ramdisk${t.nodeUuid ? ` for node ${t.nodeUuid}` : ''}`,
    ':start',
    `kernel ${t.kernelUrl} initrd=ramdisk ${t.cmdline} || goto retry`,
    `initrd --name ramdisk ${t.ramdiskUrl} || goto retry`,
    'boot || goto retry',
    ':retry',
    'echo Loading the ramdisk failed, retrying in 5 seconds',
    'sleep 5',
    'goto start',
    '',
  ].join('\n');
}

export function pxelinuxConfig(t: BootTarget): string {
  return ['default anvil', 'label anvil', `  kernel ${t.kernelUrl}`, `  append initrd=${t.ramdiskUrl} ${t.cmdline}`, 'ipappend 2', ''].join('\n');
}

export function grubConfig(t: BootTarget): string {
  return [
    'set default=anvil',
    'set timeout=5',
    "menuentry 'Anvil ramdisk' --id anvil {",
    `  linux ${t.kernelUrl} ${t.cmdline}`,
    `  initrd ${t.ramdiskUrl}`,
    '}',
    '',
  ].join('\n');
}

/**
 * The per-node file a boot path names, if any:
 *   boot/<mac>.ipxe or <mac>.ipxe           iPXE script
 *   pxelinux.cfg/01-aa-bb-cc-dd-ee-ff      pxelinux (ARP type 1 + MAC)
 *   grub.cfg-01-aa-bb-cc-dd-ee-ff          GRUB net boot (in any folder, as grub looks in its prefix)
 */
export async function renderBootFile(relPath: string, targets: TargetDirectory): Promise<string | undefined> {
  let m = /^(?:boot\/)?([0-9a-fA-F:-]{12,17})\.ipxe$/.exec(relPath);
  if (m) {
    const mac = canonicalMac(m[1]);
    const t = mac && (await targets.lookup(mac));
    return t ? t.ipxeScript ?? ipxeScript(t) : undefined;
  }
  m = /^pxelinux\.cfg\/01-([0-9a-fA-F-]{17})$/.exec(relPath);
  if (m) {
    const mac = canonicalMac(m[1]);
    const t = mac && (await targets.lookup(mac));
    return t ? pxelinuxConfig(t) : undefined;
  }
  m = /(?:^|\/)grub\.cfg-01-([0-9a-fA-F-]{17})$/.exec(relPath);
  if (m) {
    const mac = canonicalMac(m[1]);
    const t = mac && (await targets.lookup(mac));
    return t ? grubConfig(t) : undefined;
  }
  return undefined;
}
