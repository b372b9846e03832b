// Operations on the root disk, whether a block device or a file standing for one: the partition
// table (sfdisk), the config drive partition, erasing (partition-extents.ts: no sfdisk). Same code for the real and simulated agent.
import { open } from 'node:fs/promises';
import { execa } from 'execa';
import { partitionExtents } from './partition-extents.ts';

export interface PartitionEntry { node: string; start: number; size: number; type: string; uuid?: string; name?: string }
export interface PartitionTable { label: 'gpt' | 'dos'; id: string; sectorsize: number; partitions: PartitionEntry[] }

/** The disk's partition table, or null if it has none. */
export async function readPartitionTable(disk: string): Promise<PartitionTable | null> {
  const res = await execa('sfdisk', ['-J', disk], { reject: false, timeout: 30_000 });
  if (res.exitCode !== 0 || !res.stdout.trim()) return null;
  const table = (JSON.parse(res.stdout) as { partitiontable: PartitionTable }).partitiontable;
  return { ...table, sectorsize: table.sectorsize ?? 512, partitions: table.partitions ?? [] };
}

/** Room IPA gives the config drive: the last 64 MiB of the disk. */
export const CONFIG_DRIVE_PARTITION_BYTES = 64 * 1024 * 1024;
const GPT_BACKUP_SECTORS = 33;
const ALIGN_SECTORS = 2048;
const ESP_TYPES = new Set(['c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'ef']);
const PREP_TYPES = new Set(['9e1a2d38-c612-4316-aa26-8b49521e5a8b', '41']);

async function writeAt(disk: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(disk, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Adds the config drive as IPA does (disk_utils.create_config_drive_partition): a new partition
 * in the last 64 MiB of the disk, after the image's partitions, and the ISO written into it. A
 * disk without a partition table, or an MBR with four primary partitions, has no place for it.
 * Returns the partition's first byte.
 */
export async function writeConfigDrivePartition(disk: string, diskBytes: number, iso: Buffer, blockDevice: boolean): Promise<{ offset: number; partition: PartitionEntry }> {
  if (iso.length > CONFIG_DRIVE_PARTITION_BYTES) throw new Error(`Config drive of ${iso.length} bytes exceeds ${CONFIG_DRIVE_PARTITION_BYTES} bytes`);
  const table = await readPartitionTable(disk);
  if (!table) throw new Error('The image written to the disk has no partition table: no place for a config drive partition');
  const sector = table.sectorsize;
  if (table.label === 'dos' && table.partitions.length >= 4) throw new Error('The image already has 4 MBR partitions: no place for a config drive partition');
  const size = CONFIG_DRIVE_PARTITION_BYTES / sector;
  const lastUsable = Math.floor(diskBytes / sector) - (table.label === 'gpt' ? GPT_BACKUP_SECTORS : 0);
  const start = Math.floor((lastUsable - size) / ALIGN_SECTORS) * ALIGN_SECTORS;
  const usedUpTo = Math.max(0, ...table.partitions.map((p) => p.start + p.size));
  if (start < usedUpTo) throw new Error(`The disk is too small for a config drive partition after the image's partitions (${diskBytes} bytes)`);
  const type = table.label === 'gpt' ? '0FC63DAF-8483-4772-8E79-3D69D8477DE4' : '83';
  const line = `start=${start}, size=${size}, type=${type}${table.label === 'gpt' ? ', name=config-2' : ''}\n`;
  const args = ['--append', '--no-reread', ...(blockDevice ? [] : ['--no-tell-kernel']), disk];
  const res = await execa('sfdisk', args, { input: line, reject: false, timeout: 30_000 });
  if (res.exitCode !== 0) throw new Error(`Creating the config drive partition failed: ${res.stderr.trim()}`);
  if (blockDevice) await execa('blockdev', ['--rereadpt', disk], { reject: false, timeout: 30_000 });
  const offset = start * sector;
  await writeAt(disk, offset, Buffer.concat([iso, Buffer.alloc(Math.min(1024 * 1024, CONFIG_DRIVE_PARTITION_BYTES - iso.length))]));
  const after = await readPartitionTable(disk);
  const partition = after?.partitions.find((p) => p.start === start);
  if (!partition) throw new Error('The config drive partition is missing after it was created');
  return { offset, partition };
}

/** IPA's get_partition_uuids for a whole-disk image: the disk id as root uuid, plus ESP and PReP partitions. */
export async function partitionUuids(disk: string): Promise<Record<string, unknown>> {
  const table = await readPartitionTable(disk);
  if (!table) return { 'root uuid': null, 'efi system partition uuid': null, 'PReP Boot partition uuid': null, partitions: {} };
  const uuidOf = (p: PartitionEntry, i: number) => p.uuid?.toLowerCase() ?? `${table.id.replace(/^0x/, '')}-${String(i + 1).padStart(2, '0')}`;
  const esp = table.partitions.findIndex((p) => ESP_TYPES.has(p.type.toLowerCase()));
  const prep = table.partitions.findIndex((p) => PREP_TYPES.has(p.type.toLowerCase()));
  return {
    'root uuid': table.id.toLowerCase(),
    'efi system partition uuid': esp >= 0 ? uuidOf(table.partitions[esp], esp) : null,
    'PReP Boot partition uuid': prep >= 0 ? uuidOf(table.partitions[prep], prep) : null,
    partitions: Object.fromEntries(table.partitions.map((p, i) => [p.node, uuidOf(p, i)])),
  };
}

const MIB = 1024 * 1024;

/**
 * IPA's erase_devices_metadata: wipes what identifies partitions and file systems — the first
 * and last MiB of the disk (the MBR, the GPT and its backup) and the first MiB of each partition,
 * found by partition-extents.ts, then one fsync.
 */
export async function eraseMetadata(disk: string, diskBytes: number): Promise<void> {
  const zeros = Buffer.alloc(MIB);
  const fh = await open(disk, 'r+');
  try {
    for (const p of await partitionExtents(fh)) {
      if (p.offset < diskBytes) await fh.write(zeros, 0, Math.min(MIB, p.bytes, diskBytes - p.offset), p.offset);
    }
    await fh.write(zeros, 0, Math.min(MIB, diskBytes), 0);
    if (diskBytes > MIB) await fh.write(zeros, 0, MIB, diskBytes - MIB);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** IPA's erase_devices without secure erase support: every byte overwritten with zeros. */
export async function eraseAll(disk: string, diskBytes: number, signal?: AbortSignal): Promise<void> {
  const block = Buffer.alloc(4 * MIB);
  const fh = await open(disk, 'r+');
  try {
    for (let pos = 0; pos < diskBytes; pos += block.length) {
      signal?.throwIfAborted();
      await fh.write(block, 0, Math.min(block.length, diskBytes - pos), pos);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
