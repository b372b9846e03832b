// /v1/nodes/{ident}/traits (1.37): the node's traits, replaced whole or one at a time.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AnvilError, InvalidInput, NotAcceptable, NotFound } from '../../../common/errors.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { addTrait, countTraits, removeTrait, setTraits, traitsOfNode } from '../../../db/traits.ts';
import type { ApiContext } from '../context.ts';
import { noContent } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { lockedOrChanged } from './nodes.ts';

export const MAX_TRAITS = 50;

/** Standard os-traits names are upper-case words; custom ones start with CUSTOM_. */
export function checkTrait(trait: string): void {
  if (trait.length > 255 || !/^[A-Z][A-Z0-9_]*$/.test(trait)) {
    throw new InvalidInput(`Invalid trait "${trait}": a trait is a standard trait or CUSTOM_ followed by upper-case letters, digits and underscores (at most 255 characters).`);
  }
}

/**
 * Below 1.37 Ironic has no traits sub-resource and pecan answers what it answers for any unknown part of a
 * node's path: GET 406, PUT 405, DELETE 404 (ironic-tempest-plugin's TestNodesTraitsOldApi pins these).
 */
function traitsVersionGate(req: FastifyRequest): void {
  if (req.apiVersion >= 37) return;
  const message = 'Node traits require API version 1.37 or later.';
  if (req.method === 'GET') throw new NotAcceptable(message);
  if (req.method === 'DELETE') throw new NotFound(message);
  throw new AnvilError(message, 405, 'MethodNotAllowed');
}

type Req = FastifyRequest<{ Params: { ident: string; trait?: string }; Body: { traits: string[] } }>;

async function writableNode(req: Req, ctx: ApiContext): Promise<NodeRecord> {
  traitsVersionGate(req);
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  if (node.reservation) throw await lockedOrChanged(ctx, node, req.params.ident);
  return node;
}

export const nodeTraitRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/traits', async (req) => {
    traitsVersionGate(req);
    const node = await findNodeOr404(ctx.db.knex, req.params.ident);
    return { traits: await traitsOfNode(ctx.db.knex, node.id) };
  });
  app.put<{ Params: { ident: string }; Body: { traits: string[] } }>(
    '/nodes/:ident/traits',
    { schema: { body: { type: 'object', required: ['traits'], additionalProperties: false, properties: { traits: { type: 'array', items: { type: 'string' } } } } } },
    async (req, reply) => {
      const node = await writableNode(req as Req, ctx);
      req.body.traits.forEach(checkTrait);
      if (new Set(req.body.traits).size > MAX_TRAITS) throw new InvalidInput(`A node may have at most ${MAX_TRAITS} traits.`);
      await setTraits(ctx.db.knex, node.id, req.body.traits);
      return noContent(reply);
    },
  );
  app.put<{ Params: { ident: string; trait: string } }>('/nodes/:ident/traits/:trait', async (req, reply) => {
    const node = await writableNode(req as Req, ctx);
    checkTrait(req.params.trait);
    const current = await traitsOfNode(ctx.db.knex, node.id);
    if (!current.includes(req.params.trait) && (await countTraits(ctx.db.knex, node.id)) >= MAX_TRAITS) throw new InvalidInput(`A node may have at most ${MAX_TRAITS} traits.`);
    await addTrait(ctx.db.knex, node.id, req.params.trait);
    return noContent(reply);
  });
  app.delete<{ Params: { ident: string } }>('/nodes/:ident/traits', async (req, reply) => {
    const node = await writableNode(req as Req, ctx);
    await setTraits(ctx.db.knex, node.id, []);
    return noContent(reply);
  });
  app.delete<{ Params: { ident: string; trait: string } }>('/nodes/:ident/traits/:trait', async (req, reply) => {
    const node = await writableNode(req as Req, ctx);
    if (!(await removeTrait(ctx.db.knex, node.id, req.params.trait))) throw new NotFound(`Node ${node.uuid} doesn't have a trait '${req.params.trait}'`, 'NodeTraitNotFound');
    return noContent(reply);
  });
};
