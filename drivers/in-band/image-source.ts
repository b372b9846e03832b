// The URL the agent downloads the instance image from. http(s) sources go to the agent as they
// are; a file:// source (readable only by the conductor) is copied into the image cache, its
// checksum verified on the way, and served by the conductor's image HTTP server.
import { rm } from 'node:fs/promises';
import { apiPublicUrl, type AnvilConfig } from '../../common/config.ts';
import { imageCacheLookups } from '../../common/metrics.ts';
import { ImageCache } from '../../images/cache.ts';
import { checksumFrom, type ChecksumSpec } from '../../images/checksum.ts';
import { downloadImage } from '../../images/download.ts';
import { startImageServer, type ImageServer } from '../../images/server.ts';
import { UrlSigner } from '../../images/signed-url.ts';
import type { TaskContext } from '../interfaces.ts';
import { isIP, isIPv4 } from 'node:net';
import { bareHost, hostFamily, type UrlPeer } from '../../common/url-host.ts';
import { ImageError } from '../../images/errors.ts';

/** Signs the URLs this process hands to agents; its key never leaves the process. */
const signer = new UrlSigner();

let cache: ImageCache | null = null;
let server: Promise<ImageServer> | null = null;

function sharedCache(config: AnvilConfig): ImageCache {
  if (!cache || cache.dir !== config.images.cacheDir) cache = new ImageCache(config.images.cacheDir, config.images.cacheMaxBytes, (hit) => imageCacheLookups.inc({ result: hit ? 'hit' : 'miss' }));
  return cache;
}

let serverRoot: string | null = null;

function sharedServer(config: AnvilConfig): Promise<ImageServer> {
  // A process that runs Anvil again with another cache folder (tests, benches) gets a server of that folder.
  if (server && serverRoot !== config.images.cacheDir) {
    void server.then((s) => s.close(), () => undefined);
    server = null;
  }
  serverRoot = config.images.cacheDir;
  // Bound where the API is; advertised by the name agents reach the API at.
  const advertiseHost = bareHost(new URL(apiPublicUrl(config)).hostname);
  server ??= startImageServer({ root: config.images.cacheDir, host: config.api.host, advertiseHost, signer, tls: config.images.tls }).then((s) => {
    s.server.unref();
    return s;
  });
  return server;
}

/** Stops the image server of this process (the in-band family's close). */
export async function stopImageServer(): Promise<void> {
  const s = server;
  server = null;
  cache = null;
  if (s) await (await s).close();
}

/** The checksum of the node's image from instance_info (image_os_hash_*, image_checksum). */
export function instanceChecksum(instanceInfo: Record<string, unknown>): ChecksumSpec | null {
  return checksumFrom({ os_hash_algo: instanceInfo.image_os_hash_algo, os_hash_value: instanceInfo.image_os_hash_value, checksum: instanceInfo.image_checksum });
}

/**
 * The URL the node's agent fetches its image from. A cached file:// image gets a URL signed for
 * this node that expires with the deploy's wait (deployCallback), so no other machine can read it.
 */
export async function imageUrlForAgent(config: AnvilConfig, source: string, checksum: ChecksumSpec | null, nodeUuid: string, agent?: UrlPeer): Promise<string> {
  if (!source.startsWith('file://')) return source;
  const key = await cachedSource(config, source, checksum);
  return signedCacheUrl(config, key, nodeUuid, config.conductor.timeouts.deployCallback, agent);
}

/** Copies (downloads) `source` into the image cache once, its checksum verified; returns its cache key. */
export async function cachedSource(config: AnvilConfig, source: string, checksum: ChecksumSpec | null): Promise<string> {
  const key = ImageCache.keyOf(source, JSON.stringify(checksum));
  await cacheEntry(config, key, async (dest) => {
    try {
      await downloadImage(source, dest, checksum);
    } catch (err) {
      await rm(dest, { force: true });
      throw err;
    }
  });
  return key;
}

/** The cache file of `key`, made by `produce(dest)` if missing; the entry stays in the cache (LRU), nothing holds it. */
export async function cacheEntry(config: AnvilConfig, key: string, produce: (dest: string) => Promise<void>): Promise<string> {
  const lease = await sharedCache(config).get(key, produce);
  lease.release();
  return lease.path;
}

/** Deletes a cache entry made for one use (a node's boot ISO). */
export async function removeCacheEntry(config: AnvilConfig, key: string): Promise<void> {
  await sharedCache(config).remove(key);
}

/**
 * The host `peer` reaches the image server at: the API's public host, or images.publicHost6 for a
 * peer that speaks only IPv6 when the API's host is an IPv4 address. A peer of one family is never
 * handed a literal of the other (an IPv6-only BMC given an IPv4 URL mounts nothing, and says little).
 */
function imageHostFor(config: AnvilConfig, peer: UrlPeer | undefined): string {
  const main = bareHost(new URL(apiPublicUrl(config)).hostname);
  if (!peer) return main;
  const wanted = peer.family === 6 ? 'IPv6' : 'IPv4';
  if (peer.family === 6 && isIPv4(config.api.host)) {
    throw new ImageError(`${peer.label} speaks IPv6, but the image server listens on api.host ${config.api.host}, an IPv4 address: set api.host to :: (or an IPv6 address of this conductor)`, 'ImageServerUnreachable');
  }
  if (peer.family === 6 && isIPv4(main)) {
    if (!config.images.publicHost6) throw new ImageError(`${peer.label} speaks IPv6, but the image server's public address ${main} is IPv4: set images.publicHost6 to this conductor's IPv6 address`, 'ImageServerUnreachable');
    return config.images.publicHost6;
  }
  if (isIP(main) && isIP(main) !== peer.family) throw new ImageError(`${peer.label} speaks ${wanted}, but the image server's public address ${main} is not ${wanted}: set api.publicUrl to a name or an address both reach`, 'ImageServerUnreachable');
  return main;
}

/** The image server's URL of a cache entry, signed for `nodeUuid` and good for `ttlSeconds`, at the host `peer` reaches (default: the API's public host). */
export async function signedCacheUrl(config: AnvilConfig, key: string, nodeUuid: string, ttlSeconds: number, peer?: UrlPeer): Promise<string> {
  const host = imageHostFor(config, peer);
  return `${(await sharedServer(config)).urlAt(host)}/${key}?${signer.sign(`/${key}`, nodeUuid, ttlSeconds)}`;
}

/** The node's agent as a URL peer, from the callback URL it heart-beats with (none yet: undefined). */
export async function agentPeer(node: Pick<TaskContext['node'], 'driver_internal_info'>): Promise<UrlPeer | undefined> {
  const url = node.driver_internal_info.agent_url;
  if (typeof url !== 'string' || !URL.canParse(url)) return undefined;
  return { family: await hostFamily(new URL(url).hostname), label: `the agent at ${url}` };
}

/**
 * instance_info as the agent gets it with a deploy step: with image_url, where it downloads
 * image_source from (Ironic's build_instance_info_for_deploy), for steps that read the image from
 * instance_info themselves (install_coreos) rather than from write_image's image_info.
 */
export async function instanceInfoForAgent(ctx: Pick<TaskContext, 'node' | 'config'>): Promise<Record<string, unknown>> {
  const ii = ctx.node.instance_info;
  const source = ii.image_source;
  if (typeof source !== 'string' || !/^(https?|file):\/\//i.test(source)) return ii;
  return { ...ii, image_url: await imageUrlForAgent(ctx.config, source, instanceChecksum(ii), ctx.node.uuid, await agentPeer(ctx.node)) };
}
