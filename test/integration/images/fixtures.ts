// Real disk images for tests: a small MBR-partitioned raw disk with random data, as qcow2.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const MIB = 1024 * 1024;

export interface TestImages {
  dir: string;
  /** The raw content (32 MiB, MBR with one partition holding 3 MiB of random bytes). */
  raw: string;
  qcow2: string;
  /** A qcow2 whose L1 table points past the end of the file (qemu-img check finds errors). */
  corrupt: string;
  sha256: string;
  md5: string;
  cleanup(): Promise<void>;
}

export async function hashFile(file: string, algo: string): Promise<string> {
  return createHash(algo).update(await readFile(file)).digest('hex');
}

export async function makeTestImages(sizeMiB = 32): Promise<TestImages> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-images-'));
  const raw = path.join(dir, 'disk.raw');
  await execa('truncate', ['-s', `${sizeMiB}M`, raw]);
  await execa('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, size=20480, type=83\n' });
  const fh = await import('node:fs/promises').then((m) => m.open(raw, 'r+'));
  await fh.write(randomBytes(3 * MIB), 0, 3 * MIB, 2 * MIB);
  await fh.close();
  const qcow2 = path.join(dir, 'disk.qcow2');
  await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  const bytes = Buffer.from(await readFile(qcow2));
  const l1Offset = Number(bytes.readBigUInt64BE(40));
  bytes.writeBigUInt64BE((1n << 63n) | 0x7ffff0000n, l1Offset);
  const corrupt = path.join(dir, 'corrupt.qcow2');
  await writeFile(corrupt, bytes);
  return {
    dir, raw, qcow2, corrupt,
    sha256: await hashFile(qcow2, 'sha256'),
    md5: await hashFile(qcow2, 'md5'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
