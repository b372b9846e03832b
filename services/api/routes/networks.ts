// Anvil's networks (not part of Ironic's API, which leaves networks to Neutron):
//   GET    /v1/networks             every network (a project-scoped caller: its own)
//   POST   /v1/networks             create one (a project-scoped caller: a tenant network of its own)
//   GET    /v1/networks/{ident}     by UUID or name
//   DELETE /v1/networks/{ident}     refused while a node is attached to it
// Nodes attach to them through Ironic's VIF API (node-vifs.ts); the switch network interface
// puts the nodes' switch ports on their VLANs.
import type { FastifyPluginAsync } from 'fastify';
import type { Knex } from 'knex';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { inSubnet, parseCidr } from '../../../common/ipv4.ts';
import { isoTime } from '../../../db/index.ts';
import { createNetwork, deleteNetwork, findNetwork, listNetworks, NETWORK_KINDS, networkInUse, type NetworkRecord } from '../../../db/networks.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { baseUrl, noContent, queryValue, selfLinks, type Query } from '../http.ts';
import { checkName, checkUuid, isUniqueViolation, nullable } from '../validation.ts';

const CREATE_SCHEMA = {
  type: 'object',
  required: ['name', 'kind'],
  additionalProperties: false,
  properties: {
    uuid: { type: 'string' },
    name: { type: 'string', maxLength: 255 },
    kind: { type: 'string', enum: NETWORK_KINDS },
    vlan_id: nullable('integer', { minimum: 1, maximum: 4094 }),
    physical_network: nullable('string', { maxLength: 64 }),
    owner: nullable('string', { maxLength: 255 }),
    mtu: nullable('integer', { minimum: 68, maximum: 9216 }),
    cidr: nullable('string', { maxLength: 64 }),
    gateway: nullable('string', { maxLength: 64 }),
    extra: { type: 'object' },
  },
};

export function renderNetwork(n: NetworkRecord, base: string): Record<string, unknown> {
  return {
    uuid: n.uuid, name: n.name, kind: n.kind, vlan_id: n.vlan_id, physical_network: n.physical_network, owner: n.owner, mtu: n.mtu,
    cidr: n.cidr, gateway: n.gateway, extra: n.extra, created_at: isoTime(n.created_at), updated_at: isoTime(n.updated_at),
    links: selfLinks(base, 'networks', n.uuid),
  };
}

async function networkOr404(knex: Knex, ident: string): Promise<NetworkRecord> {
  const n = await findNetwork(knex, ident);
  if (!n) throw notFound('Network', ident);
  return n;
}

function checkFields(body: Record<string, unknown>): Partial<NetworkRecord> & { name: string; kind: NetworkRecord['kind'] } {
  const fields = { ...body } as Partial<NetworkRecord> & { name: string; kind: NetworkRecord['kind'] };
  checkName(fields.name, 'network');
  if (typeof body.uuid === 'string') fields.uuid = checkUuid(body.uuid, 'uuid');
  if (fields.gateway && !fields.cidr) throw new InvalidInput('A network with a gateway needs its cidr');
  if (fields.cidr) {
    const subnet = parseCidr(fields.cidr);
    if (fields.gateway && !inSubnet(subnet, fields.gateway)) throw new InvalidInput(`gateway ${fields.gateway} is not a host address of ${fields.cidr}`);
  }
  return fields;
}

export const networkRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/networks', async (req) => {
    const kind = queryValue(req.query as Query, 'kind');
    const networks = await listNetworks(ctx.db.knex, { owner: req.auth.project, kind });
    const base = baseUrl(req, ctx.config);
    return { networks: networks.map((n) => renderNetwork(n, base)) };
  });
  app.get<{ Params: { ident: string } }>('/networks/:ident', async (req) => renderNetwork(await networkOr404(ctx.db.knex, req.params.ident), baseUrl(req, ctx.config)));
  app.post('/networks', { schema: { body: CREATE_SCHEMA } }, async (req, reply) => {
    const fields = checkFields(req.body as Record<string, unknown>);
    const created = await createNetwork(ctx.db.knex, fields).catch((err) => {
      if (isUniqueViolation(err, 'name')) throw new Conflict(`A network named ${fields.name} already exists.`, 'NetworkDuplicateName');
      if (isUniqueViolation(err, 'uuid')) throw new Conflict(`A network with UUID ${String(fields.uuid)} already exists.`, 'NetworkAlreadyExists');
      throw err;
    });
    const base = baseUrl(req, ctx.config);
    reply.code(201).header('Location', `${base}/v1/networks/${created.uuid}`);
    return renderNetwork(created, base);
  });
  app.delete<{ Params: { ident: string } }>('/networks/:ident', async (req, reply) => {
    const n = await networkOr404(ctx.db.knex, req.params.ident);
    if (await networkInUse(ctx.db.knex, n.id)) throw new Conflict(`Network ${n.uuid} is attached to nodes; detach its VIFs first.`, 'NetworkInUse');
    await deleteNetwork(ctx.db.knex, n.id);
    return noContent(reply);
  });
};
