// /v1/nodes/{ident}/management/indicators (1.63): the node's indicator LEDs, read and set by its
// conductor through the management interface (Redfish IndicatorLED / LocationIndicatorActive, the
// fake's). An indicator is `name@component`, as Ironic names it. Below 1.63: 404.
import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput } from '../../../common/errors.ts';
import { INDICATOR_STATES, type SupportedIndicators } from '../../../drivers/interfaces.ts';
import type { ApiContext } from '../context.ts';
import { baseUrl, noContent, queryValue, selfLinks, type Query } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { runNodeTask } from '../tasks.ts';
import { requireEndpoint } from '../version.ts';

/** `led@system` → its name and component (Ironic's IndicatorAtComponent). */
function splitIndicator(ident: string): { name: string; component: string } {
  const at = ident.lastIndexOf('@');
  if (at <= 0 || at === ident.length - 1) throw new InvalidInput(`Malformed indicator name "${ident}"`);
  return { name: ident.slice(0, at), component: ident.slice(at + 1) };
}

export const nodeIndicatorRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/management/indicators', async (req) => {
    requireEndpoint(req, 63);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    const supported = await runNodeTask<SupportedIndicators>(ctx, node, 'get_supported_indicators');
    const base = baseUrl(req, ctx.config);
    const indicators = Object.entries(supported).flatMap(([component, byName]) => Object.entries(byName ?? {}).map(([name, info]) => ({
      name: `${name}@${component}`, component, readonly: info.readonly, states: info.states,
      links: selfLinks(base, 'nodes', `${node.uuid}/management/indicators/${name}@${component}`),
    })));
    return { indicators };
  });
  app.get<{ Params: { ident: string; indicator: string } }>('/nodes/:ident/management/indicators/:indicator', async (req) => {
    requireEndpoint(req, 63);
    const indicator = splitIndicator(req.params.indicator);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return { state: await runNodeTask<string>(ctx, node, 'get_indicator_state', indicator) };
  });
  app.put<{ Params: { ident: string; indicator: string }; Body: { state?: unknown } | undefined }>('/nodes/:ident/management/indicators/:indicator', async (req, reply) => {
    requireEndpoint(req, 63);
    const indicator = splitIndicator(req.params.indicator);
    // ironicclient sends the state in the body; Ironic also takes it from the query string.
    const state = req.body?.state ?? queryValue(req.query as Query, 'state');
    if (typeof state !== 'string' || !(INDICATOR_STATES as readonly string[]).includes(state)) {
      throw new InvalidInput(`Invalid indicator state "${String(state)}": use one of ${INDICATOR_STATES.join(', ')}`);
    }
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    await runNodeTask(ctx, node, 'set_indicator_state', { ...indicator, state });
    return noContent(reply);
  });
};
