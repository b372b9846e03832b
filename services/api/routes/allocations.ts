// /v1/allocations (1.52): "give me an available node of this resource class with these traits".
// As in Ironic, the API records the allocation `allocating` and a conductor picks the node
// (services/conductor/allocations.ts); clients poll until it is `active` or `error`.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { ProvisionState } from '../../../common/states.ts';
import { allocationOfNode, createAllocation, deleteAllocation, findAllocation, listAllocations, updateAllocation, type AllocationFilters, type AllocationRecord } from '../../../db/allocations.ts';
import { isoTime } from '../../../db/index.ts';
import { ALLOCATIONS_WAITING, WORK_CHANNEL } from '../../../db/tasks.ts';
import { findNode, getNodeById, isUuid, nodeUuidsByIds } from '../../../db/nodes.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, noContent, parseFields, parsePage, pick, queryValue, selfLinks, type Query } from '../http.ts';
import { jsonLimits } from '../body.ts';
import { runNodeTask } from '../tasks.ts';
import { applyPatch, PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { findNodeOr404 } from '../lookup.ts';
import { checkName, checkUuid, isUniqueViolation, nullable, validateSchema } from '../validation.ts';
import { requireEndpoint, requireVersion } from '../version.ts';
import { checkTrait } from './node-traits.ts';

const FIELD_VERSIONS: Record<string, number> = {
  uuid: 52, name: 52, node_uuid: 52, state: 52, last_error: 52, resource_class: 52, traits: 52, candidate_nodes: 52, extra: 52,
  created_at: 52, updated_at: 52, links: 52, owner: 60,
};
const DEFAULT_FIELDS = Object.keys(FIELD_VERSIONS);
const INPUT = {
  uuid: { type: 'string' },
  name: nullable('string', { maxLength: 255 }),
  resource_class: nullable('string', { maxLength: 80 }),
  traits: { type: 'array', items: { type: 'string' } },
  candidate_nodes: { type: 'array', items: { type: 'string' } },
  node: { type: 'string' },
  owner: nullable('string', { maxLength: 255 }),
  extra: { type: 'object' },
};
const CREATE_SCHEMA = { type: 'object', additionalProperties: false, properties: INPUT };

function render(a: AllocationRecord, nodes: Map<number, string>, fields: ReadonlySet<string>, base: string): Record<string, unknown> {
  return pick({
    uuid: a.uuid, name: a.name, node_uuid: a.node_id === null ? null : nodes.get(a.node_id) ?? null, state: a.state, last_error: a.last_error,
    resource_class: a.resource_class, traits: a.traits, candidate_nodes: a.candidate_nodes, extra: a.extra, owner: a.owner,
    created_at: isoTime(a.created_at), updated_at: isoTime(a.updated_at), links: selfLinks(base, 'allocations', a.uuid),
  }, fields);
}

function visible(version: number, requested?: Set<string>): Set<string> {
  return new Set((requested ? [...requested] : DEFAULT_FIELDS).filter((f) => FIELD_VERSIONS[f] <= version));
}

async function allocationOr404(knex: Knex, ident: string): Promise<AllocationRecord> {
  const a = await findAllocation(knex, ident, isUuid(ident));
  if (!a) throw notFound('Allocation', ident);
  return a;
}

async function show(req: FastifyRequest, ctx: ApiContext, a: AllocationRecord, requested?: Set<string>) {
  const nodes = await nodeUuidsByIds(ctx.db.knex, a.node_id === null ? [] : [a.node_id]);
  return render(a, nodes, visible(req.apiVersion, requested), baseUrl(req, ctx.config));
}

interface CreateBody { uuid?: string; name?: string | null; resource_class?: string | null; traits?: string[]; candidate_nodes?: string[]; node?: string; owner?: string | null; extra?: Record<string, unknown> }

async function createHandler(req: FastifyRequest<{ Body: CreateBody }>, reply: FastifyReply, ctx: ApiContext) {
  requireEndpoint(req, 52);
  const body = req.body ?? {};
  if (body.node !== undefined) requireVersion(req, 58, 'Field node');
  if (body.owner !== undefined) requireVersion(req, 60, 'Field owner');
  if (!body.resource_class && body.node === undefined) throw new InvalidInput('The resource_class field is mandatory when not backfilling');
  if (body.node !== undefined && body.candidate_nodes?.length) throw new InvalidInput('Cannot use the node field together with candidate_nodes.');
  if (typeof body.name === 'string') checkName(body.name, 'allocation');
  if (body.uuid) body.uuid = checkUuid(body.uuid, 'uuid');
  (body.traits ?? []).forEach(checkTrait);
  const candidates: string[] = [];
  for (const ident of body.candidate_nodes ?? []) {
    const n = await findNode(ctx.db.knex, ident);
    if (!n) throw new InvalidInput(`Candidate node ${ident} could not be found.`, 'NodeNotFound');
    candidates.push(n.uuid);
  }
  const backfill = body.node === undefined ? undefined : await findNode(ctx.db.knex, body.node);
  if (body.node !== undefined && !backfill) throw new InvalidInput(`Node ${body.node} could not be found.`, 'NodeNotFound');
  if (backfill?.allocation_id) throw new Conflict(`Node ${backfill.uuid} already has an allocation.`, 'NodeAssociated');
  let a: AllocationRecord;
  try {
    a = await createAllocation(ctx.db.knex, {
      ...body, node_id: backfill?.id, resource_class: body.resource_class ?? backfill?.resource_class ?? null, candidate_nodes: candidates,
    });
  } catch (err) {
    if (isUniqueViolation(err, 'name')) throw new Conflict(`An allocation with name ${String(body.name)} already exists.`, 'AllocationDuplicateName');
    if (isUniqueViolation(err, 'uuid')) throw new Conflict(`An allocation with UUID ${String(body.uuid)} already exists.`, 'AllocationAlreadyExists');
    throw err;
  }
  if (backfill) {
    // Backfill is quick and answered done, as in Ironic: the node's conductor checks and gives it, locked.
    await runNodeTask(ctx, backfill, 'backfill_allocation', { allocation_id: a.id });
    a = (await findAllocation(ctx.db.knex, a.uuid, true)) ?? a;
  } else {
    // A conductor picks the node (services/conductor/allocations.ts); the answer says `allocating`.
    await ctx.db.notify(WORK_CHANNEL, ALLOCATIONS_WAITING);
  }
  reply.code(201).header('Location', `${baseUrl(req, ctx.config)}/v1/allocations/${a.uuid}`);
  return show(req, ctx, a);
}

async function remove(ctx: ApiContext, a: AllocationRecord, reply: FastifyReply) {
  if (a.node_id !== null) {
    const node = await getNodeById(ctx.db.knex, a.node_id);
    if (node && node.provision_state === ProvisionState.ACTIVE && !node.maintenance) {
      throw new Conflict(`Cannot remove allocation ${a.uuid} of node ${node.uuid} in state "active" unless the node is in maintenance.`, 'InvalidState');
    }
  }
  await deleteAllocation(ctx.db.knex, a);
  return noContent(reply);
}

export const allocationRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/allocations', async (req) => {
    requireEndpoint(req, 52);
    const q = req.query as Query;
    const fields = visible(req.apiVersion, parseFields(req, q, FIELD_VERSIONS));
    const f: AllocationFilters = { project: req.auth.project };
    const nodeIdent = queryValue(q, 'node');
    if (nodeIdent !== undefined) f.node_id = (await findNodeOr404(ctx.db.knex, nodeIdent)).id;
    for (const k of ['resource_class', 'state', 'owner'] as const) {
      const v = queryValue(q, k);
      if (v !== undefined) f[k] = v;
    }
    const page = parsePage(q, ctx.config.api.maxLimit, new Set(['id', 'uuid', 'name', 'state', 'resource_class', 'created_at', 'updated_at']));
    const marker = page.marker ? await allocationOr404(ctx.db.knex, page.marker) : undefined;
    const items = await listAllocations(ctx.db.knex, f, { ...page, marker: marker as unknown as Record<string, unknown> });
    const nodes = await nodeUuidsByIds(ctx.db.knex, items.flatMap((a) => (a.node_id === null ? [] : [a.node_id])));
    const base = baseUrl(req, ctx.config);
    return collection('allocations', items.map((a) => render(a, nodes, fields, base)), { base, path: 'allocations', query: q, page, markerOf: (a) => a.uuid as string });
  });
  app.get<{ Params: { ident: string } }>('/allocations/:ident', async (req) => {
    requireEndpoint(req, 52);
    return show(req, ctx, await allocationOr404(ctx.db.knex, req.params.ident), parseFields(req, req.query as Query, FIELD_VERSIONS));
  });
  app.post<{ Body: CreateBody }>('/allocations', { schema: { body: CREATE_SCHEMA } }, (req, reply) => createHandler(req, reply, ctx));
  app.patch<{ Params: { ident: string } }>('/allocations/:ident', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    requireEndpoint(req, 57);
    const a = await allocationOr404(ctx.db.knex, req.params.ident);
    const all = visible(req.apiVersion);
    const { doc, touched } = applyPatch({ name: a.name, extra: a.extra, owner: a.owner }, req.body as PatchOp[], { allowed: new Set(['name', 'extra', ...(req.apiVersion >= 60 ? ['owner'] : [])]), known: all, limits: jsonLimits(ctx.config) });
    const changes: Record<string, unknown> = {};
    for (const f of touched) changes[f] = f === 'extra' && doc.extra === null ? {} : doc[f];
    validateSchema({ type: 'object', properties: INPUT }, changes, 'allocation');
    if (typeof changes.name === 'string') checkName(changes.name, 'allocation');
    const updated = await updateAllocation(ctx.db.knex, a.id, changes).catch((err) => {
      if (isUniqueViolation(err, 'name')) throw new Conflict(`An allocation with name ${String(changes.name)} already exists.`, 'AllocationDuplicateName');
      throw err;
    });
    return show(req, ctx, updated);
  });
  app.delete<{ Params: { ident: string } }>('/allocations/:ident', async (req, reply) => {
    requireEndpoint(req, 52);
    return remove(ctx, await allocationOr404(ctx.db.knex, req.params.ident), reply);
  });
  app.get<{ Params: { ident: string } }>('/nodes/:ident/allocation', async (req) => {
    requireEndpoint(req, 52);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const a = await allocationOfNode(ctx.db.knex, node.id);
    if (!a) throw notFound('Allocation of node', node.uuid);
    return show(req, ctx, a, parseFields(req, req.query as Query, FIELD_VERSIONS));
  });
  app.delete<{ Params: { ident: string } }>('/nodes/:ident/allocation', async (req, reply) => {
    requireEndpoint(req, 52);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const a = await allocationOfNode(ctx.db.knex, node.id);
    if (!a) throw notFound('Allocation of node', node.uuid);
    return remove(ctx, a, reply);
  });
};
