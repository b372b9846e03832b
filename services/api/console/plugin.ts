// The web console (console/, built by vite at install time into console/dist) and the few calls
// it needs beyond Ironic's API: the fleet one page at a time with its total, the live change
// stream (server-sent events), the fleet picture, who is signed in, and Keystone sign-in. Every
// call passes the same auth layer and policy as /v1 (policy/routes.ts): a project-scoped caller
// gets only its nodes, with the same fields redacted. Node pages and actions call /v1 itself.
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AnvilError, InvalidInput, NotAcceptable } from '../../../common/errors.ts';
import { FLEET_SORT_KEYS, fleetPage, stateCounts, transitionsSince, type FleetFilter, type FleetRow, type FleetSortKey } from '../../../db/console.ts';
import { redactNodes } from '../auth/redact.ts';
import type { Policy } from '../auth/policy/enforcer.ts';
import type { ApiContext } from '../context.ts';
import { ChangeFeed, type FleetChange } from './changes.ts';
import { fleetPicture } from './picture.ts';
import { keystoneSignIn } from './sign-in.ts';

export const CONSOLE_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console/dist');

export interface ConsoleOptions extends ApiContext {
  policy: Policy;
}

const INT = { type: 'string', pattern: '^[0-9]{1,9}$' };
const BOOL = { type: 'string', enum: ['true', 'false'] };

/** Query strings are strings: the schema checks their shape, the route reads them. */
const fleetQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    offset: INT,
    limit: INT,
    search: { type: 'string', maxLength: 255 },
    provision_state: { type: 'string', maxLength: 1024 },
    owner: { type: 'string', maxLength: 255 },
    maintenance: BOOL,
    problems: BOOL,
    sort: { type: 'string', enum: [...FLEET_SORT_KEYS] },
    desc: BOOL,
  },
};

type Q = Record<string, string | undefined>;
const bool = (v: string | undefined) => (v === undefined ? undefined : v === 'true');

/** One SSE frame. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function visibleTo(project: string | undefined, n: FleetRow): boolean {
  return project === undefined || n.owner === project || n.lessee === project;
}

export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const feed = new ChangeFeed(opts.db, opts.logger, opts.config.console.changeIntervalMs);
  const streams = new Set<Socket>();
  app.addHook('preClose', async () => {
    // An event stream never ends by itself: cut it, or closing would wait for the client.
for (const s of streams) s.destroy();
    await feed.close();
  });

  if (existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: CONSOLE_DIST,
      prefix: '/console/',
      // Vite names assets by their content hash: they never change under one name.
      setHeaders: (res, file) => res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
      index: false,
    });
    // The router ignores trailing slashes, so the wildcard never sees /console/ itself: this serves it (and /console).
    app.get('/console/', (_req, reply) => reply.sendFile('index.html'));
  } else {
    opts.logger.warn(`the web console is not built (${CONSOLE_DIST}): run npm run build:console`);
    app.get('/console/*', async () => {
      throw new AnvilError('The web console is not built: run `npm run build:console` (scripts/setup.sh does it at install time).', 503, 'ServiceUnavailable');
    });
  }

  app.get('/console/api/config', async () => ({ auth: opts.config.auth.strategy }));

  app.post<{ Body: { username: string; password: string; project?: string; domain?: string; system?: boolean } }>('/console/api/sign-in', {
    schema: {
      body: {
        type: 'object',
        required: ['username', 'password'],
        additionalProperties: false,
        properties: { username: { type: 'string', minLength: 1, maxLength: 255 }, password: { type: 'string', maxLength: 4096 }, project: { type: 'string', maxLength: 255 }, domain: { type: 'string', maxLength: 255 }, system: { type: 'boolean' } },
      },
    },
  }, async (req) => {
    if (opts.config.auth.strategy !== 'keystone') throw new InvalidInput(`Sign-in with a password is for the keystone strategy; this API uses ${opts.config.auth.strategy}.`);
    return keystoneSignIn(opts.config.auth, req.body);
  });

  app.get('/console/api/session', async (req) => {
    const id = req.auth.identity;
    return { strategy: id.strategy, user: id.userName, project: id.projectName, project_id: id.projectId, roles: id.roles, system: id.system };
  });

  app.get<{ Querystring: Q }>('/console/api/fleet', { schema: { querystring: fleetQuerySchema } }, async (req) => {
    const q = req.query;
    const limit = Number(q.limit ?? 200);
    if (limit < 1 || limit > 1000) throw new InvalidInput('limit must be from 1 to 1000');
    const filter: FleetFilter = {
      search: q.search || undefined,
      provision_state: q.provision_state ? q.provision_state.split(',') : undefined,
      owner: q.owner || undefined,
      maintenance: bool(q.maintenance),
      problems: bool(q.problems),
      project: req.auth.project,
    };
    return fleetPage(opts.db.knex, filter, (q.sort ?? 'name') as FleetSortKey, bool(q.desc) ?? false, Number(q.offset ?? 0), limit);
  });

  app.get<{ Querystring: Q }>('/console/api/picture', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { hours: { type: 'string', enum: ['1', '6', '24', '72', '168'] } } } },
  }, async (req) => {
    const now = Date.now();
    const since = now - Number(req.query.hours ?? 6) * 3600_000;
    const [counts, transitions] = await Promise.all([stateCounts(opts.db.knex, req.auth.project), transitionsSince(opts.db.knex, since, req.auth.project)]);
    return fleetPicture(counts, transitions, now, since);
  });

  // Server-sent events: `ready` once subscribed (a client loads its page after it, so it misses
  // nothing), then `nodes` with the changed rows the caller may see, redacted as /v1 redacts them.
  app.get('/console/api/events', async (req, reply) => {
    // Only a client that asks for a stream gets one (EventSource and the console do); anything else gets an answer.
    if (!String(req.headers.accept ?? '').includes('text/event-stream')) throw new NotAcceptable('This is a stream of server-sent events: ask for it with "Accept: text/event-stream".');
    const { identity, project } = req.auth;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...reply.getHeaders(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } as Record<string, string>);
    // The socket, not the response: a client that stops reading may leave it open after the response closes.
    const socket = res.socket!;
    streams.add(socket);
    socket.once('close', () => streams.delete(socket));
    let queue = Promise.resolve();
    const send = async (change: FleetChange) => {
      const nodes = change.nodes.filter((n) => visibleTo(project, n)).map((n) => ({ ...n }));
      // Which nodes a project had is not known once they are gone: only unscoped callers hear of deletions.
      const deleted = project === undefined ? change.deleted : [];
      if (nodes.length === 0 && deleted.length === 0) return;
      const payload = { nodes, deleted, at: Date.now() };
      await redactNodes(payload, identity, opts.policy, opts.db.knex);
      res.write(frame('nodes', payload));
    };
    const unsubscribe = await feed.subscribe((change) => {
      queue = queue.then(() => send(change)).catch((err) => req.log.warn({ err }, 'console event stream'));
    });
    res.write(`retry: 2000\n${frame('ready', { at: Date.now(), project: project ?? null })}`);
    // A comment now and then keeps proxies from closing an idle stream.
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });
};
