// Downloads an image (http(s):// or file://) to a local file, hashing the bytes as they pass so
// the checksum is known when the last byte is written, with no second read of the file.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import { InvalidInput } from '../common/errors.ts';
import { HashVerifier, hashFromChecksumFile, type ChecksumSpec, type ExpectedHash } from './checksum.ts';
import { ImageDownloadError, ImageError, ImageRefused } from './errors.ts';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Milliseconds the whole download may take (default 1 h). */
  timeoutMs?: number;
  onProgress?: (bytes: number, total: number | null) => void;
  /** An undici dispatcher for https: the deploy agent's, which also trusts anvil.api_ca. */
  dispatcher?: Dispatcher;
}

/** The last path segment of a URL: the name a checksum file lists the image under. */
export function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/\/+$/, '').replace(/^.*\//, ''));
  } catch {
    return url.replace(/^.*\//, '');
  }
}

function checkScheme(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInput(`"${url}" is not a valid image URL`);
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol)) throw new InvalidInput(`Unsupported image URL scheme ${parsed.protocol} in ${url}: use http(s):// or file://`);
  return parsed;
}

/** Opens the bytes at `url`: a stream and its length when known. */
export async function openSource(url: string, opts: DownloadOptions = {}): Promise<{ stream: Readable; size: number | null }> {
  const parsed = checkScheme(url);
  if (parsed.protocol === 'file:') {
    const file = fileURLToPath(parsed);
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw new ImageDownloadError(`Cannot read image ${url}: ${(err as Error).message}`);
    }
    return { stream: createReadStream(file, { signal: opts.signal }), size };
  }
  let res: Response;
  try {
    const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 3_600_000)]) : AbortSignal.timeout(opts.timeoutMs ?? 3_600_000);
    // Node's fetch is undici's and takes its dispatcher, which Node's types do not name.
    res = await fetch(url, { signal, dispatcher: opts.dispatcher } as RequestInit);
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new ImageDownloadError(`Cannot download image ${url}: ${cause ?? (err as Error).message}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ImageDownloadError(`Cannot download image ${url}: HTTP ${res.status} ${res.statusText}`);
  }
  const length = Number(res.headers.get('content-length'));
  return { stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), size: Number.isFinite(length) && length > 0 ? length : null };
}

/** The text of a small file (a checksum file) at `url`. */
export async function fetchText(url: string, opts: DownloadOptions = {}): Promise<string> {
  const { stream } = await openSource(url, opts);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The expected hash: as given, or looked up in the checksum file the spec points at. */
export async function resolveChecksum(spec: ChecksumSpec, imageUrl: string, opts: DownloadOptions = {}): Promise<ExpectedHash> {
  if ('value' in spec) return spec;
  let text: string;
  try {
    text = await fetchText(spec.url, opts);
  } catch (err) {
    throw new ImageDownloadError(`Cannot read the checksum file ${spec.url}: ${(err as Error).message}`);
  }
  return hashFromChecksumFile(text, fileNameOf(imageUrl), spec.algo);
}

export interface Downloaded {
  path: string;
  bytes: number;
  /** The verified hash, or null when no checksum was asked for. */
  hash: ExpectedHash | null;
}

/**
 * Downloads `url` to `dest` (through `dest`.part, renamed at the end), verifying the checksum
 * as the bytes stream. On any failure nothing is left at `dest`.
 */
export async function downloadImage(url: string, dest: string, checksum: ChecksumSpec | null, opts: DownloadOptions = {}): Promise<Downloaded> {
  const expected = checksum ? await resolveChecksum(checksum, url, opts) : null;
  const verifier = expected ? new HashVerifier(expected, `image ${url}`) : null;
  const { stream, size } = await openSource(url, opts);
  const partial = `${dest}.part`;
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      verifier?.update(chunk);
      opts.onProgress?.(bytes, size);
      done(null, chunk);
    },
  });
  try {
    await pipeline(stream, tap, createWriteStream(partial), { signal: opts.signal });
    if (size !== null && bytes !== size) throw new ImageDownloadError(`Download of ${url} ended after ${bytes} of ${size} bytes`);
    verifier?.verify();
    await rename(partial, dest);
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof ImageError) throw err;
    throw new ImageDownloadError(`Download of ${url} failed: ${(err as Error).message}`);
  }
  return { path: dest, bytes, hash: expected };
}

/** Magic numbers of formats that must not be written as raw bytes (a qcow2 declared raw would give a disk of qcow2 metadata). */
const NOT_RAW: [string, number, Buffer][] = [
  ['qcow2', 0, Buffer.from('QFI\xfb', 'latin1')],
  ['vmdk', 0, Buffer.from('KDMV')],
  ['vhdx', 0, Buffer.from('vhdxfile')],
  ['vdi', 64, Buffer.from([0x7f, 0x10, 0xda, 0xbe])],
];

/**
 * Streams a raw image from `url` straight onto `device` (a block device or a disk file, written in
 * place), hashing as the bytes pass: one pass, no temporary copy. What is refused before a byte is
 * written: a size above `maxBytes`, a first block that is another format's. The checksum is known
 * when the last byte is written; a mismatch then fails (the disk holds the wrong bytes, as IPA's streaming).
 */
export async function streamRawImage(url: string, device: string, checksum: ChecksumSpec | null, opts: DownloadOptions & { maxBytes: number }): Promise<Downloaded> {
  const expected = checksum ? await resolveChecksum(checksum, url, opts) : null;
  const verifier = expected ? new HashVerifier(expected, `image ${url}`) : null;
  const { stream, size } = await openSource(url, opts);
  if (size !== null && size > opts.maxBytes) {
    stream.destroy();
    throw new ImageRefused(`Image ${url} of ${size} bytes does not fit on the disk of ${opts.maxBytes} bytes`);
  }
  let bytes = 0;
  let head: Buffer | null = Buffer.alloc(0);
  const releaseHead = (done: (err?: Error | null, data?: Buffer) => void) => {
    const first = head!;
    head = null;
    const found = NOT_RAW.find(([, at, magic]) => first.subarray(at, at + magic.length).equals(magic));
    if (found) done(new ImageRefused(`Image ${url} was declared raw but is ${found[0]}`));
    else done(null, first);
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) return done(new ImageRefused(`Image ${url} is larger than the disk of ${opts.maxBytes} bytes`));
      verifier?.update(chunk);
      opts.onProgress?.(bytes, size);
      if (head === null) return done(null, chunk);
      // Held back until the first 512 bytes show it is not another format.
      head = Buffer.concat([head, chunk]);
      if (head.length < 512 && bytes !== size) return done();
      releaseHead(done);
    },
    flush(done) {
      if (head?.length) releaseHead(done);
      else done();
    },
  });
  try {
    // r+: in place (a disk file keeps its size); flush: synced before the stream ends.
    await pipeline(stream, tap, createWriteStream(device, { flags: 'r+', flush: true }), { signal: opts.signal });
    if (size !== null && bytes !== size) throw new ImageDownloadError(`Download of ${url} ended after ${bytes} of ${size} bytes`);
    verifier?.verify();
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageDownloadError(`Streaming ${url} to ${device} failed: ${(err as Error).message}`);
  }
  return { path: device, bytes, hash: expected };
}
