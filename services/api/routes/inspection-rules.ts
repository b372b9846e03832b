// /v1/inspection_rules (1.96): rules the conductor runs on every inspection's data
// (common/inspection-rules). Ironic's wire format: a sensitive rule's conditions and actions are
// shown as null; below 1.96 GET answers 404 and the other verbs 405.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AnvilError, Conflict, InvalidInput } from '../../../common/errors.ts';
import { checkSteps, MULTIPLE, PHASES, type InspectionRule, type RuleStep } from '../../../common/inspection-rules/engine.ts';
import { isoTime } from '../../../db/index.ts';
import {
  createInspectionRule, deleteAllInspectionRules, deleteInspectionRule, findInspectionRule, listInspectionRules, updateInspectionRule,
  type InspectionRuleFields, type InspectionRuleRecord,
} from '../../../db/inspection-rules.ts';
import { jsonLimits } from '../body.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, noContent, parseFields, parsePage, pick, queryValue, selfLinks, wantsDetail, type Query } from '../http.ts';
import { applyPatch, PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { checkUuid, isUniqueViolation, nullable, validateSchema } from '../validation.ts';

export const INSPECTION_RULES_VERSION = 96;
const FIELDS = ['uuid', 'description', 'priority', 'phase', 'sensitive', 'conditions', 'actions', 'created_at', 'updated_at', 'links'];
const FIELD_VERSIONS: Record<string, number> = Object.fromEntries(FIELDS.map((f) => [f, INSPECTION_RULES_VERSION]));
const DEFAULT_FIELDS = ['uuid', 'priority', 'phase', 'description', 'links'];
const SORT_KEYS = new Set(['id', 'uuid', 'description', 'priority', 'phase', 'sensitive', 'created_at', 'updated_at']);
const PATCHABLE = new Set(['description', 'priority', 'phase', 'sensitive', 'conditions', 'actions']);

const ARGS = { type: ['array', 'object'] };
const STEP = (extra: Record<string, unknown>) => ({
  type: 'object', required: ['op', 'args'],
  properties: { op: { type: 'string', minLength: 1 }, args: ARGS, loop: { type: ['array', 'object'] }, ...extra },
});
/** Ironic's inspection rule schema (ironic/common/inspection_rules/validation.py). */
const RULE_SCHEMA = {
  type: 'object',
  required: ['actions'],
  additionalProperties: false,
  properties: {
    uuid: nullable('string'),
    priority: { type: 'integer', minimum: 0, maximum: 9999 },
    description: nullable('string', { maxLength: 255 }),
    sensitive: { type: ['boolean', 'null'] },
    phase: nullable('string', { maxLength: 16 }),
    conditions: { type: ['array', 'null'], items: STEP({ multiple: { enum: [...MULTIPLE] } }) },
    actions: { type: 'array', minItems: 1, items: STEP({}) },
  },
};

function versionGate(req: FastifyRequest): void {
  if (req.apiVersion >= INSPECTION_RULES_VERSION) return;
  if (req.method === 'GET') throw new AnvilError('The API version does not allow inspection rules', 404, 'NotFound');
  throw new AnvilError('The API version does not allow inspection rules', 405, 'MethodNotAllowed');
}

/** Conditions as Ironic shows them: loop and multiple only when the condition loops; actions always with a loop. */
function showConditions(steps: readonly RuleStep[]): unknown[] {
  return steps.map((c) => (c.loop && (Array.isArray(c.loop) ? c.loop.length : Object.keys(c.loop).length) ? { op: c.op, args: c.args, loop: c.loop, multiple: c.multiple ?? 'any' } : { op: c.op, args: c.args }));
}

function render(r: InspectionRuleRecord, fields: ReadonlySet<string>, base: string): Record<string, unknown> {
  const full: Record<string, unknown> = {
    uuid: r.uuid, description: r.description, priority: r.priority, phase: r.phase, sensitive: r.sensitive,
    conditions: r.sensitive ? null : showConditions(r.conditions),
    actions: r.sensitive ? null : r.actions.map((a) => ({ op: a.op, args: a.args, loop: a.loop ?? [] })),
    created_at: isoTime(r.created_at), updated_at: isoTime(r.updated_at), links: selfLinks(base, 'inspection_rules', r.uuid),
  };
  return pick(full, fields);
}

async function findOr404(ctx: ApiContext, ident: string): Promise<InspectionRuleRecord> {
  const uuid = checkUuid(ident, 'inspection_rule_uuid');
  const found = await findInspectionRule(ctx.db.knex, uuid);
  if (!found) throw notFound('Inspection rule', uuid);
  return found;
}

/** Checks a rule document (a create, or a rule after a patch): the schema, the phase, then each operator's arguments. */
export function checkRule(doc: Record<string, unknown>): InspectionRuleFields {
  validateSchema(RULE_SCHEMA, doc, 'inspection rule');
  const phase = (doc.phase as string | null | undefined) ?? 'main';
  if (!(PHASES as readonly string[]).includes(phase)) throw new InvalidInput(`Invalid phase: ${phase}. Valid phases are: ${PHASES.join(', ')}`);
  const conditions = ((doc.conditions as RuleStep[] | null | undefined) ?? []).map((c) => ({ ...c }));
  const actions = (doc.actions as RuleStep[]).map((a) => ({ ...a }));
  checkSteps(conditions, actions);
  return {
    description: (doc.description as string | null | undefined) ?? null,
    priority: (doc.priority as number | undefined) ?? 0,
    phase: phase as InspectionRule['phase'],
    sensitive: doc.sensitive === true,
    conditions,
    actions,
  };
}

function duplicate(err: unknown, uuid: string | undefined): never {
  if (isUniqueViolation(err, 'uuid')) throw new Conflict(`An inspection rule with UUID ${uuid} already exists.`, 'InspectionRuleAlreadyExists');
  throw err;
}

export const inspectionRuleRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const all = new Set(FIELDS);
  app.get('/inspection_rules', async (req) => {
    versionGate(req);
    const q = req.query as Query;
    const detail = wantsDetail(req, q, false);
    const fields = new Set(parseFields(req, q, FIELD_VERSIONS) ?? (detail ? FIELDS : DEFAULT_FIELDS));
    const page = parsePage(q, ctx.config.api.maxLimit, SORT_KEYS);
    const marker = page.marker ? await findOr404(ctx, page.marker) : undefined;
    const phase = queryValue(q, 'phase');
    const items = await listInspectionRules(ctx.db.knex, { ...page, marker: marker as unknown as Record<string, unknown> }, phase);
    const base = baseUrl(req, ctx.config);
    return collection('inspection_rules', items.map((r) => render(r, fields, base)), { base, path: 'inspection_rules', query: q, page, markerOf: (r) => r.uuid as string });
  });
  app.get<{ Params: { uuid: string } }>('/inspection_rules/:uuid', async (req) => {
    versionGate(req);
    const r = await findOr404(ctx, req.params.uuid);
    return render(r, new Set(parseFields(req, req.query as Query, FIELD_VERSIONS) ?? FIELDS), baseUrl(req, ctx.config));
  });
  app.post('/inspection_rules', async (req, reply) => {
    versionGate(req);
    const body = (req.body ?? null) as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidInput('The body of an inspection rule must be a JSON object');
    const fields = checkRule(body);
    const uuid = typeof body.uuid === 'string' ? checkUuid(body.uuid, 'uuid') : undefined;
    const r = await createInspectionRule(ctx.db.knex, { ...fields, uuid }).catch((err) => duplicate(err, uuid));
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/inspection_rules/${r.uuid}`);
    return render(r, all, base);
  });
  app.patch<{ Params: { uuid: string } }>('/inspection_rules/:uuid', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    versionGate(req);
    const r = await findOr404(ctx, req.params.uuid);
    const ops = req.body as PatchOp[];
    // A `test`, `copy` or `move` reading a sensitive rule's conditions or actions would tell what the answers hide.
    const reads = (op: PatchOp) => [op.path, (op as { from?: string }).from].some((p) => typeof p === 'string' && /^\/(conditions|actions)(\/|$)/.test(p));
    if (r.sensitive && ops.some((op) => op.op !== 'add' && op.op !== 'replace' && op.op !== 'remove' && reads(op))) {
      throw new InvalidInput('The conditions and actions of a sensitive inspection rule can only be written (add, replace, remove), never read.', 'PatchError');
    }
    const current = { uuid: r.uuid, description: r.description, priority: r.priority, phase: r.phase, sensitive: r.sensitive, conditions: r.conditions, actions: r.actions };
    const { doc } = applyPatch(current, ops, { allowed: PATCHABLE, known: all, limits: jsonLimits(ctx.config) });
    // Once sensitive, always: its conditions and actions were never shown, and must not become readable.
    if (r.sensitive && doc.sensitive !== true) throw new InvalidInput('Inspection rules cannot have the sensitive flag unset.', 'PatchError');
    const { uuid: _uuid, ...rest } = doc;
    const updated = await updateInspectionRule(ctx.db.knex, r.id, checkRule(rest));
    return render(updated, all, baseUrl(req, ctx.config));
  });
  app.delete<{ Params: { uuid: string } }>('/inspection_rules/:uuid', async (req, reply) => {
    versionGate(req);
    const r = await findOr404(ctx, req.params.uuid);
    await deleteInspectionRule(ctx.db.knex, r.id);
    return noContent(reply);
  });
  app.delete('/inspection_rules', async (req, reply) => {
    versionGate(req);
    await deleteAllInspectionRules(ctx.db.knex);
    return noContent(reply);
  });
};
