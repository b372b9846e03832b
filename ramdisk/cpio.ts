// A writer for the "newc" cpio format, the one the Linux kernel unpacks as an initramfs.
// Written here rather than calling cpio(1) so that archives are reproducible: entries are sorted
// and every entry has mtime 0, uid/gid 0 and a stable inode number.
import { Writable } from 'node:stream';

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; mode?: number; data: Buffer }
  | { type: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(ino: number, mode: number, nlink: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameBytes.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return Buffer.concat([head, nameBytes, pad4(head.length + nameBytes.length)]);
}

/** Parent directories first, then everything in byte order of the path, so the output is stable. */
export function sortEntries(entries: CpioEntry[]): CpioEntry[] {
  const byPath = new Map<string, CpioEntry>();
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { type: 'dir', path: dir });
    }
    byPath.set(path, { ...entry, path });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Writes the archive (entries, then the trailer) to `out` and resolves when all bytes are handed over. */
export async function writeCpio(entries: CpioEntry[], out: Writable): Promise<void> {
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
  let ino = 1;
  for (const entry of sortEntries(entries)) {
    if (entry.type === 'dir') {
      await write(header(ino++, S_IFDIR | (entry.mode ?? 0o755), 2, 0, entry.path));
    } else if (entry.type === 'symlink') {
      const target = Buffer.from(entry.target);
      await write(header(ino++, S_IFLNK | 0o777, 1, target.length, entry.path));
      await write(Buffer.concat([target, pad4(target.length)]));
    } else {
      await write(header(ino++, S_IFREG | (entry.mode ?? 0o644), 1, entry.data.length, entry.path));
      await write(entry.data);
      await write(pad4(entry.data.length));
    }
  }
  await write(header(0, 0, 1, 0, 'TRAILER!!!'));
}
