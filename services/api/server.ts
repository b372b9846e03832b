// The Ironic-compatible API server: version negotiation, JSON parsing, Ironic's error body and
// the route plugins, each registered under /v1 and, as Ironic's bookmark links expect, without it.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { AnvilConfig } from '../../common/config.ts';
import { InvalidInput, NotFound } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/index.ts';
import { registerAuth } from './auth/index.ts';
import { tlsOptions } from './auth/tls.ts';
import type { ApiContext } from './context.ts';
import { sendError } from './errors.ts';
import { validatorCompiler } from './validation.ts';
import { negotiateVersion } from './version.ts';
import { rootRoutes } from './routes/root.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { nodeStateRoutes } from './routes/node-states.ts';
import { nodeManagementRoutes } from './routes/node-management.ts';
import { nodeTraitRoutes } from './routes/node-traits.ts';
import { nodeHistoryRoutes } from './routes/node-history.ts';
import { portRoutes } from './routes/ports.ts';
import { portgroupRoutes } from './routes/portgroups.ts';
import { chassisRoutes } from './routes/chassis.ts';
import { driverRoutes } from './routes/drivers.ts';
import { conductorRoutes } from './routes/conductors.ts';
import { allocationRoutes } from './routes/allocations.ts';
import { ramdiskRoutes } from './routes/ramdisk.ts';
import { netbootRoutes } from '../netboot/api.ts';

export type ApiPlugin = FastifyPluginAsync<ApiContext>;

/** The /v1 resources. Add a plugin here to serve more of the API. */
export const ROUTE_PLUGINS: ApiPlugin[] = [
  nodeRoutes,
  nodeStateRoutes,
  nodeManagementRoutes,
  nodeTraitRoutes,
  nodeHistoryRoutes,
  portRoutes,
  portgroupRoutes,
  chassisRoutes,
  driverRoutes,
  conductorRoutes,
  allocationRoutes,
  ramdiskRoutes,
  netbootRoutes,
];

export interface ApiServerOptions {
  db: Database;
  config: AnvilConfig;
  logger: Logger;
  taskTimeoutMs?: number;
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new InvalidInput(`The request body is not valid JSON: ${(err as Error).message}`);
  }
}

export async function createApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    bodyLimit: 64 * 1024 * 1024,
    genReqId: () => `req-${randomUUID()}`,
    ...tlsOptions(opts.config),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.decorateRequest('apiVersion', 1);

  // Bodies are JSON whatever the label (clients such as curl omit it); an empty body is no body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Openstack-Request-Id', req.id);
    negotiateVersion(req, reply);
  });
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendError(new NotFound('The resource could not be found.'), req, reply));

  const ctx: ApiContext = { db: opts.db, config: opts.config, logger: opts.logger, taskTimeoutMs: opts.taskTimeoutMs ?? (opts.config.conductor.taskTimeout + 5) * 1000 };
  registerAuth(app, ctx);
  await app.register(rootRoutes, ctx);
  for (const prefix of ['/v1', '']) {
    for (const plugin of ROUTE_PLUGINS) await app.register(plugin, { ...ctx, prefix });
  }
  return app;
}
