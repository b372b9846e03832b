// /v1/portgroups (1.23): bonds of a node's ports.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { normalizeMac } from '../../../common/mac.ts';
import { isoTime } from '../../../db/index.ts';
import { findNode, isUuid, nodeUuidsByIds } from '../../../db/nodes.ts';
import { createPortgroup, deletePortgroup, findPortgroup, listPortgroups, portgroupHasPorts, updatePortgroup, type PortgroupFilters, type PortgroupRecord } from '../../../db/portgroups.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { wantsDetail, baseUrl, collection, listParam, noContent, parseFields, parsePage, pick, queryValue, selfLinks, type Query } from '../http.ts';
import { normalizeConductorGroup } from '../nodeInput.ts';
import { jsonLimits } from '../body.ts';
import { applyPatch, PATCH_SCHEMA, patchRoots, type PatchOp } from '../jsonPatch.ts';
import { BOOL, checkMac, checkName, checkUuid, coerceBooleans, isUniqueViolation, nullable, validateSchema } from '../validation.ts';
import { requireEndpoint, requireVersion } from '../version.ts';

const FIELD_VERSIONS: Record<string, number> = {
  uuid: 23, name: 23, address: 23, node_uuid: 23, standalone_ports_supported: 23, extra: 23, internal_info: 23, created_at: 23, updated_at: 23, links: 23,
  ports: 24, mode: 26, properties: 26, physical_network: 102, category: 103, dynamic_portgroup: 111,
};
/**
 * `mode` and `properties` (1.26) are version-checked only where a request names them (`fields=`, a create, a
 * patch of the whole field); Ironic's answers show them from 1.23, and a patch inside `/properties/…` is allowed.
 */
const SHOWN_FROM_PORTGROUPS = new Set(['mode', 'properties']);
const DEFAULT_FIELDS = ['uuid', 'address', 'name', 'links'];
const SORT_KEYS = new Set(['id', 'uuid', 'name', 'address', 'created_at', 'updated_at']);
const INPUT: Record<string, Record<string, unknown>> = {
  uuid: { type: 'string' },
  name: nullable('string', { maxLength: 255 }),
  address: nullable('string'),
  node_uuid: { type: 'string' },
  mode: nullable('string', { maxLength: 255 }),
  properties: { type: 'object' },
  standalone_ports_supported: BOOL,
  extra: { type: 'object' },
  physical_network: nullable('string', { maxLength: 64 }),
  category: nullable('string', { maxLength: 80 }),
};
const CREATE_SCHEMA = { type: 'object', required: ['node_uuid'], additionalProperties: false, properties: INPUT };
const PATCHABLE = new Set(['name', 'address', 'node_uuid', 'mode', 'properties', 'standalone_ports_supported', 'extra', 'physical_network', 'category']);

function render(g: PortgroupRecord, nodes: Map<number, string>, fields: ReadonlySet<string>, base: string, linkLists: boolean): Record<string, unknown> {
  const full: Record<string, unknown> = {
    uuid: g.uuid, name: g.name, address: g.address, node_uuid: nodes.get(g.node_id) ?? null, mode: g.mode, properties: g.properties,
    standalone_ports_supported: g.standalone_ports_supported, extra: g.extra, internal_info: g.internal_info,
    physical_network: g.physical_network, category: g.category, dynamic_portgroup: g.dynamic_portgroup,
    created_at: isoTime(g.created_at), updated_at: isoTime(g.updated_at), links: selfLinks(base, 'portgroups', g.uuid),
  };
  if (linkLists) full.ports = selfLinks(base, 'portgroups', `${g.uuid}/ports`);
  return pick(full, fields);
}

function visible(version: number, requested: Set<string> | undefined, all: boolean): Set<string> {
  const names = requested ? [...requested] : all ? Object.keys(FIELD_VERSIONS) : DEFAULT_FIELDS;
  return new Set(names.filter((f) => (!requested && SHOWN_FROM_PORTGROUPS.has(f) ? 23 : FIELD_VERSIONS[f]) <= version));
}

/** The fields a patch needs a version for: mode and properties only when written whole (Ironic's is_path_updated). */
function versionedPatchFields(ops: PatchOp[]): string[] {
  return patchRoots(ops).filter((f) => !SHOWN_FROM_PORTGROUPS.has(f) || ops.some((op) => op.path === `/${f}` && op.op !== 'remove'));
}

async function groupOr404(knex: Knex, ident: string): Promise<PortgroupRecord> {
  const g = await findPortgroup(knex, ident, isUuid(ident));
  if (!g) throw notFound('Portgroup', ident);
  return g;
}

async function listReply(req: FastifyRequest, ctx: ApiContext, detail: boolean, path: string, fixed: PortgroupFilters = {}) {
  const q = req.query as Query;
  const requested = parseFields(req, q, FIELD_VERSIONS);
  const fields = visible(req.apiVersion, requested, wantsDetail(req, q, detail));
  const filters: PortgroupFilters = { ...fixed, project: req.auth.project };
  const nodeIdent = queryValue(q, 'node');
  if (nodeIdent !== undefined) {
    const node = await findNode(ctx.db.knex, nodeIdent);
    if (!node) throw notFound('Node', nodeIdent);
    filters.node_id = node.id;
  }
  const address = queryValue(q, 'address');
  if (address !== undefined) filters.address = normalizeMac(address);
  const shard = queryValue(q, 'shard');
  if (shard !== undefined) {
    requireVersion(req, 106, 'The shard filter');
    filters.node_shards = listParam(shard);
  }
  const conductorGroups = queryValue(q, 'conductor_groups');
  if (conductorGroups !== undefined) {
    requireVersion(req, 99, 'The conductor_groups filter');
    filters.node_conductor_groups = listParam(conductorGroups).map(normalizeConductorGroup);
  }
  // One way of narrowing by node at a time, as in Ironic's _get_portgroups_collection.
  if ([filters.node_id, filters.address, filters.node_shards, filters.node_conductor_groups].filter((f) => f !== undefined).length > 1) {
    throw new InvalidInput('Filtering by node, address, shard or conductor_groups simultaneously is not supported.', 'Invalid');
  }
  const page = parsePage(q, ctx.config.api.maxLimit, SORT_KEYS);
  const marker = page.marker ? await groupOr404(ctx.db.knex, page.marker) : undefined;
  const groups = await listPortgroups(ctx.db.knex, filters, { ...page, marker: marker as unknown as Record<string, unknown> });
  const nodes = await nodeUuidsByIds(ctx.db.knex, groups.map((g) => g.node_id));
  const base = baseUrl(req, ctx.config);
  return collection('portgroups', groups.map((g) => render(g, nodes, fields, base, !requested)), { base, path, query: q, page, markerOf: (g) => g.uuid as string });
}

async function checkFields(ctx: ApiContext, body: Record<string, unknown>): Promise<Partial<PortgroupRecord>> {
  const out: Record<string, unknown> = coerceBooleans({ ...body }, ['standalone_ports_supported']);
  delete out.node_uuid;
  if (typeof body.name === 'string') checkName(body.name, 'portgroup');
  if (typeof body.address === 'string') out.address = checkMac(body.address);
  if (typeof body.uuid === 'string') out.uuid = checkUuid(body.uuid, 'uuid');
  if ('node_uuid' in body) {
    const uuid = checkUuid(String(body.node_uuid), 'node_uuid');
    const node = await findNode(ctx.db.knex, uuid);
    if (!node) throw new InvalidInput(`Node ${uuid} could not be found.`, 'NodeNotFound');
    out.node_id = node.id;
  }
  return out as Partial<PortgroupRecord>;
}

function conflict(err: unknown, fields: Partial<PortgroupRecord>): never {
  if (isUniqueViolation(err, 'address')) throw new Conflict(`A port group with MAC address ${String(fields.address)} already exists.`, 'PortgroupMACAlreadyExists');
  if (isUniqueViolation(err, 'name')) throw new Conflict(`A port group with name ${String(fields.name)} already exists.`, 'PortgroupDuplicateName');
  throw err;
}

function guard(req: FastifyRequest): void {
  requireEndpoint(req, 23);
}

export const portgroupRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/portgroups', (req) => (guard(req), listReply(req, ctx, false, 'portgroups')));
  app.get('/portgroups/detail', (req) => (guard(req), listReply(req, ctx, true, 'portgroups/detail')));
  app.get<{ Params: { ident: string } }>('/nodes/:ident/portgroups', async (req) => {
    guard(req);
    const node = await findNode(ctx.db.knex, req.params.ident);
    if (!node) throw notFound('Node', req.params.ident);
    return listReply(req, ctx, false, `nodes/${node.uuid}/portgroups`, { node_id: node.id });
  });
  app.get<{ Params: { ident: string } }>('/portgroups/:ident', async (req) => {
    guard(req);
    const g = await groupOr404(ctx.db.knex, req.params.ident);
    const requested = parseFields(req, req.query as Query, FIELD_VERSIONS);
    return render(g, await nodeUuidsByIds(ctx.db.knex, [g.node_id]), visible(req.apiVersion, requested, true), baseUrl(req, ctx.config), !requested);
  });
  app.post('/portgroups', { schema: { body: CREATE_SCHEMA } }, async (req: FastifyRequest, reply: FastifyReply) => {
    guard(req);
    const body = req.body as Record<string, unknown>;
    for (const f of Object.keys(body)) requireVersion(req, FIELD_VERSIONS[f] ?? 23, `Field ${f}`);
    const fields = await checkFields(ctx, body);
    const g = await createPortgroup(ctx.db.knex, fields as PortgroupRecord).catch((err) => conflict(err, fields));
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/portgroups/${g.uuid}`);
    return render(g, await nodeUuidsByIds(ctx.db.knex, [g.node_id]), visible(req.apiVersion, undefined, true), base, true);
  });
  app.patch<{ Params: { ident: string } }>('/portgroups/:ident', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    guard(req);
    const g = await groupOr404(ctx.db.knex, req.params.ident);
    const base = baseUrl(req, ctx.config);
    const all = visible(req.apiVersion, undefined, true);
    const doc = render(g, await nodeUuidsByIds(ctx.db.knex, [g.node_id]), all, base, false);
    for (const f of versionedPatchFields(req.body as PatchOp[])) if (f in FIELD_VERSIONS) requireVersion(req, FIELD_VERSIONS[f], `Field ${f}`);
    const { doc: patched, touched } = applyPatch(doc, req.body as PatchOp[], { allowed: PATCHABLE, known: all, limits: jsonLimits(ctx.config) });
    const changes: Record<string, unknown> = {};
    for (const f of touched) changes[f] = patched[f] === null && ['extra', 'properties'].includes(f) ? {} : patched[f] === null && f === 'standalone_ports_supported' ? true : patched[f];
    validateSchema({ type: 'object', properties: INPUT }, changes, 'portgroup');
    const fields = await checkFields(ctx, changes);
    const updated = await updatePortgroup(ctx.db.knex, g.id, fields).catch((err) => conflict(err, fields));
    return render(updated, await nodeUuidsByIds(ctx.db.knex, [updated.node_id]), all, base, true);
  });
  app.delete<{ Params: { ident: string } }>('/portgroups/:ident', async (req, reply) => {
    guard(req);
    const g = await groupOr404(ctx.db.knex, req.params.ident);
    if (await portgroupHasPorts(ctx.db.knex, g.id)) throw new InvalidInput(`Port group ${g.uuid} still has ports. All ports must be removed from it first.`, 'PortgroupNotEmpty');
    await deletePortgroup(ctx.db.knex, g.id);
    return noContent(reply);
  });
};
