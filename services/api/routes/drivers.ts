// /v1/drivers: hardware types served by live conductors (a driver with no live conductor is not
// listed, as in Ironic), with their interfaces on detail.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidInput } from '../../../common/errors.ts';
import { aliveConductors } from '../../../db/conductors.ts';
import { INTERFACE_NAMES } from '../../../db/nodes.ts';
import { getImplementation, listHardwareTypes } from '../../../drivers/registry.ts';
import type { HardwareType } from '../../../drivers/interfaces.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { requireEndpoint } from '../version.ts';
import { baseUrl, optionalBool, queryValue, selfLinks, type Query } from '../http.ts';

/** Version that introduced each interface's default_/enabled_ fields. */
const IFACE_VERSIONS: Record<string, number> = { bios: 40, rescue: 38, storage: 33, firmware: 86 };

async function hostsByDriver(ctx: ApiContext): Promise<Map<string, string[]>> {
  const hosts = new Map<string, string[]>();
  for (const c of await aliveConductors(ctx.db.knex, ctx.config.conductor.heartbeatTimeout * 1000)) {
    for (const d of c.drivers) hosts.set(d, [...(hosts.get(d) ?? []), c.hostname]);
  }
  return hosts;
}

function renderDriver(req: FastifyRequest, base: string, hw: HardwareType, hosts: string[], detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { name: hw.name, hosts, type: 'dynamic', links: selfLinks(base, 'drivers', hw.name) };
  if (req.apiVersion >= 9) out.properties = selfLinks(base, 'drivers', `${hw.name}/properties`);
  if (detail && req.apiVersion >= 30) {
    for (const i of INTERFACE_NAMES) {
      if ((IFACE_VERSIONS[i] ?? 30) > req.apiVersion) continue;
      out[`default_${i}_interface`] = hw.interfaces[i][0];
      out[`enabled_${i}_interfaces`] = [...hw.interfaces[i]];
    }
  }
  return out;
}

async function servedDriver(ctx: ApiContext, name: string): Promise<{ hw: HardwareType; hosts: string[] }> {
  const hw = listHardwareTypes(ctx.config.interfaces).find((h) => h.name === name);
  const hosts = (await hostsByDriver(ctx)).get(name);
  if (!hw || !hosts) throw notFound('Driver', name);
  return { hw, hosts };
}

export const driverRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get('/drivers', async (req) => {
    const q = req.query as Query;
    const type = queryValue(q, 'type');
    if (type !== undefined && type !== 'classic' && type !== 'dynamic') throw new InvalidInput(`Invalid driver type "${type}": it must be "classic" or "dynamic".`);
    const detail = optionalBool(q, 'detail') ?? false;
    const hosts = await hostsByDriver(ctx);
    const base = baseUrl(req, ctx.config);
    const drivers = type === 'classic' ? [] : listHardwareTypes(ctx.config.interfaces).filter((hw) => hosts.has(hw.name));
    return { drivers: drivers.map((hw) => renderDriver(req, base, hw, hosts.get(hw.name)!, detail)) };
  });
  app.get<{ Params: { name: string } }>('/drivers/:name', async (req) => {
    const { hw, hosts } = await servedDriver(ctx, req.params.name);
    return renderDriver(req, baseUrl(req, ctx.config), hw, hosts, true);
  });
  app.get<{ Params: { name: string } }>('/drivers/:name/properties', async (req) => {
    const { hw } = await servedDriver(ctx, req.params.name);
    const props: Record<string, string> = {};
    for (const i of INTERFACE_NAMES) for (const impl of hw.interfaces[i]) Object.assign(props, getImplementation(i, impl).properties ?? {});
    return props;
  });
  // Driver vendor passthru: the driver-level methods of the hardware type's default vendor
  // interface (Ironic's @driver_passthru). None of Anvil's vendor interfaces has any, as none of
  // Ironic's redfish, idrac or ipmitool ones does: the list is empty and a call names the method it lacks.
  app.get<{ Params: { name: string } }>('/drivers/:name/vendor_passthru/methods', async (req) => {
    await servedDriver(ctx, req.params.name);
    return {};
  });
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    app.route<{ Params: { name: string } }>({
      method,
      url: '/drivers/:name/vendor_passthru',
      handler: async (req) => {
        const { hw } = await servedDriver(ctx, req.params.name);
        const name = queryValue(req.query as Query, 'method');
        if (!name) throw new InvalidInput('Method not specified');
        throw new InvalidInput(`No handler for method ${name}: the ${hw.interfaces.vendor[0]} vendor interface of driver ${hw.name} has no driver vendor passthru methods`);
      },
    });
  }
  // The logical disk keys of the driver's default RAID interface (Ironic's driver raid controller, 1.12).
  app.get<{ Params: { name: string } }>('/drivers/:name/raid/logical_disk_properties', async (req) => {
    requireEndpoint(req, 12);
    const { hw } = await servedDriver(ctx, req.params.name);
    const raid = hw.interfaces.raid.map((n) => getImplementation('raid', n)).find((r) => r.logicalDiskProperties);
    if (!raid?.logicalDiskProperties) throw new InvalidInput(`Driver ${hw.name} does not support RAID configuration (no RAID interface with logical disk properties)`, 'UnsupportedDriverExtension');
    return raid.logicalDiskProperties;
  });
};
