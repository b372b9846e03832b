// Signed, expiring per-node URLs of the image server: a right signature is served until it
// expires; a missing, altered or other node's signature, or another file's, is refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, type ImageServer } from '../../../images/server.ts';
import { UrlSigner, unsignedUrl } from '../../../images/signed-url.ts';

describe('signed image URLs', () => {
  let now = 1_700_000_000_000;
  const signer = new UrlSigner(undefined, () => now);
  let server: ImageServer;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-signed-'));
  beforeAll(async () => {
    writeFileSync(path.join(dir, 'img-a'), 'image A');
    writeFileSync(path.join(dir, 'img-b'), 'image B');
    server = await startImageServer({ root: dir, signer });
  });
  afterAll(() => server?.close());
  const get = (url: string) => fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));

  it('serves a signed URL until it expires', async () => {
    const url = `${server.url}/img-a?${signer.sign('/img-a', 'node-1', 60)}`;
    expect(await get(url)).toEqual({ status: 200, body: 'image A' });
    now += 61_000;
    expect(await get(url)).toEqual({ status: 403, body: 'this URL has expired\n' });
  });

  it('refuses unsigned, altered and borrowed signatures', async () => {
    const query = new URLSearchParams(signer.sign('/img-a', 'node-1', 60));
    expect((await get(`${server.url}/img-a`)).status).toBe(403);
    const otherNode = new URLSearchParams(query);
    otherNode.set('node', 'node-2');
    expect((await get(`${server.url}/img-a?${otherNode}`)).status).toBe(403);
    const later = new URLSearchParams(query);
    later.set('temp_url_expires', String(Number(query.get('temp_url_expires')) + 3600));
    expect((await get(`${server.url}/img-a?${later}`)).status).toBe(403);
    expect((await get(`${server.url}/img-b?${query}`)).status).toBe(403);
    expect((await get(`${server.url}/img-a?${query}`)).status).toBe(200);
    // Another process's key signs nothing this server accepts.
    expect((await get(`${server.url}/img-a?${new UrlSigner(undefined, () => now).sign('/img-a', 'node-1', 60)}`)).status).toBe(403);
  });

  it('names one image by one URL once the signature is taken off', () => {
    const a = `${server.url}/img-a?${signer.sign('/img-a', 'node-1', 60)}`;
    const b = `${server.url}/img-a?${signer.sign('/img-a', 'node-2', 90)}`;
    expect(unsignedUrl(a)).toBe(`${server.url}/img-a`);
    expect(unsignedUrl(a)).toBe(unsignedUrl(b));
    expect(unsignedUrl('http://h/x?y=1')).toBe('http://h/x?y=1');
  });
});
