// The auth layer of the API, registered before any route: the strategy authenticates each
// request (onRequest), the policy authorizes it (preValidation). Public routes (root documents,
// the ramdisk's endpoints) skip both; an unknown path still needs credentials.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { ANONYMOUS } from './identity.ts';
import { authorize, type RequestAuth } from './authorize.ts';
import { Policy } from './policy/enforcer.ts';
import { redactNodes } from './redact.ts';
import { ROUTE_POLICIES, routeKey, type RoutePolicy } from './policy/routes.ts';
import { AuditLog, auditEvent } from './audit.ts';
import { AuthBackoff } from './backoff.ts';
import { createAuthenticator, TooManyFailures, Unauthorized, type Authenticator } from './strategy.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth;
  }
  interface FastifyContextConfig {
    policy?: RoutePolicy;
  }
}

export interface AuthLayer {
  authenticator: Authenticator;
  policy: Policy;
}

/** Adds authentication and authorization to the app; call before registering routes. */
export function registerAuth(app: FastifyInstance, ctx: ApiContext): AuthLayer {
  const authenticator = createAuthenticator(ctx.config, ctx.logger);
  const policy = Policy.fromConfig(ctx.config.auth, ctx.logger);
  const backoff = new AuthBackoff(ctx.config.auth.backoff);
  const audit = new AuditLog(ctx.config.auth.audit, ctx.logger);
  app.decorateRequest('auth', null as unknown as RequestAuth);

  app.addHook('onRoute', (route) => {
    const method = [route.method].flat()[0];
    const entry = ROUTE_POLICIES[routeKey(method, route.url)];
    if (!entry) ctx.logger.warn(`route ${method} ${route.url} has no policy rule (services/api/auth/policy/routes.ts): every request to it is refused`);
    route.config = { ...(route.config as object), policy: entry };
  });

  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.config?.policy;
    if (route?.public) {
      req.auth = { identity: ANONYMOUS };
      return;
    }
    const wait = backoff.waitSeconds(req.ip);
    if (wait > 0) {
      reply.header('Retry-After', String(wait));
      throw new TooManyFailures(wait);
    }
    try {
      req.auth = { identity: await authenticator.authenticate(req) };
      if (req.auth.identity.strategy !== 'noauth') backoff.succeeded(req.ip);
    } catch (err) {
      if (err instanceof Unauthorized) {
        if (err.presented) backoff.failed(req.ip);
        if (authenticator.challenge) reply.header('WWW-Authenticate', authenticator.challenge);
      }
      throw err;
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    if (AuditLog.audits(req)) audit.write(auditEvent(req, reply));
  });

  app.addHook('preValidation', async (req) => {
    if (req.is404) return;
    await authorize(req, ctx.db.knex, policy, req.routeOptions.config?.policy);
  });

  app.addHook('preSerialization', async (req, _reply, payload) => {
    if (req.routeOptions.config?.policy?.redactNodes && req.auth) await redactNodes(payload, req.auth.identity, policy, ctx.db.knex, (req.params as { ident?: string }).ident);
    return payload;
  });

  app.addHook('onClose', async () => {
    authenticator.close?.();
    await audit.close();
  });
  return { authenticator, policy };
}
