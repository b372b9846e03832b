// /v1/nodes/{ident}/vendor_passthru: the node's vendor interface methods (Redfish event
// subscriptions for Metal3's BMCEventSubscription). `?method=NAME` with the HTTP method it takes and
// the JSON body as its arguments, run by the node's conductor; `/methods` lists them (Ironic's shape).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInput } from '../../../common/errors.ts';
import type { VendorMethod } from '../../../drivers/interfaces.ts';
import { resolveDriver } from '../../../drivers/registry.ts';
import type { ApiContext } from '../context.ts';
import { noContent, queryValue, type Query } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { runNodeTask } from '../tasks.ts';

type Req = FastifyRequest<{ Params: { ident: string }; Querystring: Query; Body: unknown }>;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

function methodsOf(driver: ReturnType<typeof resolveDriver>): Readonly<Record<string, VendorMethod>> {
  return driver.vendor.methods ?? {};
}

async function passthru(req: Req, reply: FastifyReply, ctx: ApiContext) {
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  const name = queryValue(req.query, 'method');
  if (!name) throw new InvalidInput('Method not specified');
  const driver = resolveDriver(node);
  const method = methodsOf(driver)[name];
  if (!method) throw new InvalidInput(`Unsupported method (${name}) passed through to vendor extension ${driver.vendor.name}`);
  if (!method.httpMethods.includes(req.method)) throw new InvalidInput(`The method ${name} does not support HTTP ${req.method}; it takes ${method.httpMethods.join(', ')}`);
  if (req.body !== undefined && req.body !== null && (typeof req.body !== 'object' || Array.isArray(req.body))) throw new InvalidInput(`The arguments of ${name} must be a JSON object`);
  // A GET carries its arguments in the query string (clients send no body with it); others in the JSON body.
  const query = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => k !== 'method' && typeof v === 'string'));
  const body = { ...query, ...((req.body ?? {}) as Record<string, unknown>) };
  for (const [arg, info] of Object.entries(method.argsinfo ?? {})) {
    if (info.required && !(arg in body)) throw new InvalidInput(`The vendor method ${name} needs argument "${arg}": ${info.description}`);
  }
  const result = await runNodeTask(ctx, node, 'vendor_passthru', { method: name, args: body });
  if (result === null || result === undefined) return noContent(reply);
  return result;
}

export const nodeVendorRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  for (const m of HTTP_METHODS) {
    app.route<{ Params: { ident: string }; Querystring: Query; Body: unknown }>({ method: m, url: '/nodes/:ident/vendor_passthru', handler: (req, reply) => passthru(req, reply, ctx) });
  }
  app.get<{ Params: { ident: string } }>('/nodes/:ident/vendor_passthru/methods', async (req) => {
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return Object.fromEntries(Object.entries(methodsOf(resolveDriver(node))).map(([name, m]) => [name, {
      http_methods: m.httpMethods, async: false, description: m.description, attach: false, require_exclusive_lock: true,
    }]));
  });
};
