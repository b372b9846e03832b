// Typed reads of one mapping of the YAML config, each failing with a message that names the key.
// Shared by the netboot section's IPv4 (config.ts) and IPv6 (config6.ts) parts.
import { parseListen } from '../../common/config.ts';
import { InvalidInput } from '../../common/errors.ts';

export type Raw = Record<string, unknown>;

export function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkKeys(raw: Raw, allowed: string[], where: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw new InvalidInput(`${where}: unknown key "${key}" (known: ${allowed.join(', ')})`);
  }
}

export function str(raw: Raw, key: string, where: string, fallback?: string): string {
  const v = raw[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new InvalidInput(`${where}.${key} is required`);
    return fallback;
  }
  if (typeof v !== 'string') throw new InvalidInput(`${where}.${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function num(raw: Raw, key: string, where: string, fallback: number, min: number, max: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidInput(`${where}.${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function bool(raw: Raw, key: string, where: string, fallback: boolean): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'boolean') throw new InvalidInput(`${where}.${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function section(raw: Raw, key: string, where = 'netboot'): Raw {
  const v = raw[key] ?? {};
  if (!isObject(v)) throw new InvalidInput(`${where}.${key} must be a mapping`);
  return v;
}

export function listen(raw: Raw, where: string, fallback: string): { host: string; port: number } {
  return parseListen(str(raw, 'listen', where, fallback), `${where}.listen`);
}
