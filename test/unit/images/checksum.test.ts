import { describe, expect, it } from 'vitest';
import { HashVerifier, algoByLength, checksumFrom, hashFromChecksumFile } from '../../../images/checksum.ts';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA512 = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

describe('checksumFrom', () => {
  it('prefers os_hash_algo/value over the legacy checksum', () => {
    expect(checksumFrom({ os_hash_algo: 'sha512', os_hash_value: SHA512, checksum: MD5 })).toEqual({ algo: 'sha512', value: SHA512 });
  });
  it('takes a legacy checksum by its length, or with an algo prefix', () => {
    expect(checksumFrom({ checksum: MD5 })).toEqual({ algo: 'md5', value: MD5 });
    expect(checksumFrom({ checksum: SHA256.toUpperCase() })).toEqual({ algo: 'sha256', value: SHA256 });
    expect(checksumFrom({ checksum: `sha256:${SHA256}` })).toEqual({ algo: 'sha256', value: SHA256 });
  });
  it('takes a checksum-file URL', () => {
    expect(checksumFrom({ checksum: 'http://example.test/SHA256SUMS' })).toEqual({ url: 'http://example.test/SHA256SUMS' });
    expect(checksumFrom({ os_hash_algo: 'sha256', os_hash_value: 'https://example.test/sums' })).toEqual({ algo: 'sha256', url: 'https://example.test/sums' });
  });
  it('returns null when no checksum is given', () => {
    expect(checksumFrom({})).toBeNull();
  });
  it('refuses unknown algorithms and malformed hashes with clear messages', () => {
    expect(() => checksumFrom({ os_hash_algo: 'sha1', os_hash_value: 'ab' })).toThrow(/Unsupported image_os_hash_algo "sha1"/);
    expect(() => checksumFrom({ os_hash_algo: 'sha256', os_hash_value: MD5 })).toThrow(/not a valid sha256 hash/);
    expect(() => checksumFrom({ checksum: 'not-a-hash' })).toThrow(/is not an md5, sha256 or sha512 checksum/);
    expect(() => algoByLength('zz'.repeat(16))).toThrow(/not an md5/);
  });
});

describe('hashFromChecksumFile', () => {
  const file = [
    '# comment',
    `${MD5}  other.img`,
    `${SHA256} *images/disk.qcow2`,
    `SHA512 (bsd.img) = ${SHA512}`,
  ].join('\n');
  it('finds the entry of the image by its file name, in GNU and BSD styles', () => {
    expect(hashFromChecksumFile(file, 'disk.qcow2')).toEqual({ algo: 'sha256', value: SHA256 });
    expect(hashFromChecksumFile(file, 'bsd.img')).toEqual({ algo: 'sha512', value: SHA512 });
  });
  it('uses the only hash of a one-line file', () => {
    expect(hashFromChecksumFile(`${SHA256}\n`, 'anything.img')).toEqual({ algo: 'sha256', value: SHA256 });
  });
  it('fails when the image is not listed', () => {
    expect(() => hashFromChecksumFile(file, 'missing.img')).toThrow(/no entry for missing.img/);
  });
});

describe('HashVerifier', () => {
  it('accepts the right bytes and names both hashes on a mismatch', () => {
    const ok = new HashVerifier({ algo: 'sha256', value: SHA256 }, 'empty');
    expect(ok.verify()).toBe(SHA256);
    const bad = new HashVerifier({ algo: 'md5', value: MD5 }, 'image x');
    bad.update(Buffer.from('data'));
    expect(() => bad.verify()).toThrow(/md5 checksum of image x is 8d777f385d3dfec8815d20f7496026dc, expected d41d8cd98f00b204e9800998ecf8427e/);
  });
});
