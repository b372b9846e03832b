// Where a disk's partitions lie, read from its GPT, or its MBR with the logical partitions of an
// extended one, by the agent itself: erase_devices_metadata used to ask `sfdisk -J`, a process start
// (and its libraries) that in a TCG VM took a good part of the step. Only what erasing needs: each
// partition's first byte and length, as sfdisk lists them (the extended partition itself included).
import type { FileHandle } from 'node:fs/promises';

export interface Extent { offset: number; bytes: number }

const GPT_SIGNATURE = 'EFI PART';
/** A GPT header is at LBA 1: byte 512, or 4096 on a disk of 4 KiB sectors. */
const GPT_SECTOR_SIZES = [512, 4096];
const GPT_HEADER_BYTES = 92;
/** The entries array a GPT may declare, at most (the usual 128 × 128 bytes is 16 KiB). */
const GPT_MAX_ENTRIES_BYTES = 1024 * 1024;
/** An MBR's LBAs are taken as 512-byte sectors. */
const MBR_SECTOR = 512;
const MBR_SIGNATURE = 0xaa55;
const MBR_PROTECTIVE = 0xee;
const MBR_EXTENDED = new Set([0x05, 0x0f, 0x85]);
/** Logical partitions followed along an extended partition's chain at most (a corrupt chain may loop). */
const MAX_LOGICAL = 128;

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

async function gptExtents(fh: FileHandle, header: Buffer, sector: number): Promise<Extent[]> {
  const entriesAt = Number(header.readBigUInt64LE(72)) * sector;
  const count = header.readUInt32LE(80);
  const size = header.readUInt32LE(84);
  if (size < 128 || count * size > GPT_MAX_ENTRIES_BYTES) return [];
  const entries = await readAt(fh, entriesAt, count * size);
  const out: Extent[] = [];
  for (let at = 0; at + size <= entries.length; at += size) {
    // An unused entry has the all-zero type GUID.
    if (entries.subarray(at, at + 16).every((b) => b === 0)) continue;
    const first = Number(entries.readBigUInt64LE(at + 32));
    const last = Number(entries.readBigUInt64LE(at + 40));
    if (last >= first) out.push({ offset: first * sector, bytes: (last - first + 1) * sector });
  }
  return out;
}

/** The four primary entries of a boot record: [type, first sector, sectors]. */
function recordEntries(record: Buffer): [number, number, number][] {
  return [0, 1, 2, 3].map((i) => {
    const e = 446 + 16 * i;
    return [record[e + 4]!, record.readUInt32LE(e + 8), record.readUInt32LE(e + 12)];
  });
}

async function mbrExtents(fh: FileHandle, mbr: Buffer): Promise<Extent[]> {
  const out: Extent[] = [];
  for (const [type, start, sectors] of recordEntries(mbr)) {
    if (type === 0 || sectors === 0 || type === MBR_PROTECTIVE) continue;
    out.push({ offset: start * MBR_SECTOR, bytes: sectors * MBR_SECTOR });
    if (!MBR_EXTENDED.has(type)) continue;
    // Each extended boot record: its logical partition (from the record) and the next record (from the extended partition's start).
    let ebr = start;
    for (let n = 0; n < MAX_LOGICAL; n++) {
      const record = await readAt(fh, ebr * MBR_SECTOR, MBR_SECTOR);
      if (record.length < MBR_SECTOR || record.readUInt16LE(510) !== MBR_SIGNATURE) break;
      const [[logicalType, logicalStart, logicalSectors], [nextType, nextStart]] = recordEntries(record);
      if (logicalType !== 0 && logicalSectors !== 0) out.push({ offset: (ebr + logicalStart) * MBR_SECTOR, bytes: logicalSectors * MBR_SECTOR });
      if (nextType === 0 || nextStart === 0) break;
      ebr = start + nextStart;
    }
  }
  return out;
}

/** The partitions of the disk open in `fh`: none when it has neither a GPT nor an MBR. */
export async function partitionExtents(fh: FileHandle): Promise<Extent[]> {
  for (const sector of GPT_SECTOR_SIZES) {
    const header = await readAt(fh, sector, GPT_HEADER_BYTES);
    if (header.length === GPT_HEADER_BYTES && header.toString('latin1', 0, 8) === GPT_SIGNATURE) return gptExtents(fh, header, sector);
  }
  const mbr = await readAt(fh, 0, MBR_SECTOR);
  if (mbr.length < MBR_SECTOR || mbr.readUInt16LE(510) !== MBR_SIGNATURE) return [];
  return mbrExtents(fh, mbr);
}
