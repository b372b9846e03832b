// What the hostile-input suite throws at the API: the routes read from fastify's own route table
// (so a new route is covered without touching the suite), and fast-check arbitraries for idents,
// query strings, bodies and JSON-patch documents that a careless or hostile client might send.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';

export interface Route { method: string; url: string }

/**
 * Every (method, url) the server registers, from `printRoutes()`: each line of its tree is one
 * path segment, indented four characters per level, followed by the methods served there.
 */
export function registeredRoutes(app: FastifyInstance): Route[] {
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│├└─]*?)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    const parent = stack[depth - 1] ?? '';
    const url = parent.endsWith('/') || m[2].startsWith('/') ? parent + m[2] : `${parent}/${m[2]}`;
    stack.push(url);
    for (const method of m[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

/** Percent-encodes `s` for a URL; a lone surrogate becomes the invalid UTF-8 bytes it would be. */
export function urlEncode(s: string): string {
  return [...s].map((c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

/** Strings a client should never get a 5xx for, wherever they land. */
export const hostileString = fc.oneof(
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'prototype', 'null', 'true', '-1', '0', '1e309', 'NaN', '../..', '%', '%2F', '%00',
    'a\u0000b', '\u0000', '😀', '\uD800', 'ñ', "' OR 1=1 --", '"; drop table nodes; --', '${7*7}', '<script>', 'http://u:p@h/', '*', '?', '#'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.nat({ max: 700 }).map((n) => 'x'.repeat(n)),
  fc.uuid(),
);

/** What goes in place of a path parameter: a real ident of the right kind or anything else. */
export function identArb(real: string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 2, arbitrary: real.length ? fc.constantFrom(...real) : fc.uuid() }, { weight: 3, arbitrary: hostileString });
}

/** Query parameters: Ironic's names and any other, with hostile values, some repeated. */
export const queryArb = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('fields', 'detail', 'limit', 'marker', 'sort_key', 'sort_dir', 'driver', 'provision_state', 'maintenance', 'associated', 'node', 'node_uuid',
      'address', 'resource_class', 'chassis_uuid', 'conductor_group', 'fault', 'owner', 'lessee', 'shard', 'sharded', 'include_children', 'description_contains',
      'instance_uuid', 'portgroup', 'reset_interfaces', 'state', 'node_ident', 'addresses', 'node_uuid', '__proto__', 'constructor'), hostileString),
    fc.oneof(hostileString, fc.constantFrom('True', 'false', 'uuid,name', 'links', '1000', 'desc', 'asc', 'id', 'fake-hardware', 'enroll')),
  ),
  { maxLength: 4 },
).map((pairs) => pairs.map(([k, v]) => `${urlEncode(k)}=${/%[0-9A-F]{2}/i.test(v) ? v : urlEncode(v)}`).join('&'));

/** Names of fields anywhere in the API, so random bodies sometimes get past the schemas. */
const FIELD_NAMES = ['driver', 'name', 'uuid', 'extra', 'driver_info', 'instance_info', 'properties', 'target', 'address', 'node_uuid', 'node_id', 'portgroup_uuid',
  'description', 'resource_class', 'traits', 'boot_device', 'persistent', 'reason', 'configdrive', 'clean_steps', 'deploy_steps', 'candidate_nodes', 'mode', 'enabled',
  'callback_url', 'agent_token', 'agent_version', 'inventory', 'local_link_connection', 'pxe_enabled', 'physical_network', 'standalone_ports_supported', 'owner',
  'maintenance', 'conductor_group', 'network_interface', 'cidr', 'gateway', '__proto__', 'constructor', 'prototype'];

const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom('fake-hardware', 'manage', 'provide', 'active', 'deleted', 'power on', 'reboot', 'pxe', 'disk', 'uefi', '52:54:00:12:34:56', 'CUSTOM_X') },
);

const nested = (depth: number, leaf = '1'): string => '{"d":['.repeat(depth) + leaf + ']}'.repeat(depth);

/** Bodies some route accepts, so fuzzing also reaches past validation into the handlers. */
function plausibleArb(nodeUuid: string): fc.Arbitrary<Record<string, unknown>> {
  const mac = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `52:54:00:00:${a.toString(16).padStart(2, '0')}:${b.toString(16).padStart(2, '0')}`);
  return fc.oneof(
    fc.record({ target: fc.constantFrom('manage', 'provide', 'inspect', 'clean', 'active', 'deleted', 'abort', 'adopt', 'rescue', 'power on', 'power off', 'rebooting', 'uefi', 'bios', 'true') }),
    fc.record({ target: fc.constantFrom('clean', 'service'), clean_steps: fc.constant([{ interface: 'deploy', step: 'erase_devices' }]) }),
    fc.record({ boot_device: fc.constantFrom('pxe', 'disk', 'cdrom', 'nope'), persistent: fc.boolean() }),
    fc.record({ reason: hostileString }),
    fc.record({ traits: fc.array(fc.constantFrom('CUSTOM_A', 'CUSTOM_B', 'HW_CPU_X86_VMX', 'lower'), { maxLength: 3 }) }),
    fc.record({ driver: fc.constantFrom('fake-hardware', 'manual-management', 'nope'), name: fc.option(hostileString), extra: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['driver'] }),
    fc.record({ address: mac, node_uuid: fc.constant(nodeUuid), extra: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['address', 'node_uuid'] }),
    fc.record({ node_uuid: fc.constant(nodeUuid), name: fc.option(hostileString), address: mac }, { requiredKeys: ['node_uuid'] }),
    fc.record({ description: hostileString, extra: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ resource_class: fc.constantFrom('fuzz', 'none'), traits: fc.constant([]), name: fc.option(hostileString) }, { requiredKeys: ['resource_class'] }),
    fc.record({ callback_url: fc.constantFrom('http://127.0.0.1:9999', 'nope'), agent_token: hostileString, agent_version: fc.constant('9.0') }),
  );
}

/** A request body as the raw text sent, from plausible to hostile. */
export const bodyArb = (nodeUuid: string): fc.Arbitrary<string | undefined> => fc.oneof(
  { weight: 4, arbitrary: plausibleArb(nodeUuid).map((o) => JSON.stringify(o)) },
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...FIELD_NAMES), jsonish, { maxKeys: 5 }).map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  // Malformed JSON: cut, garbled or not JSON at all.
  { weight: 2, arbitrary: fc.tuple(fc.dictionary(fc.constantFrom(...FIELD_NAMES), jsonish, { maxKeys: 4 }).map((o) => JSON.stringify(o)), fc.nat()).map(([t, n]) => t.slice(0, n % Math.max(1, t.length))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '[', '"', '{"a":}', '{"a":1,}', 'nul', 'NaN', '{"a":1}{"b":2}', '\u0000', '{"a":"\\u0000"}', '{"a\\u0000":1}', '{"a":"\\ud800"}', '1e999999', '-0') },
  // Deep and huge.
  { weight: 1, arbitrary: fc.integer({ min: 48, max: 5000 }).map((d) => nested(d)) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 200_000 }).map((n) => JSON.stringify({ driver: 'fake-hardware', extra: { blob: 'x'.repeat(n) } })) },
  { weight: 1, arbitrary: fc.constant(JSON.stringify({ extra: Object.fromEntries(Array.from({ length: 9000 }, (_, i) => [`k${i}`, i])) })) },
  // Prototype keys, however spelled.
  { weight: 2, arbitrary: fc.constantFrom('{"__proto__":{"polluted":"yes"}}', '{"driver":"fake-hardware","extra":{"__proto__":{"polluted":"yes"}}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}', '[{"\\u005f_proto__":{"polluted":"yes"}}]', '{"extra":{"a":{"__proto__":[1]}}}',
    '{"target":"manage","__proto__":{"polluted":"yes"}}') },
);

/** JSON pointers into a resource: every path of its document (two levels), and hostile ones. */
export function pointersOf(doc: Record<string, unknown>): string[] {
  const esc = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  const out = new Set<string>();
  for (const [k, v] of Object.entries(doc)) {
    out.add(`/${esc(k)}`);
    if (v && typeof v === 'object') {
      for (const k2 of Object.keys(v)) out.add(`/${esc(k)}/${esc(k2)}`);
      out.add(`/${esc(k)}/new`);
      if (Array.isArray(v)) out.add(`/${esc(k)}/-`);
    }
  }
  for (const p of ['/', '', '/__proto__', '/__proto__/polluted', '/extra/__proto__/polluted', '/extra/constructor/prototype/polluted', '/extra/a/prototype',
    '/properties/constructor', '/extra/toString', '/extra/hasOwnProperty/x', '/extra/a~1b', '/extra/~2', '/extra/-', '/extra/0', '/nope', '/extra/nul\u0000',
    '/driver_info/redfish_password', '/driver_info', '/instance_info/image_source', '/links/0/href']) out.add(p);
  return [...out];
}

export const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;

/** Values a patch writes: anything JSON, hostile strings, deep or large values. */
export const patchValueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: jsonish },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 400 }).map((d) => JSON.parse(nested(d / 2))) },
  { weight: 1, arbitrary: fc.integer({ min: 50_000, max: 120_000 }).map((n) => 'v'.repeat(n)) },
);

/** A JSON-patch document of up to four ops over `pointers`, sometimes malformed. */
export function patchArb(pointers: string[]): fc.Arbitrary<string> {
  const pointer = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...pointers) }, { weight: 1, arbitrary: hostileString.map((s) => `/${s}`) });
  const op = fc.record({ op: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...OPS) }, { weight: 1, arbitrary: hostileString }), path: pointer, from: pointer, value: patchValueArb },
    { requiredKeys: ['op', 'path'] });
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => JSON.stringify(ops)) },
    { weight: 1, arbitrary: bodyArb('').map((b) => b ?? '') },
  );
}
