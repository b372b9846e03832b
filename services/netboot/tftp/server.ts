// Read-only TFTP server (RFC 1350) with blksize (RFC 2348), tsize and timeout (RFC 2349). Each
// transfer gets its own socket (its TID), a window of one block, and retransmits on timeout.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../../../common/logger.ts';
import { RefusedPath, resolveInRoot, safeRelativePath } from '../paths.ts';
import { ErrorCode, Op, TftpDecodeError, dataPacket, errorPacket, oackPacket, parsePacket, toNetascii, type Request } from './packets.ts';
import { tftpBytes, tftpTransfers } from '../../../common/metrics.ts';

/** A file made on demand (per-node boot configs), or undefined to look in the root. */
export type TftpRenderer = (relPath: string) => Promise<Buffer | undefined>;

export interface TftpOptions {
  host: string;
  port: number;
  root: string;
  /** Seconds before a block is sent again, unless the client negotiates `timeout`. */
  timeoutSec: number;
  /** Retransmissions of one block before the transfer is abandoned. */
  retries: number;
  render?: TftpRenderer;
  logger: Logger;
}

export interface TftpStats {
  requests: number;
  malformed: number;
  completed: number;
  failed: number;
  bytesSent: number;
  active: number;
}

export interface TftpServer {
  readonly port: number;
  readonly stats: TftpStats;
  close(): Promise<void>;
}

const MIN_BLKSIZE = 8;
const MAX_BLKSIZE = 65464;
const DEFAULT_BLKSIZE = 512;

interface Source {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

function bufferSource(data: Buffer): Source {
  return { size: data.length, read: async (o, l) => data.subarray(o, o + l), close: async () => undefined };
}

/** Reads ahead in large chunks: one file-system call per many blocks, not one per block. */
const READ_AHEAD = 1024 * 1024;

function fileSource(handle: FileHandle, size: number): Source {
  let chunk = Buffer.alloc(0);
  let chunkStart = 0;
  return {
    size,
    async read(offset, length) {
      const end = Math.min(offset + length, size);
      if (offset < chunkStart || end > chunkStart + chunk.length) {
        chunkStart = offset;
        chunk = Buffer.alloc(Math.max(0, Math.min(Math.max(READ_AHEAD, length), size - offset)));
        if (chunk.length > 0) await handle.read(chunk, 0, chunk.length, offset);
      }
      return chunk.subarray(offset - chunkStart, end - chunkStart);
    },
    close: () => handle.close(),
  };
}

export async function startTftpServer(opts: TftpOptions): Promise<TftpServer> {
  const { logger } = opts;
  const root = await realpath(opts.root);
  const stats: TftpStats = { requests: 0, malformed: 0, completed: 0, failed: 0, bytesSent: 0, active: 0 };
  const transfers = new Set<() => void>();
  // An IPv6 host (the default [::]) is dual stack: IPv4 clients arrive as ::ffff:a.b.c.d.
  const family = isIPv6(opts.host) ? 'udp6' : 'udp4';
  const wildcard = opts.host === '0.0.0.0' || opts.host === '::';
  const listener = dgram.createSocket({ type: family, reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.bind(opts.port, opts.host, () => { listener.off('error', reject); resolve(); });
  });

  async function openSource(relPath: string, netascii: boolean): Promise<Source> {
    const rendered = await opts.render?.(relPath);
    if (rendered) return bufferSource(netascii ? toNetascii(rendered) : rendered);
    const real = await resolveInRoot(root, relPath);
    if (!real) throw Object.assign(new Error(`File not found: ${relPath}`), { tftpCode: ErrorCode.FILE_NOT_FOUND });
    const info = await stat(real);
    if (!info.isFile()) throw Object.assign(new Error(`Not a file: ${relPath}`), { tftpCode: ErrorCode.FILE_NOT_FOUND });
    const handle = await open(real, 'r');
    if (!netascii) return fileSource(handle, info.size);
    const data = await handle.readFile();
    await handle.close();
    return bufferSource(toNetascii(data));
  }

  async function serve(req: Request, client: dgram.RemoteInfo): Promise<void> {
    const socket = dgram.createSocket(family);
    await new Promise<void>((resolve) => socket.bind(0, wildcard ? undefined : opts.host, resolve));
    const send = (buf: Buffer): void => socket.send(buf, client.port, client.address);
    // Closing at once would drop the datagram still queued.
    const fail = (code: number, message: string): void => socket.send(errorPacket(code, message), client.port, client.address, () => socket.close());
    if (req.op === Op.WRQ) return fail(ErrorCode.ACCESS_VIOLATION, 'This server is read-only');
    if (req.mode !== 'octet' && req.mode !== 'netascii') return fail(ErrorCode.ILLEGAL_OPERATION, `Unsupported mode "${req.mode}"`);

    let source: Source;
    let relPath: string;
    try {
      relPath = safeRelativePath(req.filename);
      source = await openSource(relPath, req.mode === 'netascii');
    } catch (err) {
      stats.failed++;
      tftpTransfers.inc({ result: err instanceof RefusedPath ? 'refused' : (err as { tftpCode?: number }).tftpCode === ErrorCode.FILE_NOT_FOUND ? 'not found' : 'error' });
      if (err instanceof RefusedPath) {
        logger.warn({ file: req.filename, from: client.address, reason: err.message }, 'TFTP request refused');
        return fail(ErrorCode.ACCESS_VIOLATION, `Access violation: ${err.message}`);
      }
      const code = (err as { tftpCode?: number }).tftpCode ?? ErrorCode.NOT_DEFINED;
      logger.debug({ file: req.filename, from: client.address, reason: (err as Error).message }, 'TFTP request failed');
      return fail(code, (err as Error).message);
    }

    // Options (RFC 2347): accept what we support, with the values we will use.
    const accepted = new Map<string, string>();
    let blksize = DEFAULT_BLKSIZE;
    let timeoutMs = opts.timeoutSec * 1000;
    const askedBlk = Number(req.options.get('blksize'));
    if (req.options.has('blksize') && Number.isInteger(askedBlk) && askedBlk >= MIN_BLKSIZE) {
      blksize = Math.min(askedBlk, MAX_BLKSIZE);
      accepted.set('blksize', String(blksize));
    }
    const askedTimeout = Number(req.options.get('timeout'));
    if (req.options.has('timeout') && Number.isInteger(askedTimeout) && askedTimeout >= 1 && askedTimeout <= 255) {
      timeoutMs = askedTimeout * 1000;
      accepted.set('timeout', String(askedTimeout));
    }
    if (req.options.has('tsize')) accepted.set('tsize', String(source.size));

    stats.active++;
    const lastBlock = Math.floor(source.size / blksize) + 1;
    let block = accepted.size > 0 ? 0 : 1; // block 0 = the OACK waiting for ACK 0
    let packet: Buffer = Buffer.alloc(0);
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (ok: boolean, why: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      transfers.delete(abort);
      stats.active--;
      if (ok) stats.completed++;
      else stats.failed++;
      tftpTransfers.inc({ result: ok ? 'complete' : 'error' });
      socket.close();
      source.close().catch(() => undefined);
      logger.debug({ file: relPath, to: client.address, ok, why }, 'TFTP transfer ended');
    };
    const abort = (): void => finish(false, 'server stopping');
    transfers.add(abort);

    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > opts.retries) return finish(false, `no ACK of block ${block} after ${opts.retries} retransmissions`);
        send(packet);
        arm();
      }, timeoutMs);
    };
    const sendBlock = async (): Promise<void> => {
      if (block === 0) packet = oackPacket(accepted);
      else {
        const payload = await source.read((block - 1) * blksize, blksize);
        packet = dataPacket(block, payload);
        stats.bytesSent += payload.length;
        tftpBytes.inc(payload.length);
      }
      if (done) return;
      tries = 0;
      send(packet);
      arm();
    };

    socket.on('message', (msg, from) => {
      if (from.port !== client.port || from.address !== client.address) {
        socket.send(errorPacket(ErrorCode.UNKNOWN_TID, 'Unknown transfer ID'), from.port, from.address);
        return;
      }
      let p;
      try {
        p = parsePacket(msg);
      } catch {
        stats.malformed++;
        return;
      }
      if (p.op === Op.ERROR) return finish(false, `client error ${p.code}: ${p.message}`);
      if (p.op !== Op.ACK) return;
      // A duplicate ACK of an earlier block is ignored (no Sorcerer's Apprentice resend).
      if (p.block !== (block & 0xffff)) return;
      if (block === lastBlock) return finish(true, 'complete');
      block++;
      sendBlock().catch((err) => { logger.error({ err }, 'TFTP read failed'); finish(false, 'read error'); });
    });
    socket.on('error', (err) => { logger.debug({ err }, 'TFTP transfer socket error'); finish(false, 'socket error'); });
    await sendBlock();
  }

  listener.on('message', (msg, client) => {
    let req;
    try {
      req = parsePacket(msg);
    } catch (err) {
      if (!(err instanceof TftpDecodeError)) throw err;
      stats.malformed++;
      return;
    }
    if (req.op !== Op.RRQ && req.op !== Op.WRQ) {
      stats.malformed++;
      return;
    }
    stats.requests++;
    serve(req, client).catch((err) => logger.error({ err }, 'TFTP request failed'));
  });
  listener.on('error', (err) => logger.error({ err }, 'TFTP socket error'));
  const port = listener.address().port;
  logger.info({ host: opts.host, port, root }, 'TFTP server listening');

  return {
    port,
    stats,
    async close() {
      for (const abort of [...transfers]) abort();
      await new Promise<void>((r) => listener.close(() => r()));
    },
  };
}
