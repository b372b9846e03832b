// Boot configurations rendered per node on demand: the iPXE script (HTTP and TFTP), and the
// pxelinux and GRUB configs PXE loaders look up by MAC over TFTP. An instance on an iSCSI volume
// has only the iPXE script (pxelinux and GRUB cannot boot a SAN).
import { canonicalMac } from '../../common/mac.ts';
import type { RamdiskTarget, SanTarget, TargetDirectory } from './targets.ts';

export function ipxeScript(t: RamdiskTarget): string {
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

/**
 * Boot from volume, as Ironic's iPXE template's boot_iscsi: the initiator's name and the target's
 * CHAP credentials as iPXE settings, then sanboot of the volume's portals (iPXE tries each URI in
 * turn: multipath), retried while the target does not answer. The script holds the CHAP secret:
 * the node needs it, as it needs its DHCP answer; it is served to the node's MAC only.
 */
export function sanbootScript(t: SanTarget): string {
  return [
    '#!ipxe',
    `# Anvil boot from volume${t.nodeUuid ? ` for node ${t.nodeUuid}` : ''}: volume target ${t.volumeTarget}`,
    ':start',
    `set initiator-iqn ${t.initiatorIqn}`,
    ...(t.chap ? [`set username ${t.chap.username}`, `set password ${t.chap.password}`] : ['clear username', 'clear password']),
    `sanboot ${t.sanUrls.join(' ')} || goto retry`,
    ':retry',
    'echo Booting the iSCSI volume failed, retrying in 10 seconds',
    'sleep 10',
    'goto start',
    '',
  ].join('\n');
}

export function pxelinuxConfig(t: RamdiskTarget): string {
  return ['default anvil', 'label anvil', `  kernel ${t.kernelUrl}`, `  append initrd=${t.ramdiskUrl} ${t.cmdline}`, 'ipappend 2', ''].join('\n');
}

export function grubConfig(t: RamdiskTarget): string {
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
    if (!t) return undefined;
    return t.kind === 'san' ? sanbootScript(t) : t.ipxeScript ?? ipxeScript(t);
  }
  m = /^pxelinux\.cfg\/01-([0-9a-fA-F-]{17})$/.exec(relPath);
  if (m) {
    const mac = canonicalMac(m[1]);
    const t = mac && (await targets.lookup(mac));
    return t && t.kind === 'ramdisk' ? pxelinuxConfig(t) : undefined;
  }
  m = /(?:^|\/)grub\.cfg-01-([0-9a-fA-F-]{17})$/.exec(relPath);
  if (m) {
    const mac = canonicalMac(m[1]);
    const t = mac && (await targets.lookup(mac));
    return t && t.kind === 'ramdisk' ? grubConfig(t) : undefined;
  }
  return undefined;
}
