// Where the agent puts an image before writing it (qcow2 cannot be read from a pipe): a temporary
// file in a real ramdisk, or a cache shared by many simulated agents of one process.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../images/cache.ts';
import { unsignedUrl } from '../images/signed-url.ts';
import type { ChecksumSpec } from '../images/checksum.ts';
import { downloadImage, type DownloadOptions } from '../images/download.ts';

export interface FetchedImage {
  path: string;
  release(): Promise<void> | void;
}

export interface ImageStore {
  /** Downloads (or finds) the image, its checksum verified while it streamed in. */
  fetch(url: string, checksum: ChecksumSpec | null, opts?: DownloadOptions): Promise<FetchedImage>;
}

/** One download per deploy into a temporary directory, removed when released. */
export class TempImageStore implements ImageStore {
  constructor(private readonly baseDir = os.tmpdir()) {}

  async fetch(url: string, checksum: ChecksumSpec | null, opts?: DownloadOptions): Promise<FetchedImage> {
    const dir = await mkdtemp(path.join(this.baseDir, 'anvil-agent-image-'));
    try {
      const { path: file } = await downloadImage(url, path.join(dir, 'image'), checksum, opts);
      return { path: file, release: () => rm(dir, { recursive: true, force: true }) };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
}

/** Images kept in an ImageCache: concurrent fetches of one URL with one checksum share a download. */
export class CachedImageStore implements ImageStore {
  constructor(readonly cache: ImageCache) {}

  async fetch(url: string, checksum: ChecksumSpec | null, opts?: DownloadOptions): Promise<FetchedImage> {
    // Simulated agents share one cache: per-node signed URLs of one image are one entry.
    const key = ImageCache.keyOf(unsignedUrl(url), JSON.stringify(checksum));
    const lease = await this.cache.get(key, async (dest) => {
      await downloadImage(url, dest, checksum, opts);
    });
    return { path: lease.path, release: () => lease.release() };
  }
}
