// /v1/volume (1.32): a node's volume connectors (how it reaches storage: initiator IQN, IP, MAC,
// WWNN/WWPN, a port or port group) and volume targets (the volumes it uses; boot_index 0 is its
// boot volume, which the `external` storage interface has the node boot from). As in Ironic a
// change or removal needs the node powered off (its conductor would hold the node lock), and
// below 1.32 every path answers 404.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { maskSecrets } from '../../../common/secrets.ts';
import { isoTime } from '../../../db/index.ts';
import { findNode, getNodeById, nodeUuidsByIds, type NodeRecord } from '../../../db/nodes.ts';
import { createVolumeRecord, deleteVolumeRecord, findVolumeRecord, listVolumeRecords, updateVolumeRecord, type VolumeTable, type VolumeTables } from '../../../db/volumes.ts';
import { jsonLimits } from '../body.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, noContent, optionalBool, parseFields, parsePage, pick, queryValue, selfLinks, type Query } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { applyPatch, PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { checkUuid, isUniqueViolation, validateSchema } from '../validation.ts';
import { requireEndpoint } from '../version.ts';
import { lockedOrChanged } from './nodes.ts';

type Json = Record<string, unknown>;

/** The connector types Ironic's storage interfaces understand. */
export const CONNECTOR_TYPES = ['iqn', 'ip', 'mac', 'wwnn', 'wwpn', 'port', 'portgroup'];

/** What differs between connectors and targets; the routes are the same for both. */
interface VolumeResource<T extends VolumeTable> {
  table: T;
  /** Path under /v1/volume and the collection's key. */
  path: 'connectors' | 'targets';
  /** "volume connector": messages and the conductor action names Ironic uses. */
  noun: string;
  fields: string[];
  defaults: string[];
  sortKeys: Set<string>;
  /** The body's own fields (besides uuid, node_uuid, extra). */
  input: Record<string, object>;
  required: string[];
  view(r: VolumeTables[T]): Json;
  conflict(err: unknown, fields: Json): never;
}

const COMMON_INPUT = { uuid: { type: 'string' }, node_uuid: { type: 'string' }, extra: { type: ['object', 'null'] } };

const connectors: VolumeResource<'volume_connectors'> = {
  table: 'volume_connectors',
  path: 'connectors',
  noun: 'volume connector',
  fields: ['uuid', 'type', 'connector_id', 'node_uuid', 'extra', 'created_at', 'updated_at', 'links'],
  defaults: ['uuid', 'node_uuid', 'type', 'connector_id', 'links'],
  sortKeys: new Set(['id', 'uuid', 'type', 'connector_id', 'created_at', 'updated_at']),
  input: { type: { type: 'string', enum: CONNECTOR_TYPES }, connector_id: { type: 'string', minLength: 1, maxLength: 255 } },
  required: ['type', 'connector_id'],
  view: (c) => ({ type: c.type, connector_id: c.connector_id }),
  conflict(err, fields) {
    if (isUniqueViolation(err, 'uuid')) throw new Conflict(`A volume connector with UUID ${String(fields.uuid)} already exists.`, 'VolumeConnectorAlreadyExists');
    if (isUniqueViolation(err)) throw new Conflict(`A volume connector with type ${String(fields.type)} and connector ID ${String(fields.connector_id)} already exists.`, 'VolumeConnectorTypeAndIdAlreadyExists');
    throw err;
  },
};

const targets: VolumeResource<'volume_targets'> = {
  table: 'volume_targets',
  path: 'targets',
  noun: 'volume target',
  fields: ['uuid', 'volume_type', 'properties', 'boot_index', 'volume_id', 'node_uuid', 'extra', 'created_at', 'updated_at', 'links'],
  defaults: ['uuid', 'node_uuid', 'volume_type', 'boot_index', 'volume_id', 'links'],
  sortKeys: new Set(['id', 'uuid', 'volume_type', 'boot_index', 'volume_id', 'created_at', 'updated_at']),
  input: {
    volume_type: { type: 'string', minLength: 1, maxLength: 64 },
    properties: { type: ['object', 'null'] },
    boot_index: { type: 'integer', minimum: 0 },
    volume_id: { type: 'string', minLength: 1, maxLength: 36 },
  },
  required: ['volume_type', 'boot_index', 'volume_id'],
  // A target's properties may hold CHAP credentials (auth_password): masked as driver_info is.
  view: (t) => ({ volume_type: t.volume_type, properties: maskSecrets(t.properties), boot_index: t.boot_index, volume_id: t.volume_id }),
  conflict(err, fields) {
    if (isUniqueViolation(err, 'uuid')) throw new Conflict(`A volume target with UUID ${String(fields.uuid)} already exists.`, 'VolumeTargetAlreadyExists');
    if (isUniqueViolation(err)) throw new Conflict(`A volume target with boot index '${String(fields.boot_index)}' for the same node already exists.`, 'VolumeTargetBootIndexAlreadyExists');
    throw err;
  },
};

function render<T extends VolumeTable>(res: VolumeResource<T>, r: VolumeTables[T], nodes: Map<number, string>, fields: ReadonlySet<string>, base: string): Json {
  return pick({
    uuid: r.uuid, ...res.view(r), node_uuid: nodes.get(r.node_id) ?? null, extra: r.extra,
    created_at: isoTime(r.created_at), updated_at: isoTime(r.updated_at), links: selfLinks(base, `volume/${res.path}`, r.uuid),
  }, fields);
}

async function recordOr404<T extends VolumeTable>(knex: Knex, res: VolumeResource<T>, ident: string): Promise<VolumeTables[T]> {
  const r = await findVolumeRecord(knex, res.table, checkUuid(ident, `${res.noun} UUID`));
  if (!r) throw notFound(res.noun.replace(/^v/, 'V'), ident);
  return r;
}

/** The node a body's node_uuid names: a missing one is the client's mistake (400), as in Ironic. */
async function nodeOfBody(knex: Knex, value: unknown): Promise<NodeRecord> {
  const uuid = checkUuid(String(value), 'node_uuid');
  const node = await findNode(knex, uuid);
  if (!node) throw new InvalidInput(`Node ${uuid} could not be found.`, 'NodeNotFound');
  return node;
}

/** Ironic's conductor changes a node's volumes only with the node lock held and the node powered off. */
async function checkNodeChangeable(ctx: ApiContext, nodeId: number, action: string): Promise<void> {
  const node = (await getNodeById(ctx.db.knex, nodeId))!;
  if (node.reservation) throw await lockedOrChanged(ctx, node, node.uuid);
  if (node.power_state !== 'power off') {
    throw new InvalidInput(`The requested action "${action}" can not be performed on node "${node.uuid}" while it is in state "${node.power_state}".`, 'InvalidStateRequested');
  }
}

async function listReply<T extends VolumeTable>(req: FastifyRequest, ctx: ApiContext, res: VolumeResource<T>, parent?: NodeRecord) {
  const q = req.query as Query;
  const requested = parseFields(req, q, Object.fromEntries(res.fields.map((f) => [f, 32])));
  const detail = optionalBool(q, 'detail');
  if (detail && requested) throw new InvalidInput("Can't fetch a subset of fields with 'detail' set");
  const fields = new Set(requested ?? (detail ? res.fields : res.defaults));
  let node = parent;
  const nodeIdent = parent ? undefined : queryValue(q, 'node');
  if (nodeIdent !== undefined) node = await findNodeOr404(ctx.db.knex, nodeIdent);
  const page = parsePage(q, ctx.config.api.maxLimit, res.sortKeys);
  const marker = page.marker ? await recordOr404(ctx.db.knex, res, page.marker) : undefined;
  const items = await listVolumeRecords(ctx.db.knex, res.table, node?.id, { ...page, marker: marker as unknown as Json });
  const nodes = await nodeUuidsByIds(ctx.db.knex, items.map((r) => r.node_id));
  const base = baseUrl(req, ctx.config);
  const path = parent ? `nodes/${parent.uuid}/volume/${res.path}` : `volume/${res.path}`;
  return collection(res.path, items.map((r) => render(res, r, nodes, fields, base)), { base, path, query: q, page, markerOf: (r) => r.uuid as string });
}

/** The body's fields checked (schema, then node_uuid) into what the table stores. */
async function checkBody<T extends VolumeTable>(ctx: ApiContext, res: VolumeResource<T>, body: Json, what: string): Promise<Json> {
  validateSchema({ type: 'object', required: [...res.required, 'node_uuid'], additionalProperties: false, properties: { ...COMMON_INPUT, ...res.input } }, body, what);
  const out: Json = { ...body, extra: body.extra ?? {} };
  if ('properties' in res.input) out.properties = body.properties ?? {};
  delete out.node_uuid;
  out.node_id = (await nodeOfBody(ctx.db.knex, body.node_uuid)).id;
  if (typeof body.uuid === 'string') out.uuid = checkUuid(body.uuid, 'uuid');
  return out;
}

function routesOf<T extends VolumeTable>(res: VolumeResource<T>): FastifyPluginAsync<ApiContext> {
  return async (app, ctx) => {
    const all = new Set(res.fields);
    const fieldVersions = Object.fromEntries(res.fields.map((f) => [f, 32]));
    app.get(`/volume/${res.path}`, (req) => (requireEndpoint(req, 32), listReply(req, ctx, res)));
    app.get<{ Params: { ident: string } }>(`/nodes/:ident/volume/${res.path}`, async (req) => {
      requireEndpoint(req, 32);
      return listReply(req, ctx, res, await findNodeOr404(ctx.db.knex, req.params.ident));
    });
    app.get<{ Params: { uuid: string } }>(`/volume/${res.path}/:uuid`, async (req) => {
      requireEndpoint(req, 32);
      const r = await recordOr404(ctx.db.knex, res, req.params.uuid);
      const fields = new Set(parseFields(req, req.query as Query, fieldVersions) ?? res.fields);
      return render(res, r, await nodeUuidsByIds(ctx.db.knex, [r.node_id]), fields, baseUrl(req, ctx.config));
    });
    app.post(`/volume/${res.path}`, { schema: { body: { type: 'object' } } }, async (req, reply) => {
      requireEndpoint(req, 32);
      const fields = await checkBody(ctx, res, req.body as Json, res.noun);
      const r = await createVolumeRecord(ctx.db.knex, res.table, fields as never).catch((err) => res.conflict(err, fields));
      const base = baseUrl(req, ctx.config);
      reply.code(201).header('Location', `${base}/v1/volume/${res.path}/${r.uuid}`);
      return render(res, r, await nodeUuidsByIds(ctx.db.knex, [r.node_id]), all, base);
    });
    app.patch<{ Params: { uuid: string } }>(`/volume/${res.path}/:uuid`, { schema: { body: PATCH_SCHEMA } }, async (req) => {
      requireEndpoint(req, 32);
      const r = await recordOr404(ctx.db.knex, res, req.params.uuid);
      const nodes = await nodeUuidsByIds(ctx.db.knex, [r.node_id]);
      const base = baseUrl(req, ctx.config);
      // The document patched holds the stored secrets (not the masked view), so a patch keeps them.
      const current: Json = { ...render(res, r, nodes, all, base), ...('properties' in r ? { properties: r.properties } : {}) };
      const patchable = new Set(res.fields.filter((f) => !['uuid', 'created_at', 'updated_at', 'links'].includes(f)));
      const { doc } = applyPatch(current, req.body as PatchOp[], { allowed: patchable, known: all, limits: jsonLimits(ctx.config) });
      const body = Object.fromEntries([...patchable].map((f) => [f, doc[f]]).filter(([, v]) => v !== null && v !== undefined));
      const fields = await checkBody(ctx, res, body, res.noun);
      for (const nodeId of new Set([r.node_id, fields.node_id as number])) await checkNodeChangeable(ctx, nodeId, `${res.noun} update`);
      const updated = await updateVolumeRecord(ctx.db.knex, res.table, r.id, fields as never).catch((err) => res.conflict(err, fields));
      return render(res, updated, await nodeUuidsByIds(ctx.db.knex, [updated.node_id]), all, base);
    });
    app.delete<{ Params: { uuid: string } }>(`/volume/${res.path}/:uuid`, async (req, reply) => {
      requireEndpoint(req, 32);
      const r = await recordOr404(ctx.db.knex, res, req.params.uuid);
      await checkNodeChangeable(ctx, r.node_id, `${res.noun} deletion`);
      await deleteVolumeRecord(ctx.db.knex, res.table, r.id);
      return noContent(reply);
    });
  };
}

/** The volume root documents: links to the connectors and targets, everywhere or of one node. */
function volumeRoot(base: string, prefix: string): Json {
  return {
    links: selfLinks(base, prefix, ''),
    connectors: selfLinks(base, prefix, 'connectors'),
    targets: selfLinks(base, prefix, 'targets'),
  };
}

export const volumeRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/volume', async (req) => (requireEndpoint(req, 32), volumeRoot(baseUrl(req, ctx.config), 'volume')));
  app.get<{ Params: { ident: string } }>('/nodes/:ident/volume', async (req) => {
    requireEndpoint(req, 32);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return volumeRoot(baseUrl(req, ctx.config), `nodes/${node.uuid}/volume`);
  });
  await routesOf(connectors)(app, ctx);
  await routesOf(targets)(app, ctx);
};
