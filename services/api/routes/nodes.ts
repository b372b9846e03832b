// /v1/nodes: list (filters, fields, pagination, sorting), detail, show, create, JSON-patch
// update and delete, with Ironic's codes and messages.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { ALL_PROVISION_STATES, DELETE_ALLOWED_STATES, ProvisionState, VALID_FAULTS } from '../../../common/states.ts';
import { notifyNodeWork } from '../../../db/tasks.ts';
import { recordHistory } from '../../../db/history.ts';
import { historyActor } from '../auth/identity.ts';
import { createNode, deleteNode, findNode, INTERFACE_NAMES, listNodes, NODE_JSON_COLUMNS, updateNode, type NodeFilters, type NodeRecord } from '../../../db/nodes.ts';
import { findChassis } from '../../../db/chassis.ts';
import { defaultInterfaces, getHardwareType } from '../../../drivers/registry.ts';
import type { ApiContext } from '../context.ts';
import { Forbidden, notFound } from '../errors.ts';
import { wantsDetail, baseUrl, collection, listParam, noContent, optionalBool, parseFields, parsePage, queryValue, type Query } from '../http.ts';
import { jsonLimits } from '../body.ts';
import { PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { findNodeOr404 } from '../lookup.ts';
import { nodeChanges, withFieldRules } from '../node-patch.ts';
import { checkFieldVersions, checkNodeFields, NODE_CREATE_SCHEMA, normalizeConductorGroup } from '../nodeInput.ts';
import { ownedByFilter } from '../conductor-owner.ts';
import { PolicyForbidden } from '../auth/authorize.ts';
import { loadRelations, NODE_FIELD_VERSIONS, renderNodes, visibleNodeFields, type NodeRelations } from '../nodeView.ts';
import { isUniqueViolation } from '../validation.ts';
import { requireVersion } from '../version.ts';
import { emitNode, notificationsOn } from '../../notifications/index.ts';
import { traitsOfNode } from '../../../db/traits.ts';

const API = { service: 'api' } as const;

const NOT_COLUMNS = new Set(['links', 'ports', 'states', 'portgroups', 'volume', 'chassis_uuid', 'allocation_uuid', 'traits', 'conductor']);
const NODE_COLUMNS = new Set(Object.keys(NODE_FIELD_VERSIONS).filter((f) => !NOT_COLUMNS.has(f)));
export const NODE_SORT_KEYS: ReadonlySet<string> = new Set(['id', ...[...NODE_COLUMNS].filter((c) => !NODE_JSON_COLUMNS.includes(c))]);

/** Columns a set of visible fields needs from the nodes row. */
function columnsFor(fields: ReadonlySet<string>): string[] {
  const cols = new Set(['uuid']);
  for (const f of fields) {
    if (NODE_COLUMNS.has(f)) cols.add(f);
    else if (f === 'chassis_uuid') cols.add('chassis_id');
    else if (f === 'allocation_uuid') cols.add('allocation_id');
    else if (f === 'conductor') cols.add('conductor_group');
  }
  return [...cols];
}

/** Filter query parameters, each with the version that introduced it. */
const STRING_FILTERS: [name: keyof NodeFilters, since: number][] = [
  ['driver', 16], ['resource_class', 21], ['fault', 42], ['owner', 50], ['lessee', 65], ['parent_node', 83],
];

async function parseNodeFilters(req: FastifyRequest, ctx: ApiContext, q: Query): Promise<NodeFilters> {
  const f: NodeFilters = {};
  const state = queryValue(q, 'provision_state');
  if (state !== undefined) {
    requireVersion(req, 9, 'The provision_state filter');
    if (!(ALL_PROVISION_STATES as readonly string[]).includes(state)) throw new InvalidInput(`Invalid value for provision_state: "${state}" is not a provision state.`);
    f.provision_state = state;
  }
  f.maintenance = optionalBool(q, 'maintenance');
  f.associated = optionalBool(q, 'associated');
  const retired = optionalBool(q, 'retired');
  if (retired !== undefined) requireVersion(req, 61, 'The retired filter');
  f.retired = retired;
  for (const [name, since] of STRING_FILTERS) {
    const v = queryValue(q, name);
    if (v === undefined) continue;
    requireVersion(req, since, `The ${name} filter`);
    if (name === 'fault' && !VALID_FAULTS.includes(v)) throw new InvalidInput(`Unrecognized fault "${v}" is specified, allowed faults are ${VALID_FAULTS.join(', ')}.`);
    (f as Record<string, unknown>)[name] = v;
  }
  const group = queryValue(q, 'conductor_group');
  if (group !== undefined) {
    requireVersion(req, 46, 'The conductor_group filter');
    f.conductor_group = normalizeConductorGroup(group);
  }
  const desc = queryValue(q, 'description_contains');
  if (desc !== undefined) {
    requireVersion(req, 51, 'The description_contains filter');
    f.description_contains = desc;
  }
  const instance = queryValue(q, 'instance_uuid');
  if (instance !== undefined) f.instance_uuid = instance.toLowerCase();
  const instanceName = queryValue(q, 'instance_name');
  if (instanceName !== undefined) {
    requireVersion(req, 104, 'The instance_name filter');
    f.instance_name = instanceName;
  }
  const chassis = queryValue(q, 'chassis_uuid');
  if (chassis !== undefined) {
    const c = await findChassis(ctx.db.knex, chassis);
    if (!c) throw notFound('Chassis', chassis);
    f.chassis_id = c.id;
  }
  const shard = queryValue(q, 'shard');
  if (shard !== undefined) {
    requireVersion(req, 82, 'The shard filter');
    f.shard = listParam(shard);
  }
  const sharded = optionalBool(q, 'sharded');
  if (sharded !== undefined) requireVersion(req, 82, 'The sharded filter');
  f.sharded = sharded;
  // Ironic's `project` (owner or lessee), at every version: no check_allow for it.
  const project = queryValue(q, 'project');
  if (project !== undefined) f.project = project;
  const children = optionalBool(q, 'include_children');
  if (children !== undefined) requireVersion(req, 83, 'The include_children filter');
  f.include_children = children;
  const conductor = queryValue(q, 'conductor');
  if (conductor === undefined) return f;
  requireVersion(req, 49, 'The conductor filter');
  return ownedByFilter(ctx, conductor, f);
}

/**
 * GET handler shared by /nodes, /nodes/detail and /chassis/{uuid}/nodes: one query for the page,
 * then one per relation shown (chassis uuids, traits), never one per node.
 */
export async function listNodesReply(req: FastifyRequest, ctx: ApiContext, opts: { detail: boolean; path: string; fixed?: NodeFilters }): Promise<Record<string, unknown>> {
  const q = req.query as Query;
  const detail = wantsDetail(req, q, opts.detail);
  if (opts.detail && q.fields !== undefined) throw new InvalidInput('The fields parameter is not allowed on /detail.');
  const requested = parseFields(req, q, NODE_FIELD_VERSIONS);
  const fields = visibleNodeFields(req.apiVersion, requested, detail);
  const filters = { ...(await parseNodeFilters(req, ctx, q)), ...opts.fixed };
  if (req.auth.project !== undefined) {
    // As Ironic's check_list_policy: a caller that may list only its project's nodes may name no other project.
    if (filters.project !== undefined && filters.project !== req.auth.project) throw new PolicyForbidden('baremetal:node:list');
    filters.project = req.auth.project;
  }
  const page = parsePage(q, ctx.config.api.maxLimit, NODE_SORT_KEYS);
  let marker: NodeRecord | undefined;
  if (page.marker) {
    marker = await findNode(ctx.db.knex, page.marker);
    if (!marker) throw notFound('Node', page.marker);
  }
  const nodes = await listNodes(ctx.db.knex, filters, { ...page, marker: marker as unknown as Record<string, unknown> }, detail ? undefined : columnsFor(fields));
  const rel = await loadRelations(ctx, nodes, fields);
  const base = baseUrl(req, ctx.config);
  const items = renderNodes(nodes, rel, fields, req.apiVersion, base, requested === undefined);
  return collection('nodes', items, { base, path: opts.path, query: q, page, markerOf: (n) => n.uuid as string });
}

/** The full node as GET /v1/nodes/{ident} shows it (optionally narrowed by `fields`). */
export async function showNode(req: FastifyRequest, ctx: ApiContext, node: NodeRecord, requested?: Set<string>, known?: Pick<Partial<NodeRelations>, 'traits'>): Promise<Record<string, unknown>> {
  const fields = visibleNodeFields(req.apiVersion, requested, true);
  const rel = await loadRelations(ctx, [node], fields, known);
  return renderNodes([node], rel, fields, req.apiVersion, baseUrl(req, ctx.config), requested === undefined)[0];
}

async function createNodeHandler(req: FastifyRequest, reply: FastifyReply, ctx: ApiContext) {
  const body = req.body as Record<string, unknown>;
  checkFieldVersions(req.apiVersion, Object.keys(body));
  const hw = getHardwareType(body.driver as string, ctx.config.interfaces);
  const fields = await checkNodeFields(ctx.db.knex, body, hw);
  if (typeof fields.uuid === 'string' && (await findNode(ctx.db.knex, fields.uuid))) throw new Conflict(`A node with UUID ${fields.uuid} already exists.`, 'NodeAlreadyExists');
  const interfaces: Record<string, unknown> = defaultInterfaces(hw);
  for (const i of INTERFACE_NAMES) if (fields[`${i}_interface`] == null) delete fields[`${i}_interface`];
  let node: NodeRecord;
  try {
    node = await createNode(ctx.db.knex, {
      ...interfaces,
      ...(fields as Partial<NodeRecord>),
      driver: hw.name,
      provision_state: req.apiVersion >= 11 ? ProvisionState.ENROLL : ProvisionState.AVAILABLE,
      power_state: null,
    });
  } catch (err) {
    if (isUniqueViolation(err, 'name')) throw new Conflict(`A node with name ${String(fields.name)} already exists.`, 'DuplicateName');
    if (isUniqueViolation(err, 'uuid')) throw new Conflict(`A node with UUID ${String(fields.uuid)} already exists.`, 'NodeAlreadyExists');
    throw err;
  }
  await recordHistory(ctx.db.knex, node, { event: `Node created with driver ${hw.name} in state ${node.provision_state}`, event_type: 'provisioning', ...historyActor(req.auth.identity) });
  emitNode(ctx.db.knex, API, 'create', 'end', 'info', 'NodeCRUDPayload', node);
  const base = baseUrl(req, ctx.config);
  reply.code(201).header('Location', `${base}/v1/nodes/${node.uuid}`);
  // A node just created has no traits yet (POST takes none): nothing to read back.
  return showNode(req, ctx, node, undefined, { traits: new Map() });
}

/** Finds the node, asks what the patch changes (node-patch.ts), writes it. */
async function patchNodeHandler(req: FastifyRequest<{ Params: { ident: string } }>, ctx: ApiContext) {
  const { ident } = req.params;
  const node = await findNodeOr404(ctx.db.knex, ident);
  const rel = await loadRelations(ctx, [node], new Set(['chassis_uuid']));
  const chassisUuid = node.chassis_id ? rel.chassisUuid.get(node.chassis_id) ?? null : null;
  const asked = nodeChanges(node, req.body as PatchOp[], { ident, version: req.apiVersion, query: req.query as Query, chassisUuid, limits: jsonLimits(ctx.config), interfaces: ctx.config.interfaces });
  if (!asked) return showNode(req, ctx, node);
  const { fields, wakes } = withFieldRules(node, ident, await checkNodeFields(ctx.db.knex, asked.changes, asked.hw, node.id, node.owner));
  let updated: NodeRecord | undefined;
  try {
    updated = await updateNode(ctx.db.knex, node.id, fields, { reservation: null, provision_state: node.provision_state });
  } catch (err) {
    if (isUniqueViolation(err, 'name')) throw new Conflict(`A node with name ${String(fields.name)} already exists.`, 'DuplicateName');
    throw err;
  }
  if (!updated) throw await lockedOrChanged(ctx, node, ident);
  emitNode(ctx.db.knex, API, 'update', 'end', 'info', 'NodeCRUDPayload', updated);
  if (wakes) await notifyNodeWork(ctx.db, updated);
  return showNode(req, ctx, updated);
}

/** The 409 for a compare-and-set that lost: the node is locked, or its state moved meanwhile. */
export async function lockedOrChanged(ctx: ApiContext, seen: NodeRecord, ident: string): Promise<Error> {
  const now = await findNode(ctx.db.knex, seen.uuid);
  if (!now) return notFound('Node', ident);
  if (now.reservation) return new Conflict(`Node ${now.uuid} is locked by host ${now.reservation}, please retry after the current operation is completed.`, 'NodeLocked');
  return new Conflict(`Node ${now.uuid} changed state from "${seen.provision_state}" to "${now.provision_state}" during the request; please retry.`, 'InvalidState');
}

async function deleteNodeHandler(req: FastifyRequest<{ Params: { ident: string } }>, reply: FastifyReply, ctx: ApiContext) {
  const { ident } = req.params;
  const node = await findNodeOr404(ctx.db.knex, ident);
  if (node.protected) throw new Forbidden(`Node ${node.uuid} is protected and cannot be undeployed, rebuilt or deleted`, 'NodeProtected');
  if (node.instance_uuid && !node.maintenance) throw new Conflict(`Node ${node.uuid} is associated with instance ${node.instance_uuid}.`, 'NodeAssociated');
  const deletable = ctx.config.api.allowDeletingAvailableNodes ? [...DELETE_ALLOWED_STATES, ProvisionState.AVAILABLE] : [...DELETE_ALLOWED_STATES];
  if (!node.maintenance && !deletable.includes(node.provision_state)) {
    throw new Conflict(
      `Can not delete node "${ident}" while it is in provision state "${node.provision_state}". Valid provision states to start deletion are: ${deletable.join(', ')}, or put the node in maintenance`,
      'InvalidState',
    );
  }
  if (node.reservation) throw await lockedOrChanged(ctx, node, ident);
  // The traits go with the node: read them first, when someone listens.
  const traits = notificationsOn() ? await traitsOfNode(ctx.db.knex, node.id) : [];
  if (!(await deleteNode(ctx.db.knex, node.id, { reservation: null }))) throw await lockedOrChanged(ctx, node, ident);
  emitNode(ctx.db.knex, API, 'delete', 'end', 'info', 'NodeCRUDPayload', node, {}, traits);
  return noContent(reply);
}

export const nodeRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/nodes', (req) => listNodesReply(req, ctx, { detail: false, path: 'nodes' }));
  app.get('/nodes/detail', (req) => listNodesReply(req, ctx, { detail: true, path: 'nodes/detail' }));
  app.get<{ Params: { ident: string } }>('/nodes/:ident', async (req) => {
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return showNode(req, ctx, node, parseFields(req, req.query as Query, NODE_FIELD_VERSIONS));
  });
  app.post('/nodes', { schema: { body: NODE_CREATE_SCHEMA } }, (req, reply) => createNodeHandler(req, reply, ctx));
  app.patch<{ Params: { ident: string } }>('/nodes/:ident', { schema: { body: PATCH_SCHEMA } }, (req) => patchNodeHandler(req, ctx));
  app.delete<{ Params: { ident: string } }>('/nodes/:ident', (req, reply) => deleteNodeHandler(req, reply, ctx));
};
