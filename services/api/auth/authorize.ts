// The one place the policy is enforced, before any route code runs: the route's entry in
// policy/routes.ts names its rules and target; a node (port, allocation...) the caller may not
// see answers 404; a collection the caller may only partly see is narrowed to its project
// (req.auth.project, which the list queries in db/ apply).
import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { AnvilError } from '../../../common/errors.ts';
import { notFound } from '../errors.ts';
import { policyCredentials, type Identity } from './identity.ts';
import { NEEDS_TARGET, type Target } from './policy/checks.ts';
import type { Policy } from './policy/enforcer.ts';
import { listRules, type RoutePolicy } from './policy/routes.ts';
import { loadTarget, nodeTarget, VISIBILITY } from './policy/targets.ts';

/** 403 naming the rule, as Ironic's HTTPForbidden does. */
export class PolicyForbidden extends AnvilError {
  constructor(rule: string) {
    super(`Access was denied to the following resource: ${rule}`, 403, 'HTTPForbidden');
  }
}

/** What the auth layer hands the routes: who is asking, and the project a collection is narrowed to. */
export interface RequestAuth {
  identity: Identity;
  /** Set when the caller may list only its project's share (owner or lessee of the node). */
  project?: string;
}

/** Field versions below which a project-scoped create cannot record its owner. */
const OWNER_FIELD_VERSION = { node: 50, allocation: 60 } as const;

export async function authorize(req: FastifyRequest, knex: Knex, policy: Policy, route: RoutePolicy | undefined): Promise<void> {
  if (!route) throw new PolicyForbidden(`${req.method} ${req.routeOptions.url ?? req.url} (no rule guards this route)`);
  if (route.public) return;
  const id = req.auth.identity;
  const creds = policyCredentials(id);
  let target: Target | null = null;
  let found = true;
  let ident = '';
  const load = async () => {
    const loaded = route.target ? await loadTarget(knex, route.target, req) : undefined;
    found = loaded?.target !== undefined;
    ident = loaded?.ident ?? '';
    target = loaded?.target ?? {};
  };
  const allowed = async (rule: string): Promise<boolean> => {
    try {
      return policy.allowed(rule, id, target, creds);
    } catch (err) {
      if (err !== NEEDS_TARGET) throw err;
      await load();
      return policy.allowed(rule, id, target, creds);
    }
  };

  const visibility = route.target ? VISIBILITY[route.target] : undefined;
  if (visibility && !(await allowed(visibility.rule))) {
    // Project-scoped callers are not told the object exists (Ironic conceals it the same way).
    if (id.projectId || !found) throw notFound(visibility.kind, ident);
    throw new PolicyForbidden(visibility.rule);
  }
  for (const rule of typeof route.rules === 'function' ? route.rules(req) : route.rules) {
    if (!(await allowed(rule))) throw new PolicyForbidden(rule);
  }
  if (route.movesToNode) await checkNewNode(req, knex, policy, route, id);
  if (route.list) {
    const { list, listAll } = listRules(route.list);
    if (!(await allowed(listAll))) {
      if (!id.projectId || !(await allowed(list))) throw new PolicyForbidden(list);
      req.auth.project = id.projectId;
    }
  }
  switch (route.special) {
    case 'nodeCreate':
      if (!(await allowed('baremetal:node:create'))) await ownCreation(req, allowed, 'node', 'baremetal:node:create', 'baremetal:node:create:self_owned_node');
      break;
    case 'nodeDelete':
      if (!(await allowed('baremetal:node:delete')) && !(await allowed('baremetal:node:delete:self_owned_node'))) throw new PolicyForbidden('baremetal:node:delete');
      break;
    case 'allocationCreate':
      if (!(await allowed('baremetal:allocation:create'))) throw new PolicyForbidden('baremetal:allocation:create');
      if (!(await allowed('baremetal:allocation:create_restricted'))) await ownCreation(req, allowed, 'allocation', 'baremetal:allocation:create_restricted');
      break;
    case 'runbookGet':
      if (!(await allowed('baremetal:runbook:get'))) {
        if (target === null) await load();
        if ((target as Target | null)?.['runbook.public'] !== 'true') throw new PolicyForbidden('baremetal:runbook:get');
      }
      break;
    case 'networkCreate':
      if (!(await allowed('anvil:network:create'))) {
        if (!id.projectId || !(await allowed('anvil:network:create:self_owned'))) throw new PolicyForbidden('anvil:network:create');
        projectNetwork(req);
      }
      break;
    case 'runbookCreate':
      if (!(await allowed('baremetal:runbook:create'))) throw new PolicyForbidden('baremetal:runbook:create');
      if (!id.system) projectRunbook(req);
      break;
  }
}

/** A runbook created by a project-scoped caller is its project's, and not public (Ironic's RunbooksController.post). */
function projectRunbook(req: FastifyRequest): void {
  const project = req.auth.identity.projectId;
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (body.owner != null && body.owner !== project) throw new AnvilError('Cannot create a runbook as a project scoped admin with an owner other than your own project.', 400, 'Invalid');
  if (project && body.public === true) throw new AnvilError('Cannot create a public runbook as a project scoped admin.', 400, 'Invalid');
  req.body = { ...body, owner: project };
}

/** A network created by a project-scoped caller is one of its own tenant networks. */
function projectNetwork(req: FastifyRequest): void {
  const project = req.auth.identity.projectId;
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (body.owner != null && body.owner !== project) throw new PolicyForbidden('anvil:network:create');
  if (body.kind !== undefined && body.kind !== 'tenant') throw new AnvilError('A project creates only tenant networks; provisioning, cleaning and the like are the operator\'s.', 400, 'Invalid');
  req.body = { ...body, owner: project };
}

/** A patch of /node_uuid: the caller must pass the route's rules on the node it moves to as well. */
async function checkNewNode(req: FastifyRequest, knex: Knex, policy: Policy, route: RoutePolicy, id: Identity): Promise<void> {
  const ops = Array.isArray(req.body) ? (req.body as { path?: unknown; value?: unknown }[]) : [];
  for (const op of ops) {
    if (op?.path !== '/node_uuid' || typeof op.value !== 'string') continue;
    // A node that does not exist is the handler's 400; one the caller may not touch is a 403.
    const target = await nodeTarget(knex, op.value);
    if (!target) continue;
    for (const rule of typeof route.rules === 'function' ? route.rules(req) : route.rules) {
      if (!policy.allowed(rule, id, target)) throw new PolicyForbidden(rule);
    }
  }
}

/**
 * A project-scoped caller creating a node or an allocation: it is recorded as the caller's
 * project's, and may not name another owner.
 */
async function ownCreation(req: FastifyRequest, allowed: (rule: string) => Promise<boolean>, kind: 'node' | 'allocation', denied: string, selfRule?: string): Promise<void> {
  const project = req.auth.identity.projectId;
  if (!project || (selfRule && !(await allowed(selfRule)))) throw new PolicyForbidden(denied);
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (body.owner != null && body.owner !== project) throw new PolicyForbidden(selfRule ? denied : 'baremetal:allocation:create_restricted');
  if (req.apiVersion < OWNER_FIELD_VERSION[kind]) {
    throw new AnvilError(`A project-scoped ${kind} is created with its owner, which needs API version 1.${OWNER_FIELD_VERSION[kind]} or later`, 406, 'NotAcceptable');
  }
  req.body = { ...body, owner: project };
}
