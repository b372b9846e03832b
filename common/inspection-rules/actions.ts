// The actions of Ironic's inspection rules (ironic/common/inspection_rules/actions.py), as data:
// each action's signature and what it does to a RuleSubject, an in-memory copy of the node, its
// ports and traits and the inspection data. The conductor writes the subject back afterwards;
// only api-call reaches outside (an HTTP GET).
import { normalizeMac } from '../mac.ts';
import { AnvilError } from '../errors.ts';
import { withCapabilities } from '../capabilities.ts';
import { pyStr } from './interpolate.ts';
import { RuleExecutionError, type Args, type Signature } from './signature.ts';

type Json = Record<string, unknown>;

export interface RuleSubject {
  /** The node's fields that rules may change (a copy). */
  node: Json;
  /** Read-only node fields interpolation also sees (uuid, provision_state...). */
  nodeReadOnly: Json;
  /** The node's ports (copies), each with its uuid and address. */
  ports: Json[];
  traits: string[];
  inventory: Json;
  plugin_data: Json;
  /** Node fields rules may set; any other path is refused. */
  nodeFields: ReadonlySet<string>;
  portFields: ReadonlySet<string>;
  log(level: LogLevel, message: string): void;
  /** Checks what a rule's actions left (a driver that exists...), so that a bad change is laid at that rule's door. */
  check?(): void;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];

/** A `fail` action: the inspection ends in `inspect failed` with its message. */
export class InspectionRuleFailed extends AnvilError {
  constructor(message: string) { super(message, 500, 'HardwareInspectionFailure'); }
}

export interface Action extends Signature {
  run(subject: RuleSubject, args: Args): void | Promise<void>;
}

/** Ironic's normalize_path: `/a/b` or `a.b`. */
export function pathParts(path: unknown): string[] {
  const text = String(path);
  const parts = text.includes('/') ? text.replace(/^\/+|\/+$/g, '').split('/') : text.split('.');
  if (parts.some((p) => p === '')) throw new RuleExecutionError(`invalid path ${JSON.stringify(text)}`);
  return parts;
}

const isDict = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** The object that holds the last part of `parts` under `root`, made on the way (Python's setdefault). */
function parentOf(root: Json, parts: readonly string[], create: boolean): Json | undefined {
  let current = root;
  for (const part of parts.slice(0, -1)) {
    if (!(part in current)) {
      if (!create) return undefined;
      current[part] = {};
    }
    const next = current[part];
    if (!isDict(next)) throw new RuleExecutionError(`${parts.join('/')}: ${part} is not a dictionary`);
    current = next;
  }
  return current;
}

function checkRoot(fields: ReadonlySet<string>, parts: readonly string[], what: string): void {
  if (!fields.has(parts[0])) throw new RuleExecutionError(`${parts[0]} is not a ${what} field that inspection rules may change (they may change ${[...fields].sort().join(', ')})`);
}

function setPath(target: Json, fields: ReadonlySet<string>, what: string, path: unknown, value: unknown): void {
  const parts = pathParts(path);
  checkRoot(fields, parts, what);
  parentOf(target, parts, true)![parts.at(-1)!] = value;
}

function extendPath(target: Json, fields: ReadonlySet<string>, what: string, path: unknown, value: unknown, unique: unknown): void {
  const parts = pathParts(path);
  checkRoot(fields, parts, what);
  const parent = parentOf(target, parts, true)!;
  const key = parts.at(-1)!;
  if (parent[key] === undefined || parent[key] === null) parent[key] = [];
  const list = parent[key];
  if (!Array.isArray(list)) throw new RuleExecutionError(`Cannot extend non-list attribute ${String(path)} with value ${pyStr(value)}`);
  if (unique !== true || !list.some((v) => JSON.stringify(v) === JSON.stringify(value))) list.push(value);
}

/** Removes a field (a root field returns to empty: {} for a dictionary, else null); a missing sub-key is no error. */
function deletePath(target: Json, fields: ReadonlySet<string>, what: string, path: unknown): void {
  const parts = pathParts(path);
  checkRoot(fields, parts, what);
  if (parts.length === 1) {
    target[parts[0]] = isDict(target[parts[0]]) ? {} : null;
    return;
  }
  const parent = parentOf(target, parts, false);
  if (parent) delete parent[parts.at(-1)!];
}

function portOf(subject: RuleSubject, id: unknown): Json {
  const ident = String(id);
  const mac = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(ident) ? normalizeMac(ident) : undefined;
  const port = subject.ports.find((p) => p.uuid === ident.toLowerCase() || (mac !== undefined && p.address === mac));
  if (!port) throw new RuleExecutionError(`Port ${ident} could not be found on this node`);
  return port;
}

/** plugin_data paths are dotted (Ironic's update_nested_dict). */
const dataPath = (path: unknown): string[] => {
  const parts = String(path).split('.');
  if (parts.some((p) => p === '')) throw new RuleExecutionError(`invalid plugin data path ${JSON.stringify(String(path))}`);
  return parts;
};

async function apiCall(args: Args): Promise<void> {
  const url = String(args.url);
  const timeout = Number(args.timeout ?? 5);
  const retries = Number(args.retries ?? 3);
  const backoff = Number(args.backoff_factor ?? 0.3);
  if (!(timeout > 0) || !Number.isInteger(retries) || retries < 0 || !(backoff >= 0)) {
    throw new RuleExecutionError('Invalid parameter: timeout must be greater than zero, retries a whole number, backoff_factor not negative');
  }
  if (args.proxies !== undefined && args.proxies !== null) throw new RuleExecutionError('api-call: proxies are not supported by Anvil; reach the URL directly');
  const headers = isDict(args.headers) ? Object.fromEntries(Object.entries(args.headers).map(([k, v]) => [k, String(v)])) : undefined;
  let last = '';
  // As urllib3's Retry: connection errors and 429/5xx are retried, with backoff_factor * 2^(n-1) seconds between.
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoff * 1000 * 2 ** (attempt - 1)));
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeout * 1000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `${res.status} ${res.statusText}`;
      if (![429, 500, 502, 503, 504].includes(res.status)) break;
    } catch (err) {
      last = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    }
  }
  throw new RuleExecutionError(`Request to ${url} failed: ${last}`);
}

const sig = (required: string[], optional: string[] = [], formatted: string[] = []) => ({ required, optional, formatted });

export const ACTIONS: Readonly<Record<string, Action>> = {
  fail: { ...sig(['msg']), run(_s, { msg }) { throw new InspectionRuleFailed(pyStr(msg)); } },
  log: {
    ...sig(['msg'], ['level'], ['msg']),
    run(s, { msg, level = 'info' }) {
      const wanted = String(level).toLowerCase() as LogLevel;
      if (!LOG_LEVELS.includes(wanted)) throw new RuleExecutionError(`Invalid log level: ${String(level)}. Choose from ${LOG_LEVELS.join(', ')}`);
      s.log(wanted, pyStr(msg));
    },
  },
  'set-attribute': { ...sig(['path', 'value'], [], ['value']), run: (s, { path, value }) => setPath(s.node, s.nodeFields, 'node', path, value) },
  'extend-attribute': { ...sig(['path', 'value'], ['unique'], ['value']), run: (s, { path, value, unique }) => extendPath(s.node, s.nodeFields, 'node', path, value, unique) },
  'del-attribute': { ...sig(['path']), run: (s, { path }) => deletePath(s.node, s.nodeFields, 'node', path) },
  'set-capability': {
    ...sig(['name', 'value'], [], ['value']),
    run(s, { name, value }) {
      const properties = isDict(s.node.properties) ? s.node.properties : (s.node.properties = {});
      properties.capabilities = withCapabilities(properties.capabilities, { [String(name)]: pyStr(value) });
    },
  },
  'unset-capability': {
    ...sig(['name']),
    run(s, { name }) {
      const properties = isDict(s.node.properties) ? s.node.properties : (s.node.properties = {});
      properties.capabilities = withCapabilities(properties.capabilities, { [String(name)]: null });
    },
  },
  'add-trait': { ...sig(['name']), run(s, { name }) { if (!s.traits.includes(String(name))) s.traits.push(String(name)); } },
  'remove-trait': {
    ...sig(['name']),
    run(s, { name }) {
      const at = s.traits.indexOf(String(name));
      if (at < 0) s.log('warning', `Failed to remove trait ${String(name)}: the node does not have it`);
      else s.traits.splice(at, 1);
    },
  },
  'set-plugin-data': {
    ...sig(['path', 'value'], [], ['value']),
    run(s, { path, value }) {
      const parts = dataPath(path);
      parentOf(s.plugin_data, parts, true)![parts.at(-1)!] = value;
    },
  },
  'extend-plugin-data': {
    ...sig(['path', 'value'], ['unique'], ['value']),
    run(s, { path, value, unique }) {
      const parts = dataPath(path);
      const parent = parentOf(s.plugin_data, parts, true)!;
      const key = parts.at(-1)!;
      if (parent[key] === undefined || parent[key] === null) parent[key] = [];
      const list = parent[key];
      if (!Array.isArray(list)) throw new RuleExecutionError(`Failed to extend plugin data at ${String(path)}: it is not a list`);
      if (unique !== true || !list.some((v) => JSON.stringify(v) === JSON.stringify(value))) list.push(value);
    },
  },
  'unset-plugin-data': {
    ...sig(['path']),
    run(s, { path }) {
      const parts = dataPath(path);
      const parent = parentOf(s.plugin_data, parts, false);
      if (parent && parts.at(-1)! in parent) delete parent[parts.at(-1)!];
      else s.log('warning', `Plugin data path ${String(path)} not found`);
    },
  },
  'set-port-attribute': { ...sig(['port_id', 'path', 'value'], [], ['value']), run: (s, { port_id, path, value }) => setPath(portOf(s, port_id), s.portFields, 'port', path, value) },
  'extend-port-attribute': {
    ...sig(['port_id', 'path', 'value'], ['unique'], ['value']),
    run: (s, { port_id, path, value, unique }) => extendPath(portOf(s, port_id), s.portFields, 'port', path, value, unique),
  },
  'del-port-attribute': { ...sig(['port_id', 'path']), run: (s, { port_id, path }) => deletePath(portOf(s, port_id), s.portFields, 'port', path) },
  'api-call': { ...sig(['url'], ['headers', 'proxies', 'timeout', 'retries', 'backoff_factor'], ['url']), run: (_s, args) => apiCall(args) },
};
