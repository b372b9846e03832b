// The Ironic-compatible API server: version negotiation, JSON parsing, Ironic's error body and
// the route plugins, each registered under /v1 and, as Ironic's bookmark links expect, without it.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { AnvilConfig } from '../../common/config.ts';
import { NotFound } from '../../common/errors.ts';
import { maskUrlPasswords } from '../../common/secrets.ts';
import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/index.ts';
import { checkInterfaceConfig } from '../../drivers/registry.ts';
import { registerAuth } from './auth/index.ts';
import { tlsOptions } from './auth/tls.ts';
import type { ApiContext } from './context.ts';
import { jsonLimits, parseJsonBody, refuseNulInUrl } from './body.ts';
import { clientErrorHandler, sendError } from './errors.ts';
import { validatorCompiler } from './validation.ts';
import { MAX_VERSION, negotiateVersion, stripJsonSuffix } from './version.ts';
import { registerOpenApi } from './openapi.ts';
import { registerMetrics } from './metrics.ts';
import { acquireNotifications } from '../notifications/index.ts';
import { rootRoutes } from './routes/root.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { nodeStateRoutes } from './routes/node-states.ts';
import { nodeConsoleRoutes } from './routes/node-console.ts';
import { nodeManagementRoutes } from './routes/node-management.ts';
import { nodeTraitRoutes } from './routes/node-traits.ts';
import { nodeHistoryRoutes } from './routes/node-history.ts';
import { nodeChildrenRoutes } from './routes/node-children.ts';
import { nodeVmediaRoutes } from './routes/node-vmedia.ts';
import { nodeVendorRoutes } from './routes/node-vendor.ts';
import { nodeVifRoutes } from './routes/node-vifs.ts';
import { networkRoutes } from './routes/networks.ts';
import { shardRoutes } from './routes/shards.ts';
import { runbookRoutes } from './routes/runbooks.ts';
import { deployTemplateRoutes } from './routes/deploy-templates.ts';
import { volumeRoutes } from './routes/volume.ts';
import { eventRoutes } from './routes/events.ts';
import { nodeIndicatorRoutes } from './routes/node-indicators.ts';
import { inspectionRuleRoutes } from './routes/inspection-rules.ts';
import { portRoutes } from './routes/ports.ts';
import { portgroupRoutes } from './routes/portgroups.ts';
import { chassisRoutes } from './routes/chassis.ts';
import { driverRoutes } from './routes/drivers.ts';
import { conductorRoutes } from './routes/conductors.ts';
import { allocationRoutes } from './routes/allocations.ts';
import { ramdiskRoutes } from './routes/ramdisk.ts';
import { netbootRoutes } from '../netboot/api.ts';
import { consoleRoutes } from './console/plugin.ts';
import websocket from '@fastify/websocket';

export type ApiPlugin = FastifyPluginAsync<ApiContext>;

/** The /v1 resources. Add a plugin here to serve more of the API. */
export const ROUTE_PLUGINS: ApiPlugin[] = [
  nodeRoutes,
  nodeStateRoutes,
  nodeConsoleRoutes,
  nodeManagementRoutes,
  nodeTraitRoutes,
  nodeHistoryRoutes,
  nodeChildrenRoutes,
  nodeVmediaRoutes,
  nodeVendorRoutes,
  nodeVifRoutes,
  networkRoutes,
  portRoutes,
  portgroupRoutes,
  chassisRoutes,
  driverRoutes,
  conductorRoutes,
  allocationRoutes,
  shardRoutes,
  runbookRoutes,
  deployTemplateRoutes,
  volumeRoutes,
  eventRoutes,
  nodeIndicatorRoutes,
  inspectionRuleRoutes,
  ramdiskRoutes,
  netbootRoutes,
];

export interface ApiServerOptions {
  db: Database;
  config: AnvilConfig;
  logger: Logger;
  taskTimeoutMs?: number;
  /**
   * The newest microversion to serve (default MAX_VERSION, what is claimed). Tests of versions built
   * ahead of their claim (1.97+ while 1.96 is still being built) serve up to those.
   */
  maxVersion?: number;
}

export async function createApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  checkInterfaceConfig(opts.config.interfaces);
  // A slow body is cut as slow headers are. Node swaps the two timeouts when headers may take
  // longer than the whole request, and checks them at most every 30 s: keep both in step.
  const requestTimeoutMs = opts.config.api.requestTimeout * 1000;
  const timeouts = { headersTimeout: Math.min(60_000, requestTimeoutMs), connectionsCheckingInterval: Math.min(30_000, requestTimeoutMs / 4) };
  const tls = tlsOptions(opts.config);
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    bodyLimit: opts.config.api.maxBodyBytes,
    requestTimeout: requestTimeoutMs,
    clientErrorHandler,
    // The router's own refusals (a bad URL encoding, an over-long path parameter) in Ironic's body too.
    frameworkErrors: (err, req, reply) => sendError(err, req, reply),
    genReqId: () => `req-${randomUUID()}`,
    ...(tls.https ? { https: { ...tls.https, ...timeouts } } : { http: timeouts }),
    rewriteUrl: (req) => stripJsonSuffix(req.url ?? '/', req.headers['x-openstack-ironic-api-version']),
  });
  const maxVersion = opts.maxVersion ?? MAX_VERSION;
  app.setValidatorCompiler(validatorCompiler);
  app.decorateRequest('apiVersion', 1);

  // Bodies are JSON whatever the label (clients such as curl omit it); an empty body is no body.
  const limits = jsonLimits(opts.config);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string, limits));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    // Ironic's request-id middleware answers both names: x-openstack-request-id (OpenStack's) and its older one.
    reply.header('x-openstack-request-id', req.id);
    reply.header('Openstack-Request-Id', req.id);
    refuseNulInUrl(req);
    negotiateVersion(req, reply, maxVersion);
  });
  // A password written into a URL never leaves in an answer, whatever field or message holds it.
  app.addHook('onSend', async (_req, _reply, payload) => {
    // What is answered is committed first (db/index.ts: the answers of a turn share SQLite's commit).
    await opts.db.committed();
    return typeof payload === 'string' ? maskUrlPasswords(payload) : payload;
  });
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendError(new NotFound('The resource could not be found.'), req, reply));

  const ctx: ApiContext = { db: opts.db, config: opts.config, logger: opts.logger, taskTimeoutMs: opts.taskTimeoutMs ?? (opts.config.conductor.taskTimeout + 5) * 1000, maxVersion };
  const auth = registerAuth(app, ctx);
  await registerOpenApi(app);
  if (opts.config.metrics.enabled) registerMetrics(app, opts.db);
  const releaseNotifications = acquireNotifications(opts.config, opts.logger);
  app.addHook('onClose', releaseNotifications);
  // WebSocket routes (the serial console's relay, routes/node-console.ts); once for the whole server.
  await app.register(websocket);
  await app.register(rootRoutes, ctx);
  for (const prefix of ['/v1', '']) {
    for (const plugin of ROUTE_PLUGINS) await app.register(plugin, { ...ctx, prefix });
  }
  if (opts.config.console.enabled) await app.register(consoleRoutes, { ...ctx, policy: auth.policy });
  return app;
}
