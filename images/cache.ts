// A cache of images on local disk, bounded in bytes, evicting the least recently used entries
// that nobody holds. Concurrent requests for the same key share one download (single flight):
// a thousand simulated deploys of one image fetch it once.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface CacheLease {
  path: string;
  size: number;
  /** Lets the entry be evicted again; call once when done reading. */
  release(): void;
}

interface Entry {
  file: string;
  size: number;
  lastUsed: number;
  refs: number;
  ready: Promise<void>;
  failed: boolean;
}

export class ImageCache {
  private readonly entries = new Map<string, Entry>();
  private loaded: Promise<void> | null = null;
  private clock = 0;
  /** Requests served from the cache (or joined to a download under way) and requests that produced the file. */
  readonly stats = { hits: 0, misses: 0 };

  /** `onLookup` hears of each lookup (the conductor counts them for /metrics; the agent's cache has none). */
  constructor(readonly dir: string, readonly maxBytes: number, private readonly onLookup?: (hit: boolean) => void) {}

  /** The cache file name of a key (a URL plus its checksum, say). */
  static keyOf(...parts: string[]): string {
    return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);
  }

  /** Bytes held by ready entries. */
  usedBytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.size;
    return total;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * The file for `key`, produced by `produce(dest)` if the cache lacks it (produce must write
   * exactly `dest`). The lease keeps the entry from eviction until released.
   */
  async get(key: string, produce: (dest: string) => Promise<void>): Promise<CacheLease> {
    await this.load();
    let entry = this.entries.get(key);
    if (entry) this.stats.hits++;
    else this.stats.misses++;
    this.onLookup?.(Boolean(entry));
    if (!entry) {
      const file = path.join(this.dir, key);
      const fresh: Entry = { file, size: 0, lastUsed: ++this.clock, refs: 0, failed: false, ready: Promise.resolve() };
      fresh.ready = (async () => {
        try {
          await produce(file);
          fresh.size = (await stat(file)).size;
        } catch (err) {
          fresh.failed = true;
          this.entries.delete(key);
          await rm(file, { force: true });
          throw err;
        }
      })();
      this.entries.set(key, fresh);
      entry = fresh;
    }
    entry.refs++;
    try {
      await entry.ready;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    entry.lastUsed = ++this.clock;
    await this.evict();
    let released = false;
    const held = entry;
    return {
      path: entry.file,
      size: entry.size,
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        held.lastUsed = ++this.clock;
        void this.evict();
      },
    };
  }

  /** Deletes the entry of `key` now (a file made for one use), unless a lease still holds it. */
  async remove(key: string): Promise<void> {
    await this.load();
    const entry = this.entries.get(key);
    if (!entry || entry.refs > 0) return;
    this.entries.delete(key);
    await rm(entry.file, { force: true });
  }

  /** Removes least recently used entries nobody holds until the cache fits its bound. */
  private async evict(): Promise<void> {
    let used = this.usedBytes();
    if (used <= this.maxBytes) return;
    const idle = [...this.entries.entries()].filter(([, e]) => e.refs === 0 && !e.failed && e.size > 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, e] of idle) {
      if (used <= this.maxBytes) break;
      this.entries.delete(key);
      used -= e.size;
      await rm(e.file, { force: true });
    }
  }

  /** Adopts files left by an earlier run, oldest modification first. */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const found: { key: string; size: number; mtime: number }[] = [];
      for (const name of await readdir(this.dir)) {
        const file = path.join(this.dir, name);
        if (name.endsWith('.part')) {
          await rm(file, { force: true });
          continue;
        }
        const st = await stat(file);
        if (st.isFile()) found.push({ key: name, size: st.size, mtime: st.mtimeMs });
      }
      for (const f of found.sort((a, b) => a.mtime - b.mtime)) {
        this.entries.set(f.key, { file: path.join(this.dir, f.key), size: f.size, lastUsed: ++this.clock, refs: 0, failed: false, ready: Promise.resolve() });
      }
      await this.evict();
    })();
    return this.loaded;
  }
}
