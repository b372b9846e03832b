// qemu-img through execa: what an image is (info), whether it is sound (check), and writing it
// to a disk (convert to raw, into an existing file or block device). See netboot.md: qcow2 cannot
// be read from a pipe, so images are always files here. execa is imported by each call,
// so that a process which runs no command (an API, a conductor of Redfish nodes) does not load it.
import type { ResultPromise } from 'execa';
import { ImageError, ImageRefused } from './errors.ts';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  actualSize: number | null;
  backingFile: string | null;
  dataFile: string | null;
  dirty: boolean;
}

export interface QemuImgOptions {
  /** Milliseconds before qemu-img is killed (info/check default 60 s, convert 1 h). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

function failure(what: string, err: unknown): ImageError {
  const e = err as { timedOut?: boolean; isCanceled?: boolean; stderr?: string; shortMessage?: string; message?: string };
  if (e.timedOut) return new ImageError(`${what} timed out`);
  if (e.isCanceled) return new ImageError(`${what} was cancelled`);
  const detail = (e.stderr || e.shortMessage || e.message || String(err)).trim().split('\n').filter(Boolean).pop() ?? '';
  return new ImageError(`${what} failed: ${detail.replace(/^qemu-img: /, '')}`);
}

export async function imageInfo(file: string, opts: QemuImgOptions & { format?: string } = {}): Promise<ImageInfo> {
  const { execa } = await import('execa');
  const args = ['info', '--output=json', ...(opts.format ? ['-f', opts.format] : []), file];
  let stdout: string;
  try {
    ({ stdout } = await execa('qemu-img', args, { timeout: opts.timeoutMs ?? 60_000, cancelSignal: opts.signal }));
  } catch (err) {
    throw failure(`qemu-img info of ${file}`, err);
  }
  const raw = JSON.parse(stdout) as Record<string, unknown>;
  const specific = (raw['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  return {
    format: String(raw.format),
    virtualSize: Number(raw['virtual-size']),
    actualSize: typeof raw['actual-size'] === 'number' ? raw['actual-size'] : null,
    backingFile: typeof raw['backing-filename'] === 'string' ? raw['backing-filename'] : null,
    dataFile: typeof specific['data-file'] === 'string' ? specific['data-file'] : null,
    dirty: raw['dirty-flag'] === true,
  };
}

/**
 * `qemu-img check`: exit 0 sound, 3 only leaked clusters (harmless), 2 corruption, 1 check failed,
 * 63 the format cannot be checked (raw). Throws ImageRefused on corruption.
 */
export async function checkImage(file: string, format: string, opts: QemuImgOptions = {}): Promise<void> {
  const { execa } = await import('execa');
  const result = await execa('qemu-img', ['check', '-f', format, file], { timeout: opts.timeoutMs ?? 60_000, cancelSignal: opts.signal, reject: false });
  if (result.timedOut) throw new ImageError(`qemu-img check of ${file} timed out`);
  if (result.exitCode === 0 || result.exitCode === 3 || result.exitCode === 63) return;
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const summary = lines.find((l) => /errors? (were|was) found/.test(l));
  const first = lines.find((l) => /^(ERROR|qemu-img:)/.test(l));
  const detail = [summary, first].filter(Boolean).join('; ').replace(/qemu-img: /g, '').slice(0, 400) || `exit ${result.exitCode}`;
  throw new ImageRefused(`Image ${file} is corrupt (qemu-img check exit ${result.exitCode}): ${detail}`);
}

/** The formats a deploy accepts, as IPA's permitted_image_formats. */
export const PERMITTED_FORMATS = ['raw', 'qcow2'] as const;

/**
 * The checks IPA does before writing (deep image inspection): a known format that matches the
 * declared one, no backing or external data file, no bigger than the disk, and sound.
 */
export async function inspectForDeploy(file: string, opts: QemuImgOptions & { declaredFormat?: string | null; diskBytes?: number } = {}): Promise<ImageInfo> {
  const info = await imageInfo(file, opts);
  if (!(PERMITTED_FORMATS as readonly string[]).includes(info.format)) {
    throw new ImageRefused(`Image format ${info.format} is not permitted (permitted: ${PERMITTED_FORMATS.join(', ')})`);
  }
  const declared = opts.declaredFormat?.toLowerCase();
  if (declared && declared !== info.format) {
    throw new ImageRefused(`Image is declared as ${declared} (image_disk_format) but qemu-img reads it as ${info.format}: wrong format or corrupt image`);
  }
  if (info.backingFile) throw new ImageRefused(`Image has a backing file (${info.backingFile}); images with backing files are refused`);
  if (info.dataFile) throw new ImageRefused(`Image has an external data file (${info.dataFile}); such images are refused`);
  if (opts.diskBytes !== undefined && info.virtualSize > opts.diskBytes) {
    throw new ImageRefused(`Image virtual size ${info.virtualSize} bytes does not fit on the disk of ${opts.diskBytes} bytes`);
  }
  if (info.format !== 'raw') await checkImage(file, info.format, opts);
  return info;
}

export interface ConvertOptions extends QemuImgOptions {
  sourceFormat: string;
  /** The target exists (disk file or block device) and is written in place (-n). */
  existingTarget?: boolean;
  /** A block device: bypass the page cache (-t none) as IPA does. */
  blockDevice?: boolean;
  /** Called with the percentage done (0-100) as qemu-img reports it. */
  onProgress?: (percent: number) => void;
}

/** Converts an image to raw, sparse (zero areas are not written), out of order writes allowed (-W). */
export async function convertToRaw(source: string, target: string, opts: ConvertOptions): Promise<void> {
  const { execa } = await import('execa');
  const args = ['convert', '-p', '-f', opts.sourceFormat, '-O', opts.blockDevice ? 'host_device' : 'raw', '-W'];
  if (opts.existingTarget) args.push('-n');
  if (opts.blockDevice) args.push('-t', 'none');
  args.push(source, target);
  const child: ResultPromise = execa('qemu-img', args, { timeout: opts.timeoutMs ?? 3_600_000, cancelSignal: opts.signal, buffer: { stdout: false } });
  // -p writes "    (12.34/100%)\r" lines on stdout.
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    for (const m of chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)) opts.onProgress?.(Number(m[1]));
  });
  try {
    await child;
  } catch (err) {
    throw failure(`Writing image ${source} to ${target} (qemu-img convert)`, err);
  }
}
