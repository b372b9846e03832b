// The initramfs archive writer: busybox cpio (what the kernel's format is checked against here)
// reads it back, and the bytes do not depend on the order entries were given in.
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CpioEntry, sortEntries, writeCpio } from '../../../ramdisk/cpio.ts';

async function archive(entries: CpioEntry[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeCpio(entries, out);
  out.end();
  return Buffer.concat(chunks);
}

const ENTRIES: CpioEntry[] = [
  { type: 'file', path: 'init', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
  { type: 'file', path: 'usr/lib/modules/6.1/kernel/a.ko', data: Buffer.from([1, 2, 3]) },
  { type: 'symlink', path: 'bin', target: 'usr/bin' },
  { type: 'file', path: 'usr/bin/busybox', mode: 0o755, data: Buffer.alloc(4097, 7) },
  { type: 'symlink', path: 'usr/bin/sh', target: 'busybox' },
  { type: 'dir', path: 'tmp', mode: 0o1777 },
  { type: 'file', path: 'etc/empty', data: Buffer.alloc(0) },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-cpio-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cpio newc writer', () => {
  it('adds missing parent directories and puts parents before children', () => {
    const paths = sortEntries(ENTRIES).map((e) => e.path);
    expect(paths).toEqual(['bin', 'etc', 'etc/empty', 'init', 'tmp', 'usr', 'usr/bin', 'usr/bin/busybox', 'usr/bin/sh', 'usr/lib', 'usr/lib/modules', 'usr/lib/modules/6.1', 'usr/lib/modules/6.1/kernel', 'usr/lib/modules/6.1/kernel/a.ko']);
  });

  it('writes the same bytes whatever the order of the entries', async () => {
    const a = await archive(ENTRIES);
    const b = await archive([...ENTRIES].reverse());
    expect(a.equals(b)).toBe(true);
    expect(a.length % 4).toBe(0);
    expect(a.subarray(0, 6).toString()).toBe('070701');
    expect(a.includes(Buffer.from('TRAILER!!!'))).toBe(true);
  });

  it('is read back by busybox cpio with contents, modes and links intact', async () => {
    const file = join(dir, 'a.cpio');
    await writeFile(file, await archive(ENTRIES));
    const root = join(dir, 'root');
    await execa('mkdir', [root]);
    await execa('sh', ['-c', `cd "${root}" && busybox cpio -i -d < "${file}"`]);
    expect(await readFile(join(root, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await stat(join(root, 'init'))).mode & 0o7777).toBe(0o755);
    expect((await readFile(join(root, 'usr/bin/busybox'))).equals(Buffer.alloc(4097, 7))).toBe(true);
    expect(await readlink(join(root, 'usr/bin/sh'))).toBe('busybox');
    expect(await readlink(join(root, 'bin'))).toBe('usr/bin');
    expect((await stat(join(root, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await readFile(join(root, 'etc/empty'))).length).toBe(0);
    expect((await stat(join(root, 'usr/lib/modules/6.1/kernel'))).isDirectory()).toBe(true);
  });
});
