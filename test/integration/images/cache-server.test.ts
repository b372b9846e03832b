import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageCache } from '../../../images/cache.ts';
import { parseRange, startImageServer, type ImageServer } from '../../../images/server.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-cache-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const KIB = 1024;

describe('ImageCache', () => {
  it('shares one production between concurrent requests of a key', async () => {
    const cache = new ImageCache(path.join(dir, 'single'), 10 * KIB);
    let produced = 0;
    const produce = async (dest: string) => {
      produced++;
      await new Promise((r) => setTimeout(r, 20));
      await writeFile(dest, Buffer.alloc(KIB, 1));
    };
    const leases = await Promise.all(Array.from({ length: 5 }, () => cache.get('k', produce)));
    expect(produced).toBe(1);
    expect(new Set(leases.map((l) => l.path)).size).toBe(1);
    expect(leases[0].size).toBe(KIB);
    leases.forEach((l) => l.release());
  });

  it('evicts the least recently used idle entries beyond its bound, never a held one', async () => {
    const cacheDir = path.join(dir, 'lru');
    const cache = new ImageCache(cacheDir, 3 * KIB);
    const put = (k: string) => cache.get(k, (dest) => writeFile(dest, Buffer.alloc(KIB, k.charCodeAt(0))));
    const a = await put('a');
    (await put('b')).release();
    (await put('c')).release();
    (await put('b')).release(); // b is now more recent than c
    const d = await put('d'); // over the bound: c is the oldest idle entry (a is held)
    expect(cache.has('a')).toBe(true);
    expect(cache.has('c')).toBe(false);
    expect(cache.has('b') && cache.has('d')).toBe(true);
    expect((await readdir(cacheDir)).sort()).toEqual(['a', 'b', 'd']);
    a.release();
    d.release();
    expect(cache.usedBytes()).toBeLessThanOrEqual(3 * KIB);
  });

  it('forgets a failed production so the next request tries again', async () => {
    const cache = new ImageCache(path.join(dir, 'fail'), 10 * KIB);
    await expect(cache.get('x', async () => { throw new Error('download broke'); })).rejects.toThrow('download broke');
    expect(cache.has('x')).toBe(false);
    const ok = await cache.get('x', (dest) => writeFile(dest, 'fine'));
    expect(await readFile(ok.path, 'utf8')).toBe('fine');
  });

  it('adopts the files of an earlier run and drops partial downloads', async () => {
    const cacheDir = path.join(dir, 'adopt');
    const first = new ImageCache(cacheDir, 10 * KIB);
    (await first.get('kept', (dest) => writeFile(dest, 'old'))).release();
    await writeFile(path.join(cacheDir, 'y.part'), 'partial');
    const second = new ImageCache(cacheDir, 10 * KIB);
    const lease = await second.get('kept', async () => { throw new Error('should not produce'); });
    expect(await readFile(lease.path, 'utf8')).toBe('old');
    expect(await readdir(cacheDir)).toEqual(['kept']);
  });
});

describe('image HTTP server', () => {
  let server: ImageServer;
  const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  beforeAll(async () => {
    await writeFile(path.join(dir, 'img'), content);
    server = await startImageServer({ root: dir });
  });
  afterAll(() => server.close());

  it('serves a whole file and answers HEAD with its length', async () => {
    const res = await fetch(`${server.url}/img`);
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    const head = await fetch(`${server.url}/img`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('1000');
  });

  it('labels an ISO 9660 image application/vnd.efi-iso (UEFI HTTP boot mounts it), anything else as octets', async () => {
    const iso = Buffer.alloc(0x8800);
    iso.write('CD001', 0x8001, 'latin1');
    await writeFile(path.join(dir, 'node-iso'), iso);
    expect((await fetch(`${server.url}/node-iso`, { method: 'HEAD' })).headers.get('content-type')).toBe('application/vnd.efi-iso');
    expect((await fetch(`${server.url}/img`, { method: 'HEAD' })).headers.get('content-type')).toBe('application/octet-stream');
  });

  it('serves byte ranges (start-end, open-ended, suffix) and 416 beyond the end', async () => {
    const get = (range: string) => fetch(`${server.url}/img`, { headers: { range } });
    let res = await get('bytes=10-19');
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(Buffer.from(await res.arrayBuffer()).equals(content.subarray(10, 20))).toBe(true);
    res = await get('bytes=990-');
    expect(Buffer.from(await res.arrayBuffer()).equals(content.subarray(990))).toBe(true);
    res = await get('bytes=-5');
    expect(res.headers.get('content-range')).toBe('bytes 995-999/1000');
    await res.arrayBuffer();
    res = await get('bytes=1000-');
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */1000');
  });

  it('refuses paths outside its root, unknown files and other methods', async () => {
    expect((await fetch(`${server.url}/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    expect((await fetch(`${server.url}/missing`)).status).toBe(404);
    expect((await fetch(`${server.url}/img`, { method: 'DELETE' })).status).toBe(405);
  });

  it('parses ranges', () => {
    expect(parseRange(undefined, 10)).toBeNull();
    expect(parseRange('bytes=2-100', 10)).toEqual([2, 9]);
    expect(parseRange('items=1-2', 10)).toBeNull();
    expect(parseRange('bytes=5-2', 10)).toBe('unsatisfiable');
  });
});
