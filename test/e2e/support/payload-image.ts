// A small deployable image whose content is known byte for byte: 16 MiB raw, one partition from
// 1 MiB (a config drive goes after it) whose first MiB is a recognisable pattern, carried as qcow2,
// with its sha256 for instance_info. The e2e cases that check where the bytes land use it.
import { createHash } from 'node:crypto';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

const MIB = 1024 * 1024;

export interface PayloadImage {
  qcow2: string;
  sha256: string;
  /** The first MiB of the partition (at 1 MiB on the disk), as it must land there. */
  payload: Buffer;
}

/** `step` varies the pattern, so that two cases' images differ. */
export async function makePayloadImage(dir: string, step: number): Promise<PayloadImage> {
  const payload = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i++) payload[i] = (i * step + 7) & 0xff;
  const raw = join(dir, 'image.raw');
  await writeFile(raw, Buffer.alloc(16 * MIB));
  await execa('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, size=24576, type=83\n' });
  const fh = await open(raw, 'r+');
  await fh.write(payload, 0, MIB, MIB);
  await fh.close();
  const qcow2 = join(dir, 'image.qcow2');
  await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  await rm(raw);
  return { qcow2, sha256: createHash('sha256').update(await readFile(qcow2)).digest('hex'), payload };
}

/** The JSON patch that names a qcow2 image in a node's instance_info, checksum included. */
export function qcow2InstanceInfo(image: { qcow2: string; sha256: string }): Array<{ op: 'add'; path: string; value: string }> {
  return [
    { op: 'add', path: '/instance_info/image_source', value: `file://${image.qcow2}` },
    { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
    { op: 'add', path: '/instance_info/image_os_hash_value', value: image.sha256 },
    { op: 'add', path: '/instance_info/image_disk_format', value: 'qcow2' },
  ];
}
