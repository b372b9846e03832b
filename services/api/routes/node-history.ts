// /v1/nodes/{ident}/history (1.78): what happened to the node, newest last.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { findHistoryEvent, historyOfNode, type HistoryRecord } from '../../../db/history.ts';
import { isoTime } from '../../../db/index.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, collection, optionalBool, parsePage, type Query } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { requireEndpoint } from '../version.ts';

function renderEvent(h: HistoryRecord, base: string, nodeUuid: string, detail: boolean, version: number): Record<string, unknown> {
  const out: Record<string, unknown> = { uuid: h.uuid, created_at: isoTime(h.created_at), severity: h.severity.toUpperCase(), event: h.event };
  if (detail) Object.assign(out, { event_type: h.event_type, conductor: h.conductor, user: h.user });
  if (detail && version >= 113) out.project = h.project;
  if (detail && version >= 115) Object.assign(out, { state: h.state, target_provision_state: h.target_provision_state, duration_seconds: h.duration_seconds });
  out.links = [{ href: `${base}/v1/nodes/${nodeUuid}/history/${h.uuid}`, rel: 'self' }, { href: `${base}/nodes/${nodeUuid}/history/${h.uuid}`, rel: 'bookmark' }];
  return out;
}

export const nodeHistoryRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/history', async (req: FastifyRequest<{ Params: { ident: string } }>) => {
    requireEndpoint(req, 78);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const q = req.query as Query;
    const page = parsePage(q, ctx.config.api.maxLimit, new Set(['id']));
    if (page.marker && !(await findHistoryEvent(ctx.db.knex, node.id, page.marker))) throw notFound('History event', page.marker);
    const events = await historyOfNode(ctx.db.knex, node.id, { limit: page.limit, marker: page.marker });
    const base = baseUrl(req, ctx.config);
    const detail = optionalBool(q, 'detail') ?? false;
    return collection('history', events.map((h) => renderEvent(h, base, node.uuid, detail, req.apiVersion)), { base, path: `nodes/${node.uuid}/history`, query: q, page, markerOf: (e) => e.uuid as string });
  });
  app.get<{ Params: { ident: string; event: string } }>('/nodes/:ident/history/:event', async (req) => {
    requireEndpoint(req, 78);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const event = await findHistoryEvent(ctx.db.knex, node.id, req.params.event);
    if (!event) throw notFound('History event', req.params.event);
    return renderEvent(event, baseUrl(req, ctx.config), node.uuid, true, req.apiVersion);
  });
};
