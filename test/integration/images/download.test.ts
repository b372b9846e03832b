import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadImage } from '../../../images/download.ts';
import { ChecksumMismatch, ImageDownloadError } from '../../../images/errors.ts';
import { makeTestImages, type TestImages } from './fixtures.ts';

let img: TestImages;
let server: Server;
let base: string;
let served: Buffer;

beforeAll(async () => {
  img = await makeTestImages();
  served = await readFile(img.qcow2);
  server = createServer((req, res) => {
    if (req.url === '/disk.qcow2') res.writeHead(200, { 'content-length': served.length }).end(served);
    else if (req.url === '/SHA256SUMS') res.end(`${'0'.repeat(64)}  other.img\n${img.sha256}  disk.qcow2\n`);
    else if (req.url === '/short.qcow2') {
      res.writeHead(200, { 'content-length': served.length });
      res.write(served.subarray(0, 1000));
      res.destroy();
    } else res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await img.cleanup();
});

describe('downloadImage', () => {
  it('downloads over HTTP verifying a sha256 as it streams', async () => {
    const dest = path.join(img.dir, 'a.qcow2');
    const seen: number[] = [];
    const res = await downloadImage(`${base}/disk.qcow2`, dest, { algo: 'sha256', value: img.sha256 }, { onProgress: (b) => seen.push(b) });
    expect(res).toMatchObject({ bytes: served.length, hash: { algo: 'sha256', value: img.sha256 } });
    expect(seen.at(-1)).toBe(served.length);
    expect((await readFile(dest)).equals(served)).toBe(true);
  });

  it('reads the hash from a checksum file URL', async () => {
    const res = await downloadImage(`${base}/disk.qcow2`, path.join(img.dir, 'b.qcow2'), { url: `${base}/SHA256SUMS` });
    expect(res.hash).toEqual({ algo: 'sha256', value: img.sha256 });
  });

  it('copies a file:// image with an md5', async () => {
    const res = await downloadImage(pathToFileURL(img.qcow2).href, path.join(img.dir, 'c.qcow2'), { algo: 'md5', value: img.md5 });
    expect(res.bytes).toBe(served.length);
  });

  it('fails on a wrong checksum and leaves nothing behind', async () => {
    const dir = path.join(img.dir, 'bad');
    await import('node:fs/promises').then((m) => m.mkdir(dir));
    const err = await downloadImage(`${base}/disk.qcow2`, path.join(dir, 'x'), { algo: 'sha256', value: 'a'.repeat(64) }).catch((e) => e);
    expect(err).toBeInstanceOf(ChecksumMismatch);
    expect(err.message).toBe(`sha256 checksum of image ${base}/disk.qcow2 is ${img.sha256}, expected ${'a'.repeat(64)}`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('names the HTTP status of a missing image, a truncated transfer and a bad scheme', async () => {
    await expect(downloadImage(`${base}/nope.qcow2`, path.join(img.dir, 'd'), null)).rejects.toThrow(`Cannot download image ${base}/nope.qcow2: HTTP 404 Not Found`);
    const short = await downloadImage(`${base}/short.qcow2`, path.join(img.dir, 'e'), null).catch((e) => e);
    expect(short).toBeInstanceOf(ImageDownloadError);
    expect(short.message).toMatch(/(Cannot download image|Download of) .*short\.qcow2.*(other side closed|ended after|terminated)/);
    await expect(downloadImage('ftp://x/y', path.join(img.dir, 'f'), null)).rejects.toThrow(/Unsupported image URL scheme ftp:/);
    await expect(downloadImage(pathToFileURL(path.join(img.dir, 'missing')).href, path.join(img.dir, 'g'), null)).rejects.toThrow(/Cannot read image file:.*missing: ENOENT/);
  });

  it('fails when the checksum file does not list the image', async () => {
    await writeFile(path.join(img.dir, 'SUMS'), `${img.sha256}  something-else.img\n${img.md5}  another.img\n`);
    await expect(downloadImage(`${base}/disk.qcow2`, path.join(img.dir, 'h'), { url: pathToFileURL(path.join(img.dir, 'SUMS')).href })).rejects.toThrow('The checksum file has no entry for disk.qcow2');
  });
});
