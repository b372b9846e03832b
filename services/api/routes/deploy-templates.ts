// /v1/deploy_templates (1.55): named lists of deploy steps. A deployment whose instance_info.traits
// names a template adds its steps to the deploy plan (services/conductor/deploy-templates.ts).
// Below 1.55 GET answers 404 and the other verbs 405, as Ironic does.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { AnvilError, Conflict, InvalidInput } from '../../../common/errors.ts';
import { maskSecrets } from '../../../common/secrets.ts';
import { isoTime } from '../../../db/index.ts';
import {
  createDeployTemplate, deleteDeployTemplate, findDeployTemplateByName, findDeployTemplateByUuid, listDeployTemplates, updateDeployTemplate,
  type DeployTemplateFields, type DeployTemplateRecord,
} from '../../../db/deploy-templates.ts';
import { jsonLimits } from '../body.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, noContent, parseFields, parsePage, pick, selfLinks, wantsDetail, type Query } from '../http.ts';
import { applyPatch, PATCH_SCHEMA, type PatchOp } from '../jsonPatch.ts';
import { duplicateSteps, stepSchema } from '../step-lists.ts';
import { checkUuid, isUniqueViolation, isUuidLike, nullable, validateSchema } from '../validation.ts';
import { checkTrait } from './node-traits.ts';

const FIELDS = ['uuid', 'name', 'steps', 'extra', 'created_at', 'updated_at', 'links'];
const FIELD_VERSIONS: Record<string, number> = Object.fromEntries(FIELDS.map((f) => [f, 55]));
const DEFAULT_FIELDS = ['uuid', 'name', 'links'];
const SORT_KEYS = new Set(['id', 'uuid', 'name', 'created_at', 'updated_at']);
const PATCHABLE = new Set(['name', 'steps', 'extra']);

/** Interfaces a deploy step may name (Ironic's DEPLOYING_INTERFACE_PRIORITY). */
export const DEPLOY_STEP_INTERFACES = ['power', 'management', 'deploy', 'bios', 'raid'];
const STEP_SCHEMA = stepSchema(DEPLOY_STEP_INTERFACES, 'priority', ['interface', 'step', 'args', 'priority']);
const INPUT = {
  uuid: nullable('string'),
  name: { type: 'string', minLength: 1, maxLength: 255 },
  steps: { type: 'array', minItems: 1, items: STEP_SCHEMA },
  extra: { type: ['object', 'null'] },
};
const CREATE_SCHEMA = { type: 'object', required: ['name', 'steps'], additionalProperties: false, properties: INPUT };
const DOC_SCHEMA = { type: 'object', required: ['name', 'steps'], properties: INPUT };

function versionGate(req: FastifyRequest): void {
  if (req.apiVersion >= 55) return;
  if (req.method === 'GET') throw new AnvilError('The API version does not allow deploy templates', 404, 'NotFound');
  throw new AnvilError('The API version does not allow deploy templates', 405, 'MethodNotAllowed');
}

function render(t: DeployTemplateRecord, fields: ReadonlySet<string>, base: string): Record<string, unknown> {
  const full: Record<string, unknown> = {
    uuid: t.uuid, name: t.name, extra: t.extra,
    steps: t.steps.map((s) => ({ interface: s.interface, step: s.step, args: maskSecrets(s.args), priority: s.priority })),
    created_at: isoTime(t.created_at), updated_at: isoTime(t.updated_at), links: selfLinks(base, 'deploy_templates', t.uuid),
  };
  return pick(full, fields);
}

/** `{template_ident}`: a UUID or a name. */
async function findTemplateOr404(knex: Knex, ident: string): Promise<DeployTemplateRecord> {
  const found = isUuidLike(ident) ? await findDeployTemplateByUuid(knex, ident) : await findDeployTemplateByName(knex, ident);
  if (!found) throw notFound('DeployTemplate', ident);
  return found;
}

/** Checks a template document (a create body, or the result of a patch) and normalises its steps. */
function checkTemplate(doc: Record<string, unknown>): DeployTemplateFields {
  validateSchema(DOC_SCHEMA, doc, 'deploy template');
  const name = doc.name as string;
  try {
    checkTrait(name);
  } catch (err) {
    throw new InvalidInput(`Deploy template name must be a valid trait: ${(err as Error).message}`, 'InvalidDeployTemplate');
  }
  const steps = (doc.steps as Record<string, unknown>[]).map((s) => ({ interface: String(s.interface), step: String(s.step), args: s.args as Record<string, unknown>, priority: Number(s.priority) }));
  const duplicates = duplicateSteps(steps);
  if (duplicates.length) {
    throw new InvalidInput(`Duplicate deploy steps. A deploy template cannot have multiple deploy steps with the same interface and step. Duplicates: ${duplicates.join('; ')}`, 'InvalidDeployTemplate');
  }
  return { name, steps, extra: (doc.extra as Record<string, unknown> | null | undefined) ?? {} };
}

function duplicateName(err: unknown, name: string): never {
  if (isUniqueViolation(err, 'name')) throw new Conflict(`A deploy template with name ${name} already exists.`, 'DeployTemplateDuplicateName');
  if (isUniqueViolation(err, 'uuid')) throw new Conflict('A deploy template with this UUID already exists.', 'DeployTemplateAlreadyExists');
  throw err;
}

async function listReply(req: FastifyRequest, ctx: ApiContext, byPath: boolean) {
  versionGate(req);
  const q = req.query as Query;
  const detail = wantsDetail(req, q, byPath);
  const requested = parseFields(req, q, FIELD_VERSIONS);
  const fields = new Set(requested ?? (detail ? FIELDS : DEFAULT_FIELDS));
  const page = parsePage(q, ctx.config.api.maxLimit, SORT_KEYS);
  const marker = page.marker ? await findTemplateOr404(ctx.db.knex, page.marker) : undefined;
  const items = await listDeployTemplates(ctx.db.knex, { ...page, marker: marker as unknown as Record<string, unknown> });
  const base = baseUrl(req, ctx.config);
  return collection('deploy_templates', items.map((t) => render(t, fields, base)), { base, path: 'deploy_templates', query: q, page, markerOf: (t) => t.uuid as string });
}

export const deployTemplateRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const all = new Set(FIELDS);
  app.get('/deploy_templates', (req) => listReply(req, ctx, false));
  app.get('/deploy_templates/detail', (req) => listReply(req, ctx, true));
  app.get<{ Params: { ident: string } }>('/deploy_templates/:ident', async (req) => {
    versionGate(req);
    const t = await findTemplateOr404(ctx.db.knex, req.params.ident);
    return render(t, new Set(parseFields(req, req.query as Query, FIELD_VERSIONS) ?? FIELDS), baseUrl(req, ctx.config));
  });
  app.post('/deploy_templates', { schema: { body: CREATE_SCHEMA } }, async (req, reply) => {
    versionGate(req);
    const body = req.body as Record<string, unknown>;
    const fields = checkTemplate(body);
    const uuid = typeof body.uuid === 'string' ? checkUuid(body.uuid, 'uuid') : undefined;
    const t = await createDeployTemplate(ctx.db.knex, { ...fields, uuid }).catch((err) => duplicateName(err, fields.name));
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/deploy_templates/${t.uuid}`);
    return render(t, all, base);
  });
  app.patch<{ Params: { ident: string } }>('/deploy_templates/:ident', { schema: { body: PATCH_SCHEMA } }, async (req) => {
    versionGate(req);
    const t = await findTemplateOr404(ctx.db.knex, req.params.ident);
    const current = { uuid: t.uuid, name: t.name, steps: t.steps, extra: t.extra };
    const { doc } = applyPatch(current, req.body as PatchOp[], { allowed: PATCHABLE, known: all, limits: jsonLimits(ctx.config) });
    const fields = checkTemplate({ name: doc.name, steps: doc.steps, extra: doc.extra });
    const updated = await updateDeployTemplate(ctx.db.knex, t.id, fields).catch((err) => duplicateName(err, fields.name));
    return render(updated, all, baseUrl(req, ctx.config));
  });
  app.delete<{ Params: { ident: string } }>('/deploy_templates/:ident', async (req, reply) => {
    versionGate(req);
    const t = await findTemplateOr404(ctx.db.knex, req.params.ident);
    await deleteDeployTemplate(ctx.db.knex, t.id);
    return noContent(reply);
  });
};
