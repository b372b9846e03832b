// Config drives as Ironic builds them (conductor/configdrive_utils.py + openstacksdk
// configdrive.build): an ISO 9660 image labelled `config-2` holding
// openstack/{2012-08-10,latest}/{meta_data.json,user_data,network_data.json,vendor_data2.json},
// carried gzipped and base64-encoded. Ignition configs travel as user_data.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidInput } from '../common/errors.ts';
import { openSource } from './download.ts';
import { ImageError } from './errors.ts';

type Json = Record<string, unknown>;

export interface ConfigDriveContent {
  meta_data?: Json;
  /** A string (cloud-init, a script, an Ignition JSON text) or a JSON value (encoded as JSON). */
  user_data?: unknown;
  network_data?: Json;
  vendor_data?: Json;
}

/** What IPA accepts as the largest config drive (its partition is 64 MiB). */
export const MAX_CONFIG_DRIVE_BYTES = 64 * 1024 * 1024;
const VERSIONS = ['2012-08-10', 'latest'];
const KNOWN_KEYS = new Set(['meta_data', 'user_data', 'network_data', 'vendor_data']);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a configdrive request value: a string, or an object with only the known keys of the right types. */
export function validateConfigDrive(value: unknown): void {
  if (typeof value === 'string') return;
  if (!isObject(value)) throw new InvalidInput('configdrive must be a string (gzipped, base64-encoded ISO or a URL) or an object with meta_data, user_data, network_data, vendor_data');
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.has(key)) throw new InvalidInput(`Unknown configdrive key "${key}": expected meta_data, user_data, network_data, vendor_data`);
  }
  for (const key of ['meta_data', 'network_data', 'vendor_data'] as const) {
    if (value[key] !== undefined && value[key] !== null && !isObject(value[key])) throw new InvalidInput(`configdrive.${key} must be an object`);
  }
}

/** Builds the ISO image with xorrisofs (genisoimage's options, as openstacksdk uses them). */
export async function buildConfigDriveIso(content: ConfigDriveContent): Promise<Buffer> {
  const { execa } = await import('execa');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'anvil-configdrive-'));
  try {
    const tree = path.join(tmp, 'tree');
    for (const version of VERSIONS) {
      const dir = path.join(tree, 'openstack', version);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'meta_data.json'), JSON.stringify(content.meta_data ?? {}));
      if (content.user_data !== undefined && content.user_data !== null) {
        const text = typeof content.user_data === 'string' ? content.user_data : JSON.stringify(content.user_data);
        await writeFile(path.join(dir, 'user_data'), text);
      }
      if (content.network_data) await writeFile(path.join(dir, 'network_data.json'), JSON.stringify(content.network_data));
      if (content.vendor_data) await writeFile(path.join(dir, 'vendor_data2.json'), JSON.stringify(content.vendor_data));
    }
    const iso = path.join(tmp, 'configdrive.iso');
    try {
      await execa('xorrisofs', ['-o', iso, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', 'anvil', '-quiet', '-J', '-r', '-V', 'config-2', tree], { timeout: 60_000 });
    } catch (err) {
      throw new ImageError(`Building the config drive ISO failed: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`);
    }
    const bytes = await readFile(iso);
    if (bytes.length > MAX_CONFIG_DRIVE_BYTES) throw new InvalidInput(`The config drive is ${bytes.length} bytes; at most ${MAX_CONFIG_DRIVE_BYTES} are allowed`);
    return bytes;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** gzip + base64, the form Ironic passes config drives in. */
export function encodeConfigDrive(iso: Buffer): string {
  return gzipSync(iso).toString('base64');
}

/** The ISO bytes of a base64 config drive (gzipped or not, as IPA accepts both). */
export function decodeConfigDrive(encoded: string): Buffer {
  const compact = encoded.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length === 0) throw new InvalidInput('The config drive is neither a URL nor base64 data');
  const data = Buffer.from(compact, 'base64');
  let iso: Buffer;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      iso = gunzipSync(data, { maxOutputLength: MAX_CONFIG_DRIVE_BYTES + 1 });
    } catch (err) {
      throw new InvalidInput(`The config drive is not valid gzip data: ${(err as Error).message}`);
    }
  } else iso = data;
  if (iso.length > MAX_CONFIG_DRIVE_BYTES) throw new InvalidInput(`The config drive is larger than ${MAX_CONFIG_DRIVE_BYTES} bytes`);
  return iso;
}

/** The ISO of a config drive given as the agent gets it: a URL, or base64 (gzipped or not). */
export async function configDriveIso(value: string): Promise<Buffer> {
  if (/^https?:\/\//i.test(value)) {
    const { stream } = await openSource(value);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return decodeConfigDrive(Buffer.concat(chunks).toString('utf8'));
  }
  return decodeConfigDrive(value);
}

/** A file of a config drive ISO (e.g. openstack/latest/user_data), read with isoinfo; null when it is not there. */
export async function configDriveFile(iso: Buffer, name: string): Promise<Buffer | null> {
  const { execa } = await import('execa');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'anvil-configdrive-'));
  try {
    const file = path.join(tmp, 'configdrive.iso');
    await writeFile(file, iso);
    const listing = await execa('isoinfo', ['-R', '-f', '-i', file], { reject: false, timeout: 60_000 });
    if (listing.exitCode !== 0) throw new ImageError(`The config drive is not an ISO 9660 image: ${listing.stderr.trim()}`);
    const wanted = `/${name.replace(/^\/+/, '')}`;
    if (!listing.stdout.split('\n').includes(wanted)) return null;
    const res = await execa('isoinfo', ['-R', '-i', file, '-x', wanted], { encoding: 'buffer', timeout: 60_000 });
    return Buffer.from(res.stdout);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The config drive to hand the agent, from the provision request's `configdrive`: a string is
 * passed on as given (base64 ISO or URL); an object is built into an ISO with Ironic's
 * defaults (meta_data.uuid and name from the node). `networkData` (the node's, or the one built
 * from its VIFs) goes in when the request's own has none, and makes a config drive of its own
 * when the request has none at all.
 */
export async function configDriveForDeploy(value: unknown, node: { uuid: string; name: string | null }, networkData?: Json): Promise<string | null> {
  if ((value === undefined || value === null || value === '') && !networkData) return null;
  const given = value === undefined || value === null || value === '' ? {} : value;
  validateConfigDrive(given);
  if (typeof given === 'string') return given;
  const content = given as ConfigDriveContent;
  const meta = { uuid: node.uuid, ...(node.name ? { name: node.name } : {}), ...(content.meta_data ?? {}) };
  return encodeConfigDrive(await buildConfigDriveIso({ ...content, meta_data: meta, network_data: content.network_data ?? networkData }));
}
