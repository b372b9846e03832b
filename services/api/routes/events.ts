// POST /v1/events (1.54): external events, as Neutron sends them to Ironic when it binds, unbinds
// or deletes a port of a bare-metal instance. Ironic validates them and only logs them; Anvil
// also writes each one into the history of the node whose port has the event's MAC address, so
// the operator sees it with `baremetal node history list`. Accepted: 204. Below 1.54: 404.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { recordHistory } from '../../../db/history.ts';
import { findPortByAddress } from '../../../db/ports.ts';
import type { ApiContext } from '../context.ts';
import { noContent } from '../http.ts';
import { checkMac, checkUuid, validateSchema } from '../validation.ts';
import { requireEndpoint } from '../version.ts';

/** The event names Ironic accepts (ironic/api/controllers/v1/event.py EVENT_VALIDATORS): all network events. */
const NETWORK_EVENTS = ['network.bind_port', 'network.unbind_port', 'network.delete_port'];

const EVENTS_SCHEMA = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: {
    events: { type: 'array', minItems: 1, items: { type: 'object', required: ['event'], properties: { event: { type: 'string', enum: NETWORK_EVENTS } } } },
  },
};

const NETWORK_EVENT_SCHEMA = {
  type: 'object',
  required: ['event', 'port_id', 'mac_address', 'status'],
  additionalProperties: false,
  properties: {
    event: { type: 'string' },
    port_id: { type: 'string' },
    mac_address: { type: 'string' },
    status: { type: 'string' },
    device_id: { type: ['string', 'null'] },
    'binding:host_id': { type: ['string', 'null'] },
    'binding:vnic_type': { type: ['string', 'null'] },
  },
};

interface NetworkEvent {
  event: string;
  port_id: string;
  mac_address: string;
  status: string;
  device_id?: string | null;
  'binding:host_id'?: string | null;
  'binding:vnic_type'?: string | null;
}

/** One network event checked as Ironic checks it: the schema, then UUIDs and the MAC. */
function checkNetworkEvent(raw: Record<string, unknown>): NetworkEvent {
  validateSchema(NETWORK_EVENT_SCHEMA, raw, 'events');
  const e = raw as unknown as NetworkEvent;
  checkUuid(e.port_id, 'port_id');
  for (const key of ['device_id', 'binding:host_id'] as const) if (typeof e[key] === 'string') checkUuid(e[key], key);
  return { ...e, mac_address: checkMac(e.mac_address) };
}

function describe(e: NetworkEvent): string {
  const extras = [e.device_id && `device ${e.device_id}`, e['binding:host_id'] && `host ${e['binding:host_id']}`, e['binding:vnic_type'] && `vnic_type ${e['binding:vnic_type']}`].filter(Boolean);
  return `Network event ${e.event} for port ${e.mac_address} (network port ${e.port_id}): status ${e.status}${extras.length ? `, ${extras.join(', ')}` : ''}`;
}

export const eventRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.post('/events', { schema: { body: { type: 'object' } } }, async (req, reply: FastifyReply) => {
    requireEndpoint(req, 54);
    validateSchema(EVENTS_SCHEMA, req.body, 'evts');
    const events = (req.body as { events: Record<string, unknown>[] }).events.map(checkNetworkEvent);
    for (const e of events) {
      req.log.info({ event: e }, 'external event received');
      const port = await findPortByAddress(ctx.db.knex, e.mac_address);
      if (port) await recordHistory(ctx.db.knex, port.node_id, { event: describe(e), event_type: 'network', user: req.auth.identity.userName ?? null });
    }
    return noContent(reply);
  });
};
