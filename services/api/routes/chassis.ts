// /v1/chassis: a grouping of nodes, and /v1/chassis/{uuid}/nodes.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { InvalidInput } from '../../../common/errors.ts';
import { chassisHasNodes, createChassis, deleteChassis, findChassis, listChassis, updateChassis, type ChassisRecord } from '../../../db/chassis.ts';
import { isoTime } from '../../../db/index.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, noContent, optionalBool, parseFields, parsePage, pick, selfLinks, type Query } from '../http.ts';
import { jsonLimits } from '../body.ts';
import { applyPatch, PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { checkUuid, isUuidLike, nullable, validateSchema } from '../validation.ts';
import { listNodesReply } from './nodes.ts';

const FIELD_VERSIONS: Record<string, number> = { uuid: 1, description: 1, extra: 1, created_at: 1, updated_at: 1, links: 1, nodes: 1 };
const DEFAULT_FIELDS = ['uuid', 'description', 'links'];
const INPUT = { uuid: { type: 'string' }, description: nullable('string', { maxLength: 255 }), extra: { type: 'object' } };
const CREATE_SCHEMA = { type: 'object', additionalProperties: false, properties: INPUT };

function render(c: ChassisRecord, fields: ReadonlySet<string>, base: string, linkLists: boolean): Record<string, unknown> {
  const full: Record<string, unknown> = {
    uuid: c.uuid, description: c.description, extra: c.extra, created_at: isoTime(c.created_at), updated_at: isoTime(c.updated_at), links: selfLinks(base, 'chassis', c.uuid),
  };
  if (linkLists) full.nodes = selfLinks(base, 'chassis', `${c.uuid}/nodes`);
  return pick(full, fields);
}

async function chassisOr404(knex: Knex, uuid: string): Promise<ChassisRecord> {
  const c = isUuidLike(uuid) ? await findChassis(knex, uuid) : undefined;
  if (!c) throw notFound('Chassis', uuid);
  return c;
}

function fieldsFor(req: FastifyRequest, all: boolean): { fields: Set<string>; requested?: Set<string> } {
  const requested = parseFields(req, req.query as Query, FIELD_VERSIONS);
  return { fields: new Set(requested ?? (all ? Object.keys(FIELD_VERSIONS) : DEFAULT_FIELDS)), requested };
}

async function listReply(req: FastifyRequest, ctx: ApiContext, detail: boolean) {
  const q = req.query as Query;
  const { fields, requested } = fieldsFor(req, detail || Boolean(optionalBool(q, 'detail')));
  const page = parsePage(q, ctx.config.api.maxLimit, new Set(['id', 'uuid', 'description', 'created_at', 'updated_at']));
  const marker = page.marker ? await chassisOr404(ctx.db.knex, page.marker) : undefined;
  const items = await listChassis(ctx.db.knex, { ...page, marker: marker as unknown as Record<string, unknown> });
  const base = baseUrl(req, ctx.config);
  return collection('chassis', items.map((c) => render(c, fields, base, !requested)), { base, path: detail ? 'chassis/detail' : 'chassis', query: q, page, markerOf: (c) => c.uuid as string });
}

export const chassisRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/chassis', (req) => listReply(req, ctx, false));
  app.get('/chassis/detail', (req) => listReply(req, ctx, true));
  app.get<{ Params: { uuid: string } }>('/chassis/:uuid', async (req) => {
    const c = await chassisOr404(ctx.db.knex, req.params.uuid);
    const { fields, requested } = fieldsFor(req, true);
    return render(c, fields, baseUrl(req, ctx.config), !requested);
  });
  app.get<{ Params: { uuid: string } }>('/chassis/:uuid/nodes', async (req) => {
    const c = await chassisOr404(ctx.db.knex, req.params.uuid);
    return listNodesReply(req, ctx, { detail: false, path: `chassis/${c.uuid}/nodes`, fixed: { chassis_id: c.id } });
  });
  app.post('/chassis', { schema: { body: CREATE_SCHEMA } }, async (req, reply) => {
    const body = (req.body ?? {}) as { uuid?: string; description?: string | null; extra?: Record<string, unknown> };
    if (body.uuid) body.uuid = checkUuid(body.uuid, 'uuid');
    const c = await createChassis(ctx.db.knex, body);
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/chassis/${c.uuid}`);
    return render(c, new Set(Object.keys(FIELD_VERSIONS)), base, true);
  });
  app.patch<{ Params: { uuid: string } }>('/chassis/:uuid', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    const c = await chassisOr404(ctx.db.knex, req.params.uuid);
    const base = baseUrl(req, ctx.config);
    const { doc, touched } = applyPatch({ uuid: c.uuid, description: c.description, extra: c.extra }, req.body as PatchOp[], { allowed: new Set(['description', 'extra']), known: new Set(Object.keys(FIELD_VERSIONS)), limits: jsonLimits(ctx.config) });
    const changes: Record<string, unknown> = {};
    for (const f of touched) changes[f] = f === 'extra' && doc.extra === null ? {} : doc[f];
    validateSchema({ type: 'object', properties: INPUT }, changes, 'chassis');
    const updated = await updateChassis(ctx.db.knex, c.id, changes);
    return render(updated, new Set(Object.keys(FIELD_VERSIONS)), base, true);
  });
  app.delete<{ Params: { uuid: string } }>('/chassis/:uuid', async (req, reply) => {
    const c = await chassisOr404(ctx.db.knex, req.params.uuid);
    if (await chassisHasNodes(ctx.db.knex, c.id)) throw new InvalidInput(`Cannot complete the requested action because chassis ${c.uuid} contains nodes.`, 'ChassisNotEmpty');
    await deleteChassis(ctx.db.knex, c.id);
    return noContent(reply);
  });
};
