// HTTP boot: per-node iPXE scripts (and pxelinux/GRUB configs) rendered from the database, and
// kernels, ramdisks and images served from the HTTP root with single-range requests (RFC 9110).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../common/logger.ts';
import { httpBootRequests } from '../../../common/metrics.ts';
import { createFileServer, type TlsFiles } from '../../../common/tls-server.ts';
import { renderBootFile } from '../bootconfig.ts';
import { RefusedPath, resolveInRoot, safeRelativePath } from '../paths.ts';
import type { TargetDirectory } from '../targets.ts';

/**
 * UEFI HTTP boot picks what to do with a download by its Content-Type (UEFI 2.x 24.7.3: an EFI
 * application, or a CD or disk image it mounts as a RAM disk), falling back to the name's extension.
 */
const UEFI_TYPES: Record<string, string> = { '.efi': 'application/efi', '.iso': 'application/vnd.efi-iso' };

function contentTypeOf(relPath: string): string {
  return UEFI_TYPES[relPath.slice(relPath.lastIndexOf('.')).toLowerCase()] ?? 'application/octet-stream';
}

export interface HttpBootServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Parses one `bytes=` range against a size; 'unsatisfiable', or undefined to send the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges and other units: the whole file is a valid answer.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** With `tls` (netboot.http.tls), HTTPS: for iPXE built with HTTPS support and UEFI HTTPS boot. */
export async function startHttpBootServer(opts: { host: string; port: number; root: string; targets: TargetDirectory; logger: Logger; tls?: TlsFiles }): Promise<HttpBootServer> {
  const { logger } = opts;
  const root = await realpath(opts.root);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let kind = 'file';
    res.once('finish', () => httpBootRequests.inc({ kind, status: String(res.statusCode) }));
    const plain = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return plain(405, 'Only GET and HEAD are served\n');
    }
    let relPath: string;
    try {
      relPath = safeRelativePath(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    } catch (err) {
      return plain(err instanceof RefusedPath ? 403 : 400, `${(err as Error).message}\n`);
    }
    const rendered = await renderBootFile(relPath, opts.targets);
    if (rendered !== undefined || /^boot\/[^/]+\.ipxe$/.test(relPath)) kind = 'boot config';
    if (rendered !== undefined) {
      res.setHeader('cache-control', 'no-store');
      return plain(200, rendered);
    }
    if (/^boot\/[^/]+\.ipxe$/.test(relPath)) return plain(404, `No boot script for ${relPath}: the machine is not being provisioned\n`);
    let file: string | undefined;
    try {
      file = await resolveInRoot(root, relPath);
    } catch (err) {
      return plain(403, `${(err as Error).message}\n`);
    }
    const info = file ? await stat(file) : undefined;
    if (!file || !info?.isFile()) return plain(404, `Not found: /${relPath}\n`);

    const headers: Record<string, string | number> = {
      'accept-ranges': 'bytes',
      'content-type': contentTypeOf(relPath),
      'last-modified': info.mtime.toUTCString(),
    };
    const range = parseRange(req.headers.range, info.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${info.size}` });
      res.end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: info.size - 1 };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
    headers['content-length'] = Math.max(0, end - start + 1);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || info.size === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(file, { start, end });
    stream.on('error', (err) => res.destroy(err));
    stream.pipe(res);
  }

  // Long keep-alive: firmware HTTP clients fetch kernel and ramdisk one after the other.
  const server = createFileServer(opts.tls, 'netboot.http.tls', (req, res) => {
    handle(req, res).catch((err) => {
      logger.error({ err, url: req.url }, 'HTTP boot request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal error\n');
    });
  }, { keepAliveTimeout: 65_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: opts.host, port, root, https: Boolean(opts.tls?.cert) }, 'HTTP boot server listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
