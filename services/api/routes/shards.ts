// GET /v1/shards (1.82): how many nodes each shard holds, for operators splitting nodes between
// services. Ironic lists nodes without a shard under the name "None"; so do we.
import type { FastifyPluginAsync } from 'fastify';
import { shardCounts } from '../../../db/nodes.ts';
import type { ApiContext } from '../context.ts';
import { requireEndpoint } from '../version.ts';

export const shardRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/shards', async (req) => {
    requireEndpoint(req, 82);
    const counts = await shardCounts(ctx.db.knex);
    return { shards: counts.map((c) => ({ name: String(c.shard ?? 'None'), count: c.count })) };
  });
};
