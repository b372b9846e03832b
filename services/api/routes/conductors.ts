// /v1/conductors (1.49): the conductor processes and whether they are alive.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidInput } from '../../../common/errors.ts';
import { getConductor, isAlive, pageOfConductors, type ConductorRecord } from '../../../db/conductors.ts';
import { isoTime } from '../../../db/index.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, optionalBool, parseFields, parsePage, pick, selfLinks, type Query } from '../http.ts';
import { requireEndpoint } from '../version.ts';

const FIELD_VERSIONS: Record<string, number> = { hostname: 49, conductor_group: 49, alive: 49, drivers: 49, created_at: 49, updated_at: 49, links: 49 };
const DEFAULT_FIELDS = ['hostname', 'conductor_group', 'alive', 'links'];

function render(c: ConductorRecord, ctx: ApiContext, fields: ReadonlySet<string>, base: string): Record<string, unknown> {
  const full: Record<string, unknown> = {
    hostname: c.hostname, conductor_group: c.conductor_group, alive: isAlive(c, ctx.config.conductor.heartbeatTimeout * 1000), drivers: c.drivers,
    created_at: isoTime(c.created_at), updated_at: isoTime(c.updated_at), links: selfLinks(base, 'conductors', c.hostname),
  };
  return pick(full, fields);
}

function guard(req: FastifyRequest): void {
  requireEndpoint(req, 49);
}

export const conductorRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/conductors', async (req) => {
    guard(req);
    const q = req.query as Query;
    const detail = optionalBool(q, 'detail') ?? false;
    const requested = parseFields(req, q, FIELD_VERSIONS);
    if (detail && requested) throw new InvalidInput('Can not specify ?detail=True and fields in the same request.');
    const fields = new Set(requested ?? (detail ? Object.keys(FIELD_VERSIONS) : DEFAULT_FIELDS));
    const page = parsePage(q, ctx.config.api.maxLimit, new Set(['id', 'hostname', 'conductor_group', 'created_at', 'updated_at']));
    let marker: ConductorRecord | undefined;
    if (page.marker) {
      marker = await getConductor(ctx.db.knex, page.marker);
      if (!marker) throw notFound('Conductor', page.marker);
    }
    const rows = await pageOfConductors(ctx.db.knex, { ...page, marker: marker as unknown as Record<string, unknown> });
    const base = baseUrl(req, ctx.config);
    const items = rows.map((c) => render(c, ctx, fields, base));
    return collection('conductors', items, { base, path: 'conductors', query: q, page, markerOf: (c) => c.hostname as string });
  });
  app.get<{ Params: { hostname: string } }>('/conductors/:hostname', async (req) => {
    guard(req);
    const c = await getConductor(ctx.db.knex, req.params.hostname);
    if (!c) throw notFound('Conductor', req.params.hostname);
    const requested = parseFields(req, req.query as Query, FIELD_VERSIONS);
    return render(c, ctx, new Set(requested ?? Object.keys(FIELD_VERSIONS)), baseUrl(req, ctx.config));
  });
};
