// A small HTTP server that hands files of one directory (the image cache) to deploy agents,
// with Range requests so an agent can resume or read a part. With a signer, only signed,
// unexpired per-node URLs are served (signed-url.ts).
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createFileServer, type TlsFiles } from '../common/tls-server.ts';
import type { UrlSigner } from './signed-url.ts';
import { origin } from '../common/url-host.ts';

export interface ImageServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (https with `tls`) — a file `name` is at `${url}/name`. */
  url: string;
  /** The base URL with another host: where peers that reach this server by another address (IPv6 BMCs) find it. */
  urlAt(host: string): string;
  server: Server;
  close(): Promise<void>;
}

/** ISO 9660's volume descriptor signature, at byte 1 of sector 16. */
const ISO_MAGIC = { offset: 0x8001, bytes: Buffer.from('CD001') };

/**
 * An ISO 9660 image is labelled application/vnd.efi-iso: UEFI HTTP boot (redfish-https) mounts a
 * download as a RAM disk only when its type or name says it is a CD, and these names have no suffix.
 */
async function contentTypeOf(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const probe = Buffer.alloc(ISO_MAGIC.bytes.length);
    const { bytesRead } = await fh.read(probe, 0, probe.length, ISO_MAGIC.offset);
    return bytesRead === probe.length && probe.equals(ISO_MAGIC.bytes) ? 'application/vnd.efi-iso' : 'application/octet-stream';
  } finally {
    await fh.close();
  }
}

/** Parses one `bytes=` range against a size: [start, end] inclusive, 'unsatisfiable', or null (no/unsupported header). */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse, signer?: UrlSigner): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let name: string;
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://x');
    name = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  } catch {
    res.writeHead(400).end('bad path\n');
    return;
  }
  if (signer) {
    const verdict = signer.verify(url.pathname, url.searchParams);
    if (verdict !== 'ok') {
      res.writeHead(403).end(verdict === 'expired' ? 'this URL has expired\n' : 'a valid signed URL is required\n');
      return;
    }
  }
  const file = path.resolve(root, name);
  if (!name || !file.startsWith(path.resolve(root) + path.sep)) {
    res.writeHead(404).end('not found\n');
    return;
  }
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) {
    res.writeHead(404).end('not found\n');
    return;
  }
  const headers = { 'accept-ranges': 'bytes', 'content-type': await contentTypeOf(file), 'last-modified': st.mtime.toUTCString() };
  const range = parseRange(req.headers.range, st.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
    return;
  }
  const [start, end] = range ?? [0, st.size - 1];
  const length = st.size === 0 ? 0 : end - start + 1;
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(length), ...(range ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}) });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/** `advertiseHost`: the host put in `url` when clients reach the server by another name than it binds to (0.0.0.0); `tls`: serve HTTPS. */
export async function startImageServer(opts: { root: string; host?: string; port?: number; advertiseHost?: string; signer?: UrlSigner; tls?: TlsFiles }): Promise<ImageServer> {
  const server = createFileServer(opts.tls, 'images.tls', (req, res) => {
    handle(opts.root, req, res, opts.signer).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlAt = (shown: string): string => origin(opts.tls?.cert ? 'https' : 'http', shown, port);
  return {
    url: urlAt(opts.advertiseHost ?? host),
    urlAt,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
