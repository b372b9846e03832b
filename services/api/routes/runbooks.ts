// /v1/runbooks (1.92): named lists of clean/service steps. A node may run a runbook (the `runbook`
// of PUT .../states/provision with clean or service) when it carries the runbook's name as a trait,
// as in Ironic before 1.112. Below 1.92 GET answers 404 and the other verbs 405, as Ironic does.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { AnvilError, Conflict, InvalidInput } from '../../../common/errors.ts';
import { isoTime } from '../../../db/index.ts';
import { createRunbook, deleteRunbook, findRunbookByName, findRunbookByUuid, listRunbooks, updateRunbook, type RunbookRecord, type RunbookStep } from '../../../db/runbooks.ts';
import { maskSecrets } from '../../../common/secrets.ts';
import { traitsOfNode } from '../../../db/traits.ts';
import { jsonLimits } from '../body.ts';
import type { ApiContext } from '../context.ts';
import type { ProvisionBody } from '../provision-verbs.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, noContent, parseFields, parsePage, pick, selfLinks, wantsDetail, type Query } from '../http.ts';
import { applyPatch, PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { checkUuid, isUniqueViolation, isUuidLike, nullable, validateSchema } from '../validation.ts';
import { checkTrait } from './node-traits.ts';
import { duplicateSteps } from '../step-duplicates.ts';

const FIELDS = ['uuid', 'name', 'steps', 'disable_ramdisk', 'public', 'owner', 'extra', 'created_at', 'updated_at', 'links'];
const FIELD_VERSIONS: Record<string, number> = Object.fromEntries(FIELDS.map((f) => [f, 92]));
const DEFAULT_FIELDS = ['uuid', 'name', 'links'];
const SORT_KEYS = new Set(['id', 'uuid', 'name', 'disable_ramdisk', 'public', 'owner', 'created_at', 'updated_at']);
const PATCHABLE = new Set(['name', 'steps', 'disable_ramdisk', 'public', 'owner', 'extra']);

/** Interfaces a runbook step may name (Ironic's CLEANING_INTERFACE_PRIORITY). */
const STEP_INTERFACES = ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid'];
const STEP_SCHEMA = {
  type: 'object',
  required: ['interface', 'step', 'order'],
  additionalProperties: false,
  properties: {
    interface: { type: 'string', enum: STEP_INTERFACES },
    step: { type: 'string', minLength: 1 },
    args: { type: 'object' },
    order: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1, pattern: '^[0-9]+$' }] },
  },
};
const INPUT = {
  uuid: nullable('string'),
  name: { type: 'string', minLength: 1, maxLength: 255 },
  steps: { type: 'array', minItems: 1, items: STEP_SCHEMA },
  disable_ramdisk: { type: ['boolean', 'null'] },
  public: { type: ['boolean', 'null'] },
  owner: nullable('string', { maxLength: 255 }),
  extra: { type: ['object', 'null'] },
};
const CREATE_SCHEMA = { type: 'object', required: ['name', 'steps'], additionalProperties: false, properties: INPUT };
const DOC_SCHEMA = { type: 'object', required: ['name', 'steps'], properties: INPUT };

function versionGate(req: FastifyRequest): void {
  if (req.apiVersion >= 92) return;
  if (req.method === 'GET') throw new AnvilError('The API version does not allow runbooks', 404, 'NotFound');
  throw new AnvilError('The API version does not allow runbooks', 405, 'MethodNotAllowed');
}

function render(r: RunbookRecord, fields: ReadonlySet<string>, base: string): Record<string, unknown> {
  const full: Record<string, unknown> = {
    uuid: r.uuid, name: r.name, disable_ramdisk: r.disable_ramdisk, public: r.public, owner: r.owner, extra: r.extra,
    steps: r.steps.map((s) => ({ interface: s.interface, step: s.step, args: maskSecrets(s.args), order: s.order })),
    created_at: isoTime(r.created_at), updated_at: isoTime(r.updated_at), links: selfLinks(base, 'runbooks', r.uuid),
  };
  return pick(full, fields);
}

/** `{runbook_ident}`: a UUID or a name. */
export async function findRunbookOr404(knex: Knex, ident: string): Promise<RunbookRecord> {
  const found = isUuidLike(ident) ? await findRunbookByUuid(knex, ident) : await findRunbookByName(knex, ident);
  if (!found) throw notFound('Runbook', ident);
  return found;
}

/** Checks a runbook document (create, or the result of a patch) and normalises its steps. */
function checkRunbook(doc: Record<string, unknown>): { name: string; steps: RunbookStep[]; disable_ramdisk: boolean; public: boolean; owner: string | null; extra: Record<string, unknown> } {
  validateSchema(DOC_SCHEMA, doc, 'runbook');
  const name = doc.name as string;
  checkTrait(name);
  const steps = (doc.steps as Record<string, unknown>[]).map((s) => ({ interface: String(s.interface), step: String(s.step), args: (s.args as Record<string, unknown> | undefined) ?? {}, order: Number(s.order) }));
  const duplicates = duplicateSteps(steps);
  if (duplicates.length) throw new InvalidInput(`Duplicate steps. A runbook cannot have multiple steps with the same interface and step. Duplicates: ${duplicates.join('; ')}`, 'InvalidDeployTemplate');
  const isPublic = doc.public === true;
  const owner = (doc.owner as string | null | undefined) ?? null;
  if (isPublic && owner !== null) throw new InvalidInput('There cannot be an owner for a public runbook', 'PatchError');
  return { name, steps, disable_ramdisk: doc.disable_ramdisk === true, public: isPublic, owner, extra: (doc.extra as Record<string, unknown> | null | undefined) ?? {} };
}

function duplicateName(err: unknown, name: string): never {
  if (isUniqueViolation(err, 'name')) throw new Conflict(`A runbook with name ${name} already exists.`, 'RunbookDuplicateName');
  if (isUniqueViolation(err, 'uuid')) throw new Conflict('A runbook with this UUID already exists.', 'RunbookAlreadyExists');
  throw err;
}

async function listReply(req: FastifyRequest, ctx: ApiContext, byPath: boolean) {
  versionGate(req);
  const q = req.query as Query;
  const detail = wantsDetail(req, q, byPath);
  const requested = parseFields(req, q, FIELD_VERSIONS);
  const fields = new Set(requested ?? (detail ? FIELDS : DEFAULT_FIELDS));
  const page = parsePage(q, ctx.config.api.maxLimit, SORT_KEYS);
  const marker = page.marker ? await findRunbookOr404(ctx.db.knex, page.marker) : undefined;
  const items = await listRunbooks(ctx.db.knex, { ...page, marker: marker as unknown as Record<string, unknown> }, req.auth.project);
  const base = baseUrl(req, ctx.config);
  return collection('runbooks', items.map((r) => render(r, fields, base)), { base, path: 'runbooks', query: q, page, markerOf: (r) => r.uuid as string });
}

export const runbookRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const all = new Set(FIELDS);
  app.get('/runbooks', (req) => listReply(req, ctx, false));
  app.get('/runbooks/detail', (req) => listReply(req, ctx, true));
  app.get<{ Params: { ident: string } }>('/runbooks/:ident', async (req) => {
    versionGate(req);
    const r = await findRunbookOr404(ctx.db.knex, req.params.ident);
    return render(r, new Set(parseFields(req, req.query as Query, FIELD_VERSIONS) ?? FIELDS), baseUrl(req, ctx.config));
  });
  app.post('/runbooks', { schema: { body: CREATE_SCHEMA } }, async (req, reply) => {
    versionGate(req);
    const body = req.body as Record<string, unknown>;
    const fields = checkRunbook(body);
    const uuid = typeof body.uuid === 'string' ? checkUuid(body.uuid, 'uuid') : undefined;
    const r = await createRunbook(ctx.db.knex, { ...fields, uuid }).catch((err) => duplicateName(err, fields.name));
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/runbooks/${r.uuid}`);
    return render(r, all, base);
  });
  app.patch<{ Params: { ident: string } }>('/runbooks/:ident', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    versionGate(req);
    const r = await findRunbookOr404(ctx.db.knex, req.params.ident);
    const ops = req.body as PatchOp[];
    // A patch of `public` first drops the owner; the same patch may set a new one (Ironic's RunbooksController.patch).
    const owner = ops.some((op) => op.path === '/public') ? null : r.owner;
    const current = { uuid: r.uuid, name: r.name, steps: r.steps, disable_ramdisk: r.disable_ramdisk, public: r.public, owner, extra: r.extra };
    const { doc } = applyPatch(current, ops, { allowed: PATCHABLE, known: all, limits: jsonLimits(ctx.config) });
    const fields = checkRunbook({ name: doc.name, steps: doc.steps, disable_ramdisk: doc.disable_ramdisk, public: doc.public, owner: doc.owner, extra: doc.extra });
    const updated = await updateRunbook(ctx.db.knex, r.id, fields).catch((err) => duplicateName(err, fields.name));
    return render(updated, all, baseUrl(req, ctx.config));
  });
  app.delete<{ Params: { ident: string } }>('/runbooks/:ident', async (req, reply) => {
    versionGate(req);
    const r = await findRunbookOr404(ctx.db.knex, req.params.ident);
    await deleteRunbook(ctx.db.knex, r.id);
    return noContent(reply);
  });
};

/**
 * The `runbook` of a clean or service request: its steps, in their order, become the request's
 * steps (given together with steps: 400), and a disable_ramdisk it sets the request's. The node
 * must carry the runbook's name as a trait (Ironic before 1.112).
 */
export async function runbookRequest(ctx: ApiContext, node: { id: number; uuid: string }, target: string, ident: string, given: ProvisionBody): Promise<Partial<ProvisionBody>> {
  if (target !== 'clean' && target !== 'service') throw new InvalidInput('"runbooks" is only valid when setting target provision state to any of [clean, service]');
  const runbook = await findRunbookOr404(ctx.db.knex, ident);
  if (!(await traitsOfNode(ctx.db.knex, node.id)).includes(runbook.name)) {
    throw new InvalidInput(`This runbook has not been approved for use on this node ${node.uuid}. Please ask an administrator to add it to your node traits.`);
  }
  const key = target === 'clean' ? 'clean_steps' : 'service_steps';
  if (given[key]) throw new InvalidInput(`Please provide either "${key}" or a runbook, but not both.`);
  const steps = [...runbook.steps].sort((a, b) => a.order - b.order);
  return { [key]: steps, ...(runbook.disable_ramdisk ? { disable_ramdisk: true } : {}) };
}
