// GET /v1/nodes/{ident}/children (1.83): the UUIDs of the nodes whose parent_node is this one, and
// the node list that filters them (Ironic's NodeChildrenController, one link object, not a list).
import type { FastifyPluginAsync } from 'fastify';
import { childNodeUuids } from '../../../db/nodes.ts';
import type { ApiContext } from '../context.ts';
import { baseUrl } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { requireEndpoint } from '../version.ts';

export const nodeChildrenRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/children', async (req) => {
    requireEndpoint(req, 83);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return {
      children: await childNodeUuids(ctx.db.knex, node.uuid, req.auth.project),
      links: { href: `${baseUrl(req, ctx.config)}/v1/nodes?parent_node=${node.uuid}`, rel: 'children' },
    };
  });
};
