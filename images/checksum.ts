// Image checksums as Ironic and IPA take them: `image_os_hash_algo` + `image_os_hash_value`
// (md5/sha256/sha512), or the legacy `image_checksum` (an md5, any hash by its length, or the URL
// of a checksum file). The hash is computed while the bytes stream by (see download.ts).
import { createHash, type Hash } from 'node:crypto';
import { InvalidInput } from '../common/errors.ts';
import { ChecksumMismatch } from './errors.ts';

export const HASH_ALGOS = ['md5', 'sha256', 'sha512'] as const;
export type HashAlgo = (typeof HASH_ALGOS)[number];

export interface ExpectedHash { algo: HashAlgo; value: string }

/** Where the expected hash comes from: known, or to be read from a checksum file first. */
export type ChecksumSpec = ExpectedHash | { algo?: HashAlgo; url: string };

const BY_LENGTH: Record<number, HashAlgo> = { 32: 'md5', 64: 'sha256', 128: 'sha512' };

function isUrl(value: string): boolean {
  return /^(https?|file):\/\//i.test(value);
}

export function algoByLength(value: string): HashAlgo {
  const algo = BY_LENGTH[value.length];
  if (!algo || !/^[0-9a-f]+$/i.test(value)) throw new InvalidInput(`"${value.slice(0, 140)}" is not an md5, sha256 or sha512 checksum`);
  return algo;
}

function parseAlgo(raw: unknown): HashAlgo {
  const algo = String(raw).toLowerCase();
  if (!(HASH_ALGOS as readonly string[]).includes(algo)) throw new InvalidInput(`Unsupported image_os_hash_algo "${String(raw)}": use one of ${HASH_ALGOS.join(', ')}`);
  return algo as HashAlgo;
}

/**
 * The checksum of an image from Ironic-style fields (instance_info `image_*` or the agent's
 * image_info without the prefix). os_hash_* wins over checksum, as in IPA.
 */
export function checksumFrom(fields: { os_hash_algo?: unknown; os_hash_value?: unknown; checksum?: unknown }): ChecksumSpec | null {
  const value = typeof fields.os_hash_value === 'string' ? fields.os_hash_value.trim() : '';
  if (fields.os_hash_algo && value) {
    const algo = parseAlgo(fields.os_hash_algo);
    if (isUrl(value)) return { algo, url: value };
    if (value.length !== { md5: 32, sha256: 64, sha512: 128 }[algo] || !/^[0-9a-f]+$/i.test(value)) {
      throw new InvalidInput(`image_os_hash_value is not a valid ${algo} hash`);
    }
    return { algo, value: value.toLowerCase() };
  }
  const legacy = typeof fields.checksum === 'string' ? fields.checksum.trim() : '';
  if (!legacy) return null;
  if (isUrl(legacy)) return { url: legacy };
  // "sha256:abc..." is accepted too.
  const prefixed = /^(md5|sha256|sha512):([0-9a-f]+)$/i.exec(legacy);
  if (prefixed) return { algo: parseAlgo(prefixed[1]), value: prefixed[2].toLowerCase() };
  return { algo: algoByLength(legacy), value: legacy.toLowerCase() };
}

/**
 * Finds the hash of `fileName` in a checksum file (`HASH  name`, `HASH *name`, BSD
 * `SHA256 (name) = HASH`), or the only hash of a file that holds just one.
 */
export function hashFromChecksumFile(text: string, fileName: string, algo?: HashAlgo): ExpectedHash {
  const entries: { name: string | null; hash: string }[] = [];
  for (const line of text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const bsd = /^\w+ \((.+)\) = ([0-9a-f]+)$/i.exec(line);
    const gnu = /^([0-9a-f]+)\s+\*?(.+)$/i.exec(line);
    const bare = /^([0-9a-f]+)$/i.exec(line);
    if (bsd) entries.push({ name: bsd[1], hash: bsd[2] });
    else if (gnu) entries.push({ name: gnu[2].trim(), hash: gnu[1] });
    else if (bare) entries.push({ name: null, hash: bare[1] });
  }
  const base = (n: string) => n.replace(/^.*\//, '');
  const found = entries.find((e) => e.name !== null && base(e.name) === base(fileName)) ?? (entries.length === 1 ? entries[0] : undefined);
  if (!found) throw new InvalidInput(`The checksum file has no entry for ${fileName}`);
  return { algo: algo ?? algoByLength(found.hash), value: found.hash.toLowerCase() };
}

/** A running hash and the check at the end. */
export class HashVerifier {
  private readonly hash: Hash;
  constructor(readonly expected: ExpectedHash, private readonly what: string) {
    this.hash = createHash(expected.algo);
  }
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  /** Throws ChecksumMismatch unless the bytes seen hash to the expected value. */
  verify(): string {
    const actual = this.hash.digest('hex');
    if (actual !== this.expected.value) {
      throw new ChecksumMismatch(`${this.expected.algo} checksum of ${this.what} is ${actual}, expected ${this.expected.value}`);
    }
    return actual;
  }
}
