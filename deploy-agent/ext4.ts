// Files written into an ext2/3/4 file system inside a disk (a block device or a file standing for
// one), without mounting it: the superblock is read directly, the writing is done by e2fsprogs'
// debugfs on `disk?offset=N`. Mounting is not possible everywhere the agent runs (simulated
// machines, unprivileged tests) and leaves nothing to unmount when a step fails half-way.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const SUPERBLOCK_OFFSET = 1024;
const EXT_MAGIC = 0xef53;

/** The volume label of the ext2/3/4 file system starting at `offset`, '' if it has none, null if there is none there. */
export async function extLabel(disk: string, offset: number): Promise<string | null> {
  const sb = Buffer.alloc(136);
  const fh = await open(disk, 'r');
  try {
    const { bytesRead } = await fh.read(sb, 0, sb.length, offset + SUPERBLOCK_OFFSET);
    if (bytesRead < sb.length || sb.readUInt16LE(56) !== EXT_MAGIC) return null;
  } finally {
    await fh.close();
  }
  const name = sb.subarray(120, 136);
  const end = name.indexOf(0);
  return name.subarray(0, end < 0 ? 16 : end).toString('utf8');
}

async function debugfs(target: string, args: string[]): Promise<{ stdout: string; errors: string[] }> {
  const res = await execa('debugfs', [...args, target], { reject: false, timeout: 60_000 });
  if (res.exitCode !== 0 && res.exitCode !== undefined) throw new Error(`debugfs failed (exit ${res.exitCode}): ${res.stderr.trim()}`);
  // debugfs exits 0 when a command fails: its complaints are on stderr, after its version banner.
  const errors = res.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^debugfs \d/.test(l));
  return { stdout: res.stdout, errors };
}

export interface Ext4WriteOptions {
  /** Mode of the directory when it is created (an existing one is left as it is, as coreos-installer does). */
  dirMode: number;
  fileMode: number;
}

/**
 * Writes `data` as `file` (a path relative to the file system's root, one directory deep, e.g.
 * ignition/config.ign) owned by root, in the ext4 file system at byte `offset` of `disk`. The
 * file must not exist yet. Read back to check it.
 */
export async function writeExt4File(disk: string, offset: number, file: string, data: Buffer, mode: Ext4WriteOptions): Promise<void> {
  const target = `${disk}?offset=${offset}`;
  const dir = path.posix.dirname(file);
  const stat = async (p: string) => {
    const r = await debugfs(target, ['-R', `stat ${p}`]);
    return r.errors.some((e) => /File not found/.test(e)) ? null : r;
  };
  if (await stat(file)) throw new Error(`${file} already exists in the file system`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'anvil-ext4-'));
  try {
    const local = path.join(tmp, 'data');
    await writeFile(local, data, { mode: 0o600 });
    const octal = (type: number, m: number) => `0${(type | m).toString(8)}`;
    const commands: string[] = [];
    if (dir !== '.' && !(await stat(dir))) commands.push(`mkdir ${dir}`, `sif ${dir} mode ${octal(0o040000, mode.dirMode)}`, `sif ${dir} uid 0`, `sif ${dir} gid 0`);
    commands.push(`write ${local} ${file}`, `sif ${file} mode ${octal(0o100000, mode.fileMode)}`, `sif ${file} uid 0`, `sif ${file} gid 0`);
    await writeFile(path.join(tmp, 'commands'), `${commands.join('\n')}\n`);
    const wrote = await debugfs(target, ['-w', '-f', path.join(tmp, 'commands')]);
    const problems = wrote.errors.filter((e) => !/^Allocated inode/.test(e));
    if (problems.length) throw new Error(`debugfs could not write ${file}: ${problems.join('; ')}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const back = await execa('debugfs', ['-R', `cat ${file}`, target], { reject: false, encoding: 'buffer', timeout: 60_000 });
  if (!Buffer.from(back.stdout).equals(data)) throw new Error(`${file} does not read back as written`);
}
