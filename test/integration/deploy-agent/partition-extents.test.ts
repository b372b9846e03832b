// The agent's own partition reader (erase_devices_metadata's) against sfdisk's reading of the same
// disks, made by sfdisk: GPT, MBR with an extended partition and its logical ones, no table; and
// what eraseMetadata then zeroes (and leaves).
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseMetadata, readPartitionTable } from '../../../deploy-agent/disk.ts';
import { partitionExtents } from '../../../deploy-agent/partition-extents.ts';

const MIB = 1024 * 1024;
const DISK_BYTES = 64 * MIB;
let dir: string;
let seq = 0;

beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-extents-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** A disk file full of 0xab, partitioned by sfdisk from `script` (none: no table). */
async function disk(script?: string): Promise<string> {
  const file = path.join(dir, `disk${++seq}.img`);
  await writeFile(file, Buffer.alloc(DISK_BYTES, 0xab));
  if (script) await execa('sfdisk', ['--no-reread', '--no-tell-kernel', file], { input: script });
  return file;
}

async function extentsOf(file: string) {
  const fh = await open(file, 'r');
  try {
    return await partitionExtents(fh);
  } finally {
    await fh.close();
  }
}

async function sfdiskExtents(file: string) {
  const table = await readPartitionTable(file);
  return (table?.partitions ?? []).map((p) => ({ offset: p.start * table!.sectorsize, bytes: p.size * table!.sectorsize }));
}

describe('partition extents without sfdisk', () => {
  it('reads a GPT as sfdisk does', async () => {
    const file = await disk('label: gpt\nsize=8MiB, type=uefi\nsize=2048KiB, type=linux\nsize=20MiB, type=linux\n');
    const extents = await extentsOf(file);
    expect(extents).toHaveLength(3);
    expect(extents).toEqual(await sfdiskExtents(file));
  });

  it('reads an MBR with an extended partition and its logical partitions as sfdisk does', async () => {
    const file = await disk('label: dos\nsize=8MiB, type=83\nsize=4MiB, type=83\nsize=4MiB, type=83\nsize=40MiB, type=5\nsize=10MiB, type=83\nsize=12MiB, type=82\n');
    const extents = await extentsOf(file);
    expect(extents).toHaveLength(6);
    expect(extents).toEqual(await sfdiskExtents(file));
  });

  it('finds nothing on a disk without a partition table', async () => {
    expect(await extentsOf(await disk())).toEqual([]);
  });

  it('reads a GPT of 4 KiB sectors (its header at byte 4096)', async () => {
    const file = await disk();
    const header = Buffer.alloc(92);
    header.write('EFI PART', 0, 'latin1');
    header.writeBigUInt64LE(2n, 72);
    header.writeUInt32LE(128, 80);
    header.writeUInt32LE(128, 84);
    const entries = Buffer.alloc(128 * 128);
    entries.fill(0x11, 0, 16);
    entries.writeBigUInt64LE(256n, 32);
    entries.writeBigUInt64LE(256n + 2047n, 40);
    const fh = await open(file, 'r+');
    await fh.write(Buffer.alloc(4096), 0, 4096, 0);
    await fh.write(header, 0, header.length, 4096);
    await fh.write(entries, 0, entries.length, 8192);
    await fh.close();
    expect(await extentsOf(file)).toEqual([{ offset: 256 * 4096, bytes: 2048 * 4096 }]);
  });

  it('erases the first and last MiB and each partition\'s first MiB, nothing else', async () => {
    const file = await disk('label: gpt\nsize=8MiB, type=uefi\nsize=20MiB, type=linux\n');
    const extents = await extentsOf(file);
    await eraseMetadata(file, DISK_BYTES);
    const bytes = await readFile(file);
    const zero = (from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0);
    expect(zero(0, MIB)).toBe(true);
    expect(zero(DISK_BYTES - MIB, DISK_BYTES)).toBe(true);
    for (const p of extents) {
      expect(zero(p.offset, p.offset + MIB)).toBe(true);
      expect(bytes.subarray(p.offset + MIB, p.offset + 2 * MIB).every((b) => b === 0xab)).toBe(true);
    }
    expect(await readPartitionTable(file)).toBeNull();
  });
});
