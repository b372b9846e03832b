// /v1/runbooks (1.92): named lists of clean/service steps. A node may run a runbook (the `runbook`
// of PUT .../states/provision with clean or service) when it carries the runbook's name as a trait
// (a request below 1.112) or any of the runbook's traits (1.112, /v1/runbooks/{ident}/traits).
// Below 1.92 GET answers 404 and the other verbs 405, as Ironic does.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { AnvilError, Conflict, InvalidInput } from '../../../common/errors.ts';
import { isoTime } from '../../../db/index.ts';
import {
  addRunbookTrait, createRunbook, deleteRunbook, findRunbookByName, findRunbookByUuid, listRunbooks, removeRunbookTraits, setRunbookTraits, traitsOfRunbooks,
  updateRunbook, type RunbookRecord,
} from '../../../db/runbooks.ts';
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
import { duplicateSteps, stepSchema } from '../step-lists.ts';

const FIELD_VERSIONS: Record<string, number> = {
  ...Object.fromEntries(['uuid', 'name', 'steps', 'disable_ramdisk', 'public', 'owner', 'extra', 'created_at', 'updated_at', 'links'].map((f) => [f, 92])),
  description: 112, traits: 112,
};
const fieldsAt = (version: number) => Object.keys(FIELD_VERSIONS).filter((f) => FIELD_VERSIONS[f] <= version);
const DEFAULT_FIELDS = ['uuid', 'name', 'links'];
const SORT_KEYS = new Set(['id', 'uuid', 'name', 'disable_ramdisk', 'public', 'owner', 'created_at', 'updated_at']);
const PATCHABLE = new Set(['name', 'steps', 'disable_ramdisk', 'public', 'owner', 'extra', 'description']);
/** From 1.112 a runbook's name need not be a trait: any logical name (RFC 3986 unreserved characters). */
const LOGICAL_NAME = /^[A-Za-z0-9\-._~]{1,255}$/;

/** Interfaces a runbook step may name (Ironic's CLEANING_INTERFACE_PRIORITY). */
const STEP_INTERFACES = ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid'];
const STEP_SCHEMA = stepSchema(STEP_INTERFACES, 'order', ['interface', 'step', 'order']);
const INPUT = {
  uuid: nullable('string'),
  name: { type: 'string', minLength: 1, maxLength: 255 },
  steps: { type: 'array', minItems: 1, items: STEP_SCHEMA },
  disable_ramdisk: { type: ['boolean', 'null'] },
  public: { type: ['boolean', 'null'] },
  owner: nullable('string', { maxLength: 255 }),
  extra: { type: ['object', 'null'] },
  description: nullable('string', { maxLength: 255 }),
};
const CREATE_SCHEMA = { type: 'object', required: ['name', 'steps'], additionalProperties: false, properties: INPUT };
const DOC_SCHEMA = { type: 'object', required: ['name', 'steps'], properties: INPUT };

function versionGate(req: FastifyRequest): void {
  if (req.apiVersion >= 92) return;
  if (req.method === 'GET') throw new AnvilError('The API version does not allow runbooks', 404, 'NotFound');
  throw new AnvilError('The API version does not allow runbooks', 405, 'MethodNotAllowed');
}

function render(r: RunbookRecord, traits: Map<number, string[]>, fields: ReadonlySet<string>, base: string): Record<string, unknown> {
  const full: Record<string, unknown> = {
    uuid: r.uuid, name: r.name, disable_ramdisk: r.disable_ramdisk, public: r.public, owner: r.owner, extra: r.extra,
    description: r.description, traits: traits.get(r.id) ?? [],
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
function checkRunbook(doc: Record<string, unknown>, version: number) {
  validateSchema(DOC_SCHEMA, doc, 'runbook');
  const name = doc.name as string;
  if (version < 112) checkTrait(name);
  else if (!LOGICAL_NAME.test(name)) throw new InvalidInput(`Invalid runbook name "${name}": use 1 to 255 letters, digits and - . _ ~`);
  const steps = (doc.steps as Record<string, unknown>[]).map((s) => ({ interface: String(s.interface), step: String(s.step), args: (s.args as Record<string, unknown> | undefined) ?? {}, order: Number(s.order) }));
  const duplicates = duplicateSteps(steps);
  if (duplicates.length) throw new InvalidInput(`Duplicate steps. A runbook cannot have multiple steps with the same interface and step. Duplicates: ${duplicates.join('; ')}`, 'InvalidDeployTemplate');
  const isPublic = doc.public === true;
  const owner = (doc.owner as string | null | undefined) ?? null;
  if (isPublic && owner !== null) throw new InvalidInput('There cannot be an owner for a public runbook', 'PatchError');
  return {
    name, steps, disable_ramdisk: doc.disable_ramdisk === true, public: isPublic, owner, extra: (doc.extra as Record<string, unknown> | null | undefined) ?? {},
    description: (doc.description as string | null | undefined) ?? null,
  };
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
  const fields = new Set((requested ? [...requested] : detail ? fieldsAt(req.apiVersion) : DEFAULT_FIELDS).filter((f) => FIELD_VERSIONS[f] <= req.apiVersion));
  const page = parsePage(q, ctx.config.api.maxLimit, SORT_KEYS);
  const marker = page.marker ? await findRunbookOr404(ctx.db.knex, page.marker) : undefined;
  const items = await listRunbooks(ctx.db.knex, { ...page, marker: marker as unknown as Record<string, unknown> }, req.auth.project);
  const base = baseUrl(req, ctx.config);
  const traits = fields.has('traits') ? await traitsOfRunbooks(ctx.db.knex, items.map((r) => r.id)) : new Map<number, string[]>();
  return collection('runbooks', items.map((r) => render(r, traits, fields, base)), { base, path: 'runbooks', query: q, page, markerOf: (r) => r.uuid as string });
}

/** A runbook as a create, show or patch answers it: every field of the request's version. */
async function renderOne(req: FastifyRequest, ctx: ApiContext, r: RunbookRecord, requested?: Set<string>): Promise<Record<string, unknown>> {
  const fields = new Set([...(requested ?? fieldsAt(req.apiVersion))].filter((f) => FIELD_VERSIONS[f] <= req.apiVersion));
  const traits = fields.has('traits') ? await traitsOfRunbooks(ctx.db.knex, [r.id]) : new Map<number, string[]>();
  return render(r, traits, fields, baseUrl(req, ctx.config));
}

/** Fields a request may write: below 1.112 a description is an unknown property (Ironic's schema), traits never (their endpoints). */
function checkWritable(req: FastifyRequest, fields: Iterable<string>): void {
  for (const f of fields) {
    if (f === 'traits') throw new InvalidInput('Schema error for runbook: traits are set with PUT /v1/runbooks/{ident}/traits, not in the runbook.');
    if (f === 'description' && req.apiVersion < 112) throw new InvalidInput("Schema error for runbook: Additional properties are not allowed ('description' was unexpected)");
  }
}

type TraitReq = FastifyRequest<{ Params: { ident: string; trait?: string }; Body: { traits?: string[] } | undefined }>;

/** /v1/runbooks/{ident}/traits[/{trait}] (1.112; 404 before, as Ironic). */
function runbookTraitRoutes(app: Parameters<FastifyPluginAsync<ApiContext>>[0], ctx: ApiContext): void {
  const runbookOf = async (req: TraitReq) => {
    if (req.apiVersion < 112) throw new AnvilError('The API version does not allow runbook traits', 404, 'NotFound');
    return findRunbookOr404(ctx.db.knex, req.params.ident);
  };
  app.get('/runbooks/:ident/traits', async (req: TraitReq) => {
    const r = await runbookOf(req);
    return { traits: (await traitsOfRunbooks(ctx.db.knex, [r.id])).get(r.id) };
  });
  app.put('/runbooks/:ident/traits', { schema: { body: TRAITS_BODY } }, async (req: TraitReq, reply) => {
    const r = await runbookOf(req);
    const traits = req.body?.traits;
    if (!traits) throw new InvalidInput('A single runbook trait may be added with PUT /v1/runbooks/{ident}/traits/{trait} and no body, or all runbook traits replaced with PUT /v1/runbooks/{ident}/traits and the list in the body\'s "traits".');
    for (const t of traits) checkTrait(t);
    await setRunbookTraits(ctx.db.knex, r.id, traits);
    return noContent(reply);
  });
  app.put('/runbooks/:ident/traits/:trait', async (req: TraitReq, reply) => {
    const r = await runbookOf(req);
    if (req.body !== undefined && req.body !== null) throw new InvalidInput('No body should be provided when adding a trait');
    checkTrait(req.params.trait!);
    await addRunbookTrait(ctx.db.knex, r.id, req.params.trait!);
    reply.header('Location', `${baseUrl(req, ctx.config)}/v1/runbooks/${req.params.ident}/traits/${req.params.trait}`);
    return noContent(reply);
  });
  for (const path of ['/runbooks/:ident/traits', '/runbooks/:ident/traits/:trait']) {
    app.delete(path, async (req: TraitReq, reply) => {
      const r = await runbookOf(req);
      await removeRunbookTraits(ctx.db.knex, r.id, req.params.trait);
      return noContent(reply);
    });
  }
}

const TRAITS_BODY = { type: 'object', additionalProperties: false, properties: { traits: { type: 'array', items: { type: 'string' } } } };

export const runbookRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  runbookTraitRoutes(app, ctx);
  app.get('/runbooks', (req) => listReply(req, ctx, false));
  app.get('/runbooks/detail', (req) => listReply(req, ctx, true));
  app.get<{ Params: { ident: string } }>('/runbooks/:ident', async (req) => {
    versionGate(req);
    const r = await findRunbookOr404(ctx.db.knex, req.params.ident);
    return renderOne(req, ctx, r, parseFields(req, req.query as Query, FIELD_VERSIONS));
  });
  app.post('/runbooks', { schema: { body: CREATE_SCHEMA } }, async (req, reply) => {
    versionGate(req);
    const body = req.body as Record<string, unknown>;
    checkWritable(req, Object.keys(body));
    const fields = checkRunbook(body, req.apiVersion);
    const uuid = typeof body.uuid === 'string' ? checkUuid(body.uuid, 'uuid') : undefined;
    const r = await createRunbook(ctx.db.knex, { ...fields, uuid }).catch((err) => duplicateName(err, fields.name));
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/runbooks/${r.uuid}`);
    return renderOne(req, ctx, r);
  });
  app.patch<{ Params: { ident: string } }>('/runbooks/:ident', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    versionGate(req);
    const r = await findRunbookOr404(ctx.db.knex, req.params.ident);
    const ops = req.body as PatchOp[];
    // A patch of `public` first drops the owner; the same patch may set a new one (Ironic's RunbooksController.patch).
    const owner = ops.some((op) => op.path === '/public') ? null : r.owner;
    const known = new Set(fieldsAt(req.apiVersion));
    const current: Record<string, unknown> = { uuid: r.uuid, name: r.name, steps: r.steps, disable_ramdisk: r.disable_ramdisk, public: r.public, owner, extra: r.extra };
    if (known.has('description')) current.description = r.description;
    const { doc, touched } = applyPatch(current, ops, { allowed: PATCHABLE, known, limits: jsonLimits(ctx.config) });
    checkWritable(req, touched);
    const fields = checkRunbook({ name: doc.name, steps: doc.steps, disable_ramdisk: doc.disable_ramdisk, public: doc.public, owner: doc.owner, extra: doc.extra, description: doc.description ?? r.description }, req.apiVersion);
    const updated = await updateRunbook(ctx.db.knex, r.id, fields).catch((err) => duplicateName(err, fields.name));
    return renderOne(req, ctx, updated);
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
 * must carry one of the runbook's traits (1.112), or below 1.112 the runbook's name as a trait.
 */
export async function runbookRequest(ctx: ApiContext, node: { id: number; uuid: string }, target: string, ident: string, given: ProvisionBody, version: number): Promise<Partial<ProvisionBody>> {
  if (target !== 'clean' && target !== 'service') throw new InvalidInput('"runbooks" is only valid when setting target provision state to any of [clean, service]');
  const runbook = await findRunbookOr404(ctx.db.knex, ident);
  const nodeTraits = await traitsOfNode(ctx.db.knex, node.id);
  if (version >= 112) {
    const traits = (await traitsOfRunbooks(ctx.db.knex, [runbook.id])).get(runbook.id) ?? [];
    if (traits.length === 0) throw new InvalidInput(`Runbook ${runbook.uuid} has no traits configured. Please ask an administrator to add traits to the runbook.`);
    if (!traits.some((t) => nodeTraits.includes(t))) {
      throw new InvalidInput(`This runbook has not been approved for use on this node ${node.uuid}. The node does not have any of the runbook's traits ${traits.join(', ')}. Please ask an administrator to add a matching trait to your node.`);
    }
  } else if (!nodeTraits.includes(runbook.name)) {
    throw new InvalidInput(`This runbook has not been approved for use on this node ${node.uuid}. Please ask an administrator to add it to your node traits.`);
  }
  const key = target === 'clean' ? 'clean_steps' : 'service_steps';
  if (given[key]) throw new InvalidInput(`Please provide either "${key}" or a runbook, but not both.`);
  const steps = [...runbook.steps].sort((a, b) => a.order - b.order);
  return { [key]: steps, ...(runbook.disable_ramdisk ? { disable_ramdisk: true } : {}) };
}
