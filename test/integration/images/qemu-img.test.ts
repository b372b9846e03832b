import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertToRaw, imageInfo, inspectForDeploy } from '../../../images/qemu-img.ts';
import { ImageError, ImageRefused } from '../../../images/errors.ts';
import { MIB, makeTestImages, type TestImages } from './fixtures.ts';

let img: TestImages;
beforeAll(async () => {
  img = await makeTestImages();
});
afterAll(() => img.cleanup());

describe('qemu-img', () => {
  it('reads format and virtual size', async () => {
    const info = await imageInfo(img.qcow2);
    expect(info).toMatchObject({ format: 'qcow2', virtualSize: 32 * MIB, backingFile: null, dataFile: null });
    expect((await imageInfo(img.raw)).format).toBe('raw');
  });

  it('accepts a sound qcow2 that fits the disk', async () => {
    await expect(inspectForDeploy(img.qcow2, { declaredFormat: 'qcow2', diskBytes: 64 * MIB })).resolves.toMatchObject({ format: 'qcow2' });
  });

  it('refuses an image declared as another format', async () => {
    await expect(inspectForDeploy(img.raw, { declaredFormat: 'qcow2' })).rejects.toThrow(/declared as qcow2 .* reads it as raw: wrong format or corrupt image/);
  });

  it('refuses an image bigger than the disk', async () => {
    await expect(inspectForDeploy(img.qcow2, { diskBytes: 16 * MIB })).rejects.toThrow(`Image virtual size ${32 * MIB} bytes does not fit on the disk of ${16 * MIB} bytes`);
  });

  it('refuses a backing file', async () => {
    const overlay = path.join(img.dir, 'overlay.qcow2');
    await execa('qemu-img', ['create', '-f', 'qcow2', '-F', 'qcow2', '-b', img.qcow2, overlay]);
    const err = await inspectForDeploy(overlay).catch((e) => e);
    expect(err).toBeInstanceOf(ImageRefused);
    expect(err.message).toMatch(/has a backing file .*disk\.qcow2.*refused/);
  });

  it('refuses a corrupt qcow2 with what qemu-img check found', async () => {
    const err = await inspectForDeploy(img.corrupt).catch((e) => e);
    expect(err).toBeInstanceOf(ImageRefused);
    expect(err.message).toMatch(/is corrupt \(qemu-img check exit 2\): 2 errors were found on the image/);
  });

  it('fails clearly on a truncated image header', async () => {
    const truncated = path.join(img.dir, 'trunc.qcow2');
    await execa('head', ['-c', '100', img.qcow2], { stdout: { file: truncated } });
    const err = await imageInfo(truncated).catch((e) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err.message).toMatch(/qemu-img info of .*trunc\.qcow2 failed: .*header too short/);
  });

  it('converts qcow2 into an existing larger disk file, byte for byte, reporting progress', async () => {
    const disk = path.join(img.dir, 'target.disk');
    await execa('truncate', ['-s', '64M', disk]);
    const progress: number[] = [];
    await convertToRaw(img.qcow2, disk, { sourceFormat: 'qcow2', existingTarget: true, onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)).toBe(100);
    const cmp = await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', img.raw, disk], { reject: false });
    expect(cmp.stdout).toContain('Images are identical');
  });

  it('reports a failed conversion with qemu-img\'s reason', async () => {
    await expect(convertToRaw(img.corrupt, path.join(img.dir, 'nowhere', 'x'), { sourceFormat: 'qcow2' })).rejects.toThrow(/Writing image .*corrupt\.qcow2 to .* \(qemu-img convert\) failed: /);
  });
});
