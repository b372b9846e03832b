// /v1/ports (+ /detail, /v1/nodes/{ident}/ports, /v1/portgroups/{ident}/ports): a node's NICs.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { Conflict, InvalidInput, NotAcceptable } from '../../../common/errors.ts';
import { isoTime } from '../../../db/index.ts';
import { findNode, isUuid, nodeUuidsByIds } from '../../../db/nodes.ts';
import { createPort, deletePort, findPortByAddress, findPortByName, findPortByUuid, listPorts, physicalNetworksInPortgroup, updatePort, type PortFilters, type PortRecord } from '../../../db/ports.ts';
import { findPortgroup, portgroupUuidsByIds } from '../../../db/portgroups.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { wantsDetail, baseUrl, collection, listParam, noContent, parseFields, parsePage, pick, queryValue, selfLinks, type Query } from '../http.ts';
import { normalizeConductorGroup } from '../nodeInput.ts';
import { jsonLimits } from '../body.ts';
import { applyPatch, PATCH_SCHEMA, patchRoots, type PatchOp } from '../jsonPatch.ts';
import { BOOL, checkMac, checkUuid, coerceBooleans, isUniqueViolation, isUuidLike, nullable, validateSchema } from '../validation.ts';
import { requireEndpoint, requireVersion } from '../version.ts';

export const PORT_FIELD_VERSIONS: Record<string, number> = {
  uuid: 1, address: 1, node_uuid: 1, extra: 1, created_at: 1, updated_at: 1, links: 1, internal_info: 18,
  pxe_enabled: 19, local_link_connection: 19, portgroup_uuid: 24, physical_network: 34, is_smartnic: 53, name: 88,
  description: 97, vendor: 100, category: 101, available_for_dynamic_portgroup: 111,
};
const DEFAULT_FIELDS = ['uuid', 'address', 'links'];
const SORT_KEYS = new Set(['id', 'uuid', 'address', 'created_at', 'updated_at', 'pxe_enabled', 'physical_network', 'name', 'description', 'vendor', 'category']);
const LLC_KEYS = ['switch_id', 'port_id', 'switch_info', 'network_type', 'hostname'];
/** OVN VTEP switch keys of local_link_connection, given together or not at all: added in 1.90, removed in 1.105. */
const VTEP_KEYS = ['vtep-logical-switch', 'vtep-physical-switch'];
const vtepServed = (version: number) => version >= 90 && version < 105;

const INPUT: Record<string, Record<string, unknown>> = {
  uuid: { type: 'string' },
  address: { type: 'string' },
  node_uuid: { type: 'string' },
  node_ident: { type: 'string' },
  pxe_enabled: BOOL,
  local_link_connection: { type: 'object' },
  physical_network: nullable('string', { maxLength: 64 }),
  portgroup_uuid: nullable('string'),
  is_smartnic: BOOL,
  extra: { type: 'object' },
  name: nullable('string', { maxLength: 255 }),
  description: nullable('string', { maxLength: 255 }),
  vendor: nullable('string', { maxLength: 32 }),
  category: nullable('string', { maxLength: 80 }),
  available_for_dynamic_portgroup: { type: 'boolean' },
};
const CREATE_SCHEMA = { type: 'object', required: ['address'], additionalProperties: false, properties: INPUT };
const PATCHABLE = new Set([
  'address', 'node_uuid', 'portgroup_uuid', 'pxe_enabled', 'local_link_connection', 'physical_network', 'extra', 'is_smartnic', 'name',
  'description', 'vendor', 'category', 'available_for_dynamic_portgroup',
]);

interface Rel { nodes: Map<number, string>; portgroups: Map<number, string> }

async function relations(knex: Knex, ports: PortRecord[]): Promise<Rel> {
  const [nodes, portgroups] = await Promise.all([nodeUuidsByIds(knex, ports.map((p) => p.node_id)), portgroupUuidsByIds(knex, ports.map((p) => p.portgroup_id))]);
  return { nodes, portgroups };
}

function renderPort(p: PortRecord, rel: Rel, fields: ReadonlySet<string>, base: string, version: number): Record<string, unknown> {
  // A VTEP link is shown empty where VTEP keys are not served (Ironic keeps the key, with {}).
  const vtepHidden = !vtepServed(version) && VTEP_KEYS.some((k) => k in p.local_link_connection);
  const full: Record<string, unknown> = {
    uuid: p.uuid, address: p.address, node_uuid: rel.nodes.get(p.node_id) ?? null, extra: p.extra, internal_info: p.internal_info,
    pxe_enabled: p.pxe_enabled, local_link_connection: vtepHidden ? {} : p.local_link_connection,
    portgroup_uuid: p.portgroup_id === null ? null : rel.portgroups.get(p.portgroup_id) ?? null,
    physical_network: p.physical_network, is_smartnic: p.is_smartnic, name: p.name, description: p.description, vendor: p.vendor, category: p.category,
    available_for_dynamic_portgroup: p.available_for_dynamic_portgroup,
    created_at: isoTime(p.created_at), updated_at: isoTime(p.updated_at), links: selfLinks(base, 'ports', p.uuid),
  };
  return pick(full, fields);
}

function visible(version: number, requested: Set<string> | undefined, all: boolean): Set<string> {
  const names = requested ? [...requested] : all ? Object.keys(PORT_FIELD_VERSIONS) : DEFAULT_FIELDS;
  return new Set(names.filter((f) => PORT_FIELD_VERSIONS[f] <= version));
}

/** `{port_ident}`: a UUID, or from 1.88 (ports got names) a name. */
async function portOr404(req: FastifyRequest, knex: Knex, ident: string): Promise<PortRecord> {
  // Ironic validates the ident as a UUID or logical name first, at every version: a MAC (its colons) or
  // any other malformed ident is a 400, not a 404.
  if (!isUuidLike(ident) && !/^[A-Za-z0-9\-._~]{1,255}$/.test(ident)) {
    throw new InvalidInput(`Expected UUID or name for port_ident: ${ident}`, 'InvalidParameterValue');
  }
  const port = isUuid(ident) ? await findPortByUuid(knex, ident) : req.apiVersion >= 88 ? await findPortByName(knex, ident) : undefined;
  if (!port) throw notFound('Port', ident);
  return port;
}

export async function listPortsReply(req: FastifyRequest, ctx: ApiContext, opts: { detail: boolean; path: string; fixed?: PortFilters }): Promise<Record<string, unknown>> {
  const q = req.query as Query;
  const detail = wantsDetail(req, q, opts.detail);
  const requested = parseFields(req, q, PORT_FIELD_VERSIONS);
  const fields = visible(req.apiVersion, requested, detail);
  const filters: PortFilters = { ...opts.fixed, project: req.auth.project };
  const nodeIdent = queryValue(q, 'node') ?? queryValue(q, 'node_uuid');
  if (queryValue(q, 'node') !== undefined && queryValue(q, 'node_uuid') !== undefined) throw new InvalidInput('Only one of node or node_uuid may be given.');
  if (nodeIdent !== undefined) {
    const node = await findNode(ctx.db.knex, nodeIdent);
    if (!node) throw notFound('Node', nodeIdent);
    filters.node_id = node.id;
  }
  const address = queryValue(q, 'address');
  if (address !== undefined) filters.address = address;
  const pg = queryValue(q, 'portgroup');
  if (pg !== undefined) {
    requireVersion(req, 24, 'The portgroup filter');
    const group = await findPortgroup(ctx.db.knex, pg, isUuid(pg));
    if (!group) throw notFound('Portgroup', pg);
    filters.portgroup_id = group.id;
  }
  const shard = queryValue(q, 'shard');
  if (shard !== undefined) {
    requireVersion(req, 82, 'The shard filter');
    filters.node_shards = listParam(shard);
  }
  const groups = queryValue(q, 'conductor_groups');
  if (groups !== undefined) {
    requireVersion(req, 99, 'The conductor_groups filter');
    if (nodeIdent !== undefined || pg !== undefined || address !== undefined || opts.fixed) {
      throw new InvalidInput('Filtering by conductor_groups cannot be combined with node_ident, portgroup_ident, or node address filters.', 'Invalid');
    }
    filters.node_conductor_groups = listParam(groups).map(normalizeConductorGroup);
  }
  const description = queryValue(q, 'description_contains');
  if (description !== undefined) {
    requireVersion(req, 97, 'The description_contains filter');
    filters.description_contains = description;
  }
  const page = parsePage(q, ctx.config.api.maxLimit, SORT_KEYS);
  let marker: PortRecord | undefined;
  if (page.marker) marker = await portOr404(req, ctx.db.knex, page.marker);
  const ports = await listPorts(ctx.db.knex, filters, { ...page, marker: marker as unknown as Record<string, unknown> });
  const rel = fields.has('node_uuid') || fields.has('portgroup_uuid') ? await relations(ctx.db.knex, ports) : { nodes: new Map(), portgroups: new Map() };
  const base = baseUrl(req, ctx.config);
  return collection('ports', ports.map((p) => renderPort(p, rel, fields, base, req.apiVersion)), { base, path: opts.path, query: q, page, markerOf: (p) => p.uuid as string });
}

function checkLlc(req: FastifyRequest, llc: Record<string, unknown>): void {
  // VTEP keys where they are not served are a 406, as a too-new field is (Ironic's _check_allowed_port_fields).
  if (!vtepServed(req.apiVersion) && VTEP_KEYS.some((k) => k in llc)) {
    throw new NotAcceptable(`local_link_connection keys ${VTEP_KEYS.join(' and ')} are served from API version 1.90 to 1.104 only; the request asked for 1.${req.apiVersion}.`);
  }
  const allowed = vtepServed(req.apiVersion) ? [...LLC_KEYS, ...VTEP_KEYS] : LLC_KEYS;
  for (const k of Object.keys(llc)) if (!allowed.includes(k)) throw new InvalidInput(`Invalid local_link_connection key "${k}": allowed keys are ${allowed.join(', ')}.`);
  const vtep = VTEP_KEYS.filter((k) => k in llc);
  if (vtep.length === 1) throw new InvalidInput(`local_link_connection needs both ${VTEP_KEYS.join(' and ')}, or neither.`);
}

/** Resolves node_uuid / portgroup_uuid of a port body to ids, with Ironic's 400s. */
async function resolveRefs(req: FastifyRequest, ctx: ApiContext, body: Record<string, unknown>, current?: PortRecord): Promise<Partial<PortRecord>> {
  const out: Record<string, unknown> = coerceBooleans({ ...body }, ['pxe_enabled', 'is_smartnic']);
  if (out.available_for_dynamic_portgroup === null) out.available_for_dynamic_portgroup = true;
  delete out.node_uuid;
  delete out.node_ident;
  delete out.portgroup_uuid;
  if (typeof body.address === 'string') out.address = checkMac(body.address);
  if (body.local_link_connection) checkLlc(req, body.local_link_connection as Record<string, unknown>);
  if (typeof body.uuid === 'string') out.uuid = checkUuid(body.uuid, 'uuid');
  let nodeId = current?.node_id;
  // node_uuid must be a UUID; node_ident (1.94) may also be a name.
  const nodeRef = 'node_ident' in body ? String(body.node_ident) : 'node_uuid' in body ? checkUuid(String(body.node_uuid), 'node_uuid') : undefined;
  if (nodeRef !== undefined) {
    const node = await findNode(ctx.db.knex, nodeRef);
    if (!node) throw new InvalidInput(`Node ${nodeRef} could not be found.`, 'NodeNotFound');
    out.node_id = nodeId = node.id;
  }
  if ('portgroup_uuid' in body) {
    if (body.portgroup_uuid === null) out.portgroup_id = null;
    else {
      const group = await findPortgroup(ctx.db.knex, String(body.portgroup_uuid), true);
      if (!group) throw new InvalidInput(`Portgroup ${String(body.portgroup_uuid)} could not be found.`, 'PortgroupNotFound');
      if (group.node_id !== nodeId) throw new InvalidInput(`Port group ${group.uuid} belongs to another node than the port.`);
      out.portgroup_id = group.id;
    }
  }
  return out as Partial<PortRecord>;
}

/**
 * The ports of a port group share one physical network (Ironic's conductor validate_port_physnet): a port that
 * would join a group, or change its network inside one, with another network than its fellow members is a 409.
 */
async function checkPortgroupPhysnet(ctx: ApiContext, fields: Partial<PortRecord>, current?: PortRecord): Promise<void> {
  const portgroupId = 'portgroup_id' in fields ? fields.portgroup_id : current?.portgroup_id;
  if (portgroupId === null || portgroupId === undefined) return;
  const physnet = ('physical_network' in fields ? fields.physical_network : current?.physical_network) ?? null;
  const others = await physicalNetworksInPortgroup(ctx.db.knex, portgroupId, current?.id);
  if (others.length === 0 || (others.length === 1 && others[0] === physnet)) return;
  const group = (await portgroupUuidsByIds(ctx.db.knex, [portgroupId])).get(portgroupId);
  throw new Conflict(`Port with physical network ${physnet ?? 'None'} cannot become a member of port group ${group}, whose ports are in physical network ${others.map((n) => n ?? 'None').join(', ')}: all ports of a port group must be in the same physical network.`, 'PortgroupPhysnetInconsistent');
}

/** node_ident is an input only (1.94): it names the node a new port belongs to. */
const INPUT_VERSIONS: Record<string, number> = { ...PORT_FIELD_VERSIONS, node_ident: 94 };

function versionCheck(req: FastifyRequest, fields: Iterable<string>): void {
  for (const f of fields) requireVersion(req, INPUT_VERSIONS[f] ?? 1, `Field ${f}`);
}

async function duplicateMac(err: unknown, address: unknown): Promise<never> {
  if (isUniqueViolation(err, 'address')) throw new Conflict(`A port with MAC address ${String(address).toLowerCase()} already exists.`, 'MACAlreadyExists');
  throw err;
}

async function createPortHandler(req: FastifyRequest, reply: FastifyReply, ctx: ApiContext) {
  const body = req.body as Record<string, unknown>;
  versionCheck(req, Object.keys(body));
  if (('node_uuid' in body) === ('node_ident' in body)) throw new InvalidInput('Schema error for port: exactly one of node_uuid and node_ident is required.');
  const fields = await resolveRefs(req, ctx, body);
  await checkPortgroupPhysnet(ctx, fields);
  if (await findPortByAddress(ctx.db.knex, fields.address!)) throw new Conflict(`A port with MAC address ${fields.address} already exists.`, 'MACAlreadyExists');
  const port = await createPort(ctx.db.knex, fields as PortRecord).catch((err) => duplicateMac(err, fields.address));
  const base = baseUrl(req, ctx.config);
  reply.code(201).header('Location', `${base}/v1/ports/${port.uuid}`);
  return renderPort(port, await relations(ctx.db.knex, [port]), visible(req.apiVersion, undefined, true), base, req.apiVersion);
}

async function patchPortHandler(req: FastifyRequest<{ Params: { uuid: string } }>, ctx: ApiContext) {
  const port = await portOr404(req, ctx.db.knex, req.params.uuid);
  const base = baseUrl(req, ctx.config);
  const all = visible(req.apiVersion, undefined, true);
  const doc = renderPort(port, await relations(ctx.db.knex, [port]), all, base, req.apiVersion);
  // A field newer than the request's version is a 406 (Ironic checks the patch's paths first), not an unknown attribute.
  versionCheck(req, patchRoots(req.body as PatchOp[]).filter((f) => f in INPUT_VERSIONS));
  const { doc: patched, touched } = applyPatch(doc, req.body as PatchOp[], { allowed: PATCHABLE, known: all, limits: jsonLimits(ctx.config) });
  const changes: Record<string, unknown> = {};
  for (const f of touched) changes[f] = patched[f] === null && ['extra', 'local_link_connection'].includes(f) ? {} : patched[f];
  validateSchema({ type: 'object', properties: INPUT }, changes, 'port');
  if ('address' in changes && typeof changes.address !== 'string') throw new InvalidInput('Schema error for port: address is required');
  const fields = await resolveRefs(req, ctx, changes, port);
  await checkPortgroupPhysnet(ctx, fields, port);
  const updated = await updatePort(ctx.db.knex, port.id, fields).catch((err) => duplicateMac(err, fields.address));
  return renderPort(updated, await relations(ctx.db.knex, [updated]), all, base, req.apiVersion);
}

export const portRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/ports', (req) => listPortsReply(req, ctx, { detail: false, path: 'ports' }));
  app.get('/ports/detail', (req) => listPortsReply(req, ctx, { detail: true, path: 'ports/detail' }));
  app.get<{ Params: { uuid: string } }>('/ports/:uuid', async (req) => {
    const port = await portOr404(req, ctx.db.knex, req.params.uuid);
    const fields = visible(req.apiVersion, parseFields(req, req.query as Query, PORT_FIELD_VERSIONS), true);
    return renderPort(port, await relations(ctx.db.knex, [port]), fields, baseUrl(req, ctx.config), req.apiVersion);
  });
  app.post('/ports', { schema: { body: CREATE_SCHEMA } }, (req, reply) => createPortHandler(req, reply, ctx));
  app.patch<{ Params: { uuid: string } }>('/ports/:uuid', { schema: { body: PATCH_SCHEMA } }, (req) => patchPortHandler(req, ctx));
  app.delete<{ Params: { uuid: string } }>('/ports/:uuid', async (req, reply) => {
    const port = await portOr404(req, ctx.db.knex, req.params.uuid);
    await deletePort(ctx.db.knex, port.id);
    return noContent(reply);
  });

  for (const detail of [false, true]) {
    const suffix = detail ? '/detail' : '';
    app.get<{ Params: { ident: string } }>(`/nodes/:ident/ports${suffix}`, async (req) => {
      const node = await findNode(ctx.db.knex, req.params.ident);
      if (!node) throw notFound('Node', req.params.ident);
      return listPortsReply(req, ctx, { detail, path: `nodes/${node.uuid}/ports${suffix}`, fixed: { node_id: node.id } });
    });
    app.get<{ Params: { ident: string } }>(`/portgroups/:ident/ports${suffix}`, async (req) => {
      requireEndpoint(req, 24);
      const group = await findPortgroup(ctx.db.knex, req.params.ident, isUuid(req.params.ident));
      if (!group) throw notFound('Portgroup', req.params.ident);
      return listPortsReply(req, ctx, { detail, path: `portgroups/${group.uuid}/ports${suffix}`, fixed: { portgroup_id: group.id } });
    });
  }
};
