// One Ajv instance for every JSON schema of the API: route bodies (Fastify's validator compiler)
// and documents checked by hand (a node after a JSON patch). Unknown keys are rejected where a
// schema says additionalProperties:false, never silently dropped, and no type is coerced.
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { InvalidInput } from '../../common/errors.ts';
import { canonicalMac } from '../../common/mac.ts';
import { describeSchemaError } from './errors.ts';
import { parseBool } from './http.ts';

export const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });

export const validatorCompiler: FastifySchemaCompiler<Record<string, unknown>> = ({ schema }) => ajv.compile(schema) as ReturnType<FastifySchemaCompiler<Record<string, unknown>>>;

const compiled = new WeakMap<object, ValidateFunction>();

/** Validates `data` against `schema`; throws Ironic's "Schema error for <what>: ..." 400. */
export function validateSchema(schema: object, data: unknown, what: string): void {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  if (!fn(data)) throw new InvalidInput(`Schema error for ${what}: ${describeSchemaError(fn.errors![0] as never, data)}`);
}

/**
 * A boolean in a body: Ironic also takes strings ("true", "False", "1"...), and ironicclient sends
 * some flags that way (`port create --pxe-enabled true`). coerceBooleans() converts them after validation.
 */
export const BOOL = { type: ['boolean', 'string'] } as const;
export const NULLABLE_BOOL = { type: ['boolean', 'string', 'null'] } as const;

/** Converts string booleans of `names` in `obj` (in place), strictly, as oslo bool_from_string. */
export function coerceBooleans<T extends object>(obj: T, names: Iterable<keyof T & string>): T {
  const fields = obj as Record<string, unknown>;
  for (const name of names) {
    const v = fields[name];
    if (typeof v === 'string') fields[name] = parseBool(name, v);
  }
  return obj;
}

export const nullable = (type: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: [type, 'null'], ...extra });
export const object = { type: 'object' } as const;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export function isUuidLike(value: string): boolean {
  return UUID_RE.test(value);
}

/** Ironic's is_valid_logical_name: RFC 3986 unreserved characters, at most 255, not UUID-like. */
export function checkName(name: string, kind: string): void {
  if (name.length === 0 || name.length > 255 || !/^[A-Za-z0-9\-._~]+$/.test(name) || isUuidLike(name)) {
    throw new InvalidInput(`Cannot use "${name}" as a ${kind} name: names may hold only letters, digits and -._~ (at most 255) and must not look like a UUID.`);
  }
}

export function checkMac(address: string): string {
  const mac = canonicalMac(address);
  if (!mac) throw new InvalidInput(`Expected a MAC address but received ${address}.`, 'InvalidMAC');
  return mac;
}

export function checkUuid(value: string, field: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) throw new InvalidInput(`Expected UUID for ${field}: ${value}`, 'InvalidUUID');
  return value.toLowerCase();
}

/** Whether `err` is a unique-constraint violation (SQLite or PostgreSQL), optionally on `column`. */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string };
  const unique = e.code === '23505' || /UNIQUE constraint failed/.test(e.message ?? '');
  if (!unique || !column) return unique;
  // knex prefixes the driver's message with the failed SQL, which names every column inserted.
  const own = (e.message ?? '').split(' - ').pop();
  return new RegExp(`\\b${column}\\b`).test(`${own} ${e.detail ?? ''} ${e.constraint ?? ''}`);
}
