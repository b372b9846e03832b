// RFC 6902 JSON Patch with Ironic's rules for resources (api/controllers/v1/utils.py
// apply_jsonpatch): no new attributes at the root, `remove` of a root field resets it, and only
// the resource's patchable fields may be touched.
import { InvalidInput } from '../../common/errors.ts';
import { hasSecret, hasUrlPassword, isSecretKey } from '../../common/secrets.ts';
import { checkJsonLimits, type JsonLimits } from './body.ts';

export interface PatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Body schema of every PATCH. */
export const PATCH_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['op', 'path'],
    additionalProperties: false,
    properties: {
      op: { type: 'string', enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] },
      path: { type: 'string', pattern: '^/' },
      value: {},
      from: { type: 'string', pattern: '^/' },
    },
  },
} as const;

class PatchError extends InvalidInput {
  constructor(message: string) { super(`Couldn't apply patch: ${message}`, 'PatchError'); }
}

/** Names that address JavaScript's object machinery, never a field: a path through them is refused. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * RFC 6901: `~1` is `/` and `~0` is `~` inside a key (Ironic documents it from 1.98; python's
 * jsonpointer, which Ironic uses, decodes them at every version); any other `~` is malformed.
 */
function parsePointer(path: string): string[] {
  const malformed = /~(?![01])/.exec(path);
  if (malformed) throw new PatchError(`the path ${path} has an invalid escape at ${malformed.index}: in a key, write ~ as ~0 and / as ~1`);
  const parts = path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const bad = parts.find((p) => PROTOTYPE_KEYS.has(p));
  if (bad !== undefined) throw new PatchError(`the path ${path} is refused: "${bad}" names the prototype machinery of JavaScript objects, not a field`);
  return parts;
}

type Container = Record<string, unknown> | unknown[];

function resolveParent(doc: Record<string, unknown>, parts: string[], path: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = /^(0|[1-9]\d*)$/.test(part) ? cur[Number(part)] : undefined;
    else if (cur && typeof cur === 'object' && Object.hasOwn(cur, part)) cur = (cur as Record<string, unknown>)[part];
    else cur = undefined;
    if (cur === undefined || cur === null || typeof cur !== 'object') throw new PatchError(`can't resolve path ${path}: no parent object`);
  }
  return { parent: cur as Container, key: parts[parts.length - 1] };
}

function arrayIndex(arr: unknown[], key: string, path: string, forAdd: boolean): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw new PatchError(`invalid array index "${key}" in ${path}`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`array index out of range in ${path}`);
  return i;
}

function getValue(doc: Record<string, unknown>, path: string): unknown {
  const parts = parsePointer(path);
  const { parent, key } = resolveParent(doc, parts, path);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, path, false)];
  if (!Object.hasOwn(parent, key)) throw new PatchError(`can't remove or read non-existent object '${key}' (${path})`);
  return parent[key];
}

function addValue(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = parsePointer(path);
  const { parent, key } = resolveParent(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value);
  else parent[key] = value;
}

function removeValue(doc: Record<string, unknown>, path: string): void {
  const parts = parsePointer(path);
  const { parent, key } = resolveParent(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, false), 1);
  else {
    if (!Object.hasOwn(parent, key)) throw new PatchError(`can't remove non-existent object '${key}' (${path})`);
    delete parent[key];
  }
}

/** The root field each operation's path names (`/extra/a` -> `extra`), decoded. */
export function patchRoots(ops: readonly PatchOp[]): string[] {
  return ops.map((op) => parsePointer(op.path)[0] ?? '');
}

export interface PatchRules {
  /** Root fields a client may change. */
  allowed: ReadonlySet<string>;
  /** Root fields that exist on the resource (all shown fields): `add` of any other is refused. */
  known: ReadonlySet<string>;
  /** Root fields shown with their secrets masked: a secret in them can be written, never read back. */
  masked?: ReadonlySet<string>;
  /** The patched document must fit what a request body may carry. */
  limits: JsonLimits;
}

/**
 * copy/move out of, or test against, a secret would reveal what the API masks (`test` answers
 * whether a guess is right): refused whether the path names the secret or holds one deeper.
 * Secrets are the masked fields' secret keys, and passwords in URLs anywhere (answers mask those).
 */
function refuseSecretRead(doc: Record<string, unknown>, path: string, op: PatchOp['op'], rules: PatchRules): void {
  const parts = parsePointer(path);
  const value = getValue(doc, path);
  const secret = rules.masked?.has(parts[0]) ? parts.slice(1).some(isSecretKey) || hasSecret(value) : hasUrlPassword(value);
  if (!secret) return;
  throw new PatchError(`"${op}" can't read ${path}: it is or holds a secret, which is write-only (set it with "add" or "replace")`);
}

function checkRoot(path: string, rules: PatchRules): string {
  const root = parsePointer(path)[0] ?? '';
  if (path === '/' || root === '') throw new PatchError('the root of the resource can not be replaced');
  if (!rules.known.has(root)) return root;
  if (!rules.allowed.has(root)) throw new InvalidInput(`'/${root}' is an internal attribute and can not be updated`, 'PatchError');
  return root;
}

/**
 * Applies `ops` to a deep copy of `doc`; returns it and the root fields that changed. A root
 * field removed becomes null (the caller resets it to its default).
 */
export function applyPatch(doc: Record<string, unknown>, ops: readonly PatchOp[], rules: PatchRules): { doc: Record<string, unknown>; touched: Set<string> } {
  const out = structuredClone(doc);
  const touched = new Set<string>();
  for (const op of ops) {
    const root = checkRoot(op.path, rules);
    const isRoot = parsePointer(op.path).length === 1;
    if (!rules.known.has(root)) {
      if (op.op === 'add' && isRoot) throw new InvalidInput(`Adding a new attribute (/${root}) to the root of the resource is not allowed`, 'PatchError');
      throw new PatchError(`can't resolve path ${op.path}: no attribute ${root}`);
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) throw new InvalidInput(`'value' is a required property for "${op.op}" (${op.path})`, 'PatchError');
    switch (op.op) {
      case 'add':
        addValue(out, op.path, op.value);
        break;
      case 'replace':
        if (isRoot) out[root] = op.value;
        else {
          getValue(out, op.path);
          removeValue(out, op.path);
          addValue(out, op.path, op.value);
        }
        break;
      case 'remove':
        if (isRoot) out[root] = null;
        else removeValue(out, op.path);
        break;
      case 'test':
        refuseSecretRead(out, op.path, op.op, rules);
        if (JSON.stringify(getValue(out, op.path)) !== JSON.stringify(op.value)) throw new PatchError(`test failed: ${op.path} is not ${JSON.stringify(op.value)}`);
        break;
      case 'move': case 'copy': {
        if (!op.from) throw new InvalidInput(`'from' is a required property for "${op.op}"`, 'PatchError');
        const fromRoot = checkRoot(op.from, rules);
        refuseSecretRead(out, op.from, op.op, rules);
        const value = structuredClone(getValue(out, op.from));
        if (op.op === 'move') {
          if (parsePointer(op.from).length === 1) out[fromRoot] = null;
          else removeValue(out, op.from);
          touched.add(fromRoot);
        }
        if (isRoot) out[root] = value;
        else addValue(out, op.path, value);
        break;
      }
    }
    if (op.op !== 'test') touched.add(root);
  }
  checkJsonLimits(out, rules.limits, 'patched resource');
  return { doc: out, touched };
}
