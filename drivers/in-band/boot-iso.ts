// A node's own boot ISO for virtual media (Ironic's image_utils.prepare_deploy_iso): the agent
// ramdisk (driver_info deploy_/rescue_ kernel and ramdisk, else the netboot role's defaults) with
// the command line the agent needs (API URL, CA, node, BOOTIF, the site's and the node's arguments),
// and for a DHCP-less boot the node's network_data at openstack/latest/network_data.json, which the
// ramdisk's init applies before the agent starts. Built once per content into the image cache,
// served by the image server at a URL signed for the node that expires, deleted when the boot ends.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkNetworkData } from '../../common/network-data.ts';
import { buildBootIso, type BootIsoContent } from '../../images/boot-iso.ts';
import { ImageCache } from '../../images/cache.ts';
import { ImageError } from '../../images/errors.ts';
import { parseNetbootConfig, type NetbootConfig } from '../../services/netboot/config.ts';
import { agentCmdline } from '../../services/netboot/targets.ts';
import type { UrlPeer } from '../../common/url-host.ts';
import type { RamdiskPurpose, TaskContext } from '../interfaces.ts';
import { ramdiskSources } from '../pxe/index.ts';
import { cachedSource, cacheEntry, removeCacheEntry, signedCacheUrl } from './image-source.ts';

export const NETWORK_DATA_PATH = 'openstack/latest/network_data.json';

export interface NodeIso {
  /** The image cache entry (the ISO's content hash). */
  key: string;
  /** Where the BMC fetches it: signed for the node, expiring. */
  url: string;
}

/** The netboot section, which says the API URL, CA, default ramdisk and HTTP root a node ISO is made of. */
function netbootOf(ctx: TaskContext): NetbootConfig {
  try {
    return parseNetbootConfig(ctx.config);
  } catch (err) {
    throw new ImageError(`Cannot build the boot ISO of node ${ctx.node.uuid}: the conductor's netboot configuration (apiUrl, deployKernel, http.root) is unusable: ${(err as Error).message}`, 'ImageBuildFailed');
  }
}

/** A local file for a kernel or ramdisk reference: an http(s) URL is downloaded into the image cache, file:// read in place, a bare name is under the netboot HTTP root. */
async function localFile(ctx: TaskContext, ref: string, httpRoot: string): Promise<string> {
  if (/^https?:\/\//i.test(ref)) return path.join(ctx.config.images.cacheDir, await cachedSource(ctx.config, ref, null));
  if (/^file:\/\//i.test(ref)) return new URL(ref).pathname;
  return path.resolve(httpRoot, ref.replace(/^\/+/, ''));
}

async function digest(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(file), hash);
  } catch (err) {
    throw new ImageError(`Cannot build the boot ISO: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'ImageBuildFailed');
  }
  return hash.digest('hex');
}

/** The node's network_data.json for the medium, or nothing (the ramdisk then asks DHCP). */
function networkFiles(ctx: TaskContext): Record<string, string> {
  const data = ctx.node.network_data ?? {};
  if (Object.keys(data).length === 0) return {};
  checkNetworkData(data, `network_data of node ${ctx.node.uuid}`);
  return { [NETWORK_DATA_PATH]: JSON.stringify(data) };
}

/** How long the URL works: a BMC reads the medium for as long as it is mounted, so the longest ramdisk wait. */
function urlLifetime(ctx: TaskContext): number {
  const t = ctx.config.conductor.timeouts;
  return Math.max(t.deployCallback, t.cleanCallback, t.inspectWait);
}

/** `reader`: who fetches the ISO (the BMC), whose address family its URL takes. */
async function publish(ctx: TaskContext, content: BootIsoContent, reader: UrlPeer): Promise<NodeIso> {
  const key = ImageCache.keyOf('boot-iso', ctx.node.uuid, await digest(content.kernel), await digest(content.initramfs), content.cmdline, JSON.stringify(content.files ?? {}));
  // The URL first: a reader the image server cannot give one to fails the boot before anything is built.
  const url = await signedCacheUrl(ctx.config, key, ctx.node.uuid, urlLifetime(ctx), reader);
  await cacheEntry(ctx.config, key, (dest) => buildBootIso(content, dest));
  return { key, url };
}

/** The node's agent ramdisk ISO for `purpose`. */
export async function ramdiskIso(ctx: TaskContext, purpose: RamdiskPurpose, reader: UrlPeer): Promise<NodeIso> {
  const netboot = netbootOf(ctx);
  const sources = ramdiskSources(ctx.node, purpose);
  const mac = (ctx.ports.find((p) => p.pxe_enabled) ?? ctx.ports[0])?.address;
  const files = networkFiles(ctx);
  // Tells the ramdisk's init to look for network_data.json on its CD before asking DHCP.
  const dhcpLess = files[NETWORK_DATA_PATH] ? 'anvil.static_network' : '';
  return publish(ctx, {
    kernel: await localFile(ctx, sources.kernel ?? netboot.deployKernel, netboot.http.root),
    initramfs: await localFile(ctx, sources.initrd ?? netboot.deployRamdisk, netboot.http.root),
    cmdline: agentCmdline(netboot, mac, purpose, ctx.node.uuid, [dhcpLess, netboot.kernelAppend, sources.kernelArgs].filter(Boolean).join(' ')),
    files,
    label: 'ANVIL_RAMDISK',
  }, reader);
}

/** The ISO of a ramdisk instance given as instance_info kernel + ramdisk (with kernel_append_params), or null when it has none. */
export async function instanceIso(ctx: TaskContext, reader: UrlPeer): Promise<NodeIso | null> {
  const ii = ctx.node.instance_info;
  if (typeof ii.kernel !== 'string' || typeof ii.ramdisk !== 'string' || !ii.kernel || !ii.ramdisk) return null;
  const netboot = netbootOf(ctx);
  return publish(ctx, {
    kernel: await localFile(ctx, ii.kernel, netboot.http.root),
    initramfs: await localFile(ctx, ii.ramdisk, netboot.http.root),
    cmdline: typeof ii.kernel_append_params === 'string' ? ii.kernel_append_params : '',
    files: networkFiles(ctx),
    label: 'ANVIL_INSTANCE',
  }, reader);
}

/** Deletes a node's ISO once its boot is over (a later boot builds it again). */
export async function removeNodeIso(ctx: TaskContext, key: string): Promise<void> {
  await removeCacheEntry(ctx.config, key);
}
