// File names from the network (TFTP requests, HTTP paths) mapped inside a served root.
import { realpath } from 'node:fs/promises';
import path from 'node:path';

export class RefusedPath extends Error {}

/** The request's path relative to the root; refuses anything that climbs out of it. */
export function safeRelativePath(filename: string): string {
  if (filename.includes('\0')) throw new RefusedPath('file name holds a NUL byte');
  // PXE ROMs of some vendors send back-slashes.
  const parts = filename.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new RefusedPath('file name climbs out of the root');
  if (parts.length === 0) throw new RefusedPath('empty file name');
  return parts.join('/');
}

/** The real path of `relPath` under `root` (itself a real path), or undefined when it does not exist. */
export async function resolveInRoot(root: string, relPath: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(path.join(root, relPath));
  } catch {
    return undefined;
  }
  // A symbolic link inside the root must not lead out of it.
  if (real !== root && !real.startsWith(root + path.sep)) throw new RefusedPath('file lies outside the root');
  return real;
}
