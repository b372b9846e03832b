// Anvil's own API additions for the provisioning network (not part of Ironic's API):
//   GET    /v1/netboot/subnets          the config file's subnets and those added here
//   POST   /v1/netboot/subnets          add a relayed subnet (validated with the config file's rules)
//   DELETE /v1/netboot/subnets/{name}   remove a subnet added here
//   GET    /v1/netboot/leases           the DHCP leases
//   GET    /v1/netboot/leases6          the DHCPv6 leases
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../api/context.ts';
import { isoTime } from '../../db/index.ts';
import { listLeases } from '../../db/dhcp-leases.ts';
import { listLeases6 } from './dhcp6/leases.ts';
import { addSubnet, apiSubnets, configuredSubnets, removeSubnet } from './subnets.ts';

export const netbootRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/netboot/subnets', async () => ({
    subnets: [
      ...configuredSubnets(ctx.config).map((s) => ({ ...s, source: 'config' })),
      ...(await apiSubnets(ctx.db)).map((s) => ({ ...s, source: 'api' })),
    ],
  }));
  app.post('/netboot/subnets', { schema: { body: { type: 'object' } } }, async (req, reply) => {
    const subnet = await addSubnet(ctx.db, ctx.config, req.body as Record<string, unknown>);
    return reply.code(201).send({ ...subnet, source: 'api' });
  });
  app.delete<{ Params: { name: string } }>('/netboot/subnets/:name', async (req, reply) => {
    await removeSubnet(ctx.db, ctx.config, req.params.name);
    return reply.code(204).send();
  });
  app.get('/netboot/leases', async () => ({
    leases: (await listLeases(ctx.db.knex)).map((l) => ({ ip: l.ip, mac: l.mac, subnet: l.subnet, state: l.state, hostname: l.hostname, expires_at: isoTime(l.expires_at) })),
  }));
  app.get('/netboot/leases6', async () => ({
    leases: (await listLeases6(ctx.db.knex)).map((l) => ({ ip: l.ip, mac: l.mac, subnet: l.subnet, state: l.state, duid: l.duid, iaid: l.iaid === null ? null : Number(l.iaid), expires_at: isoTime(l.expires_at) })),
  }));
};
