// The Redfish vendor interface (Ironic's redfish/vendor.py): event subscriptions on the BMC's
// EventService, through node vendor passthru (Metal3's BMCEventSubscription calls
// create_subscription and delete_subscription). Answers keep only a subscription's public fields,
// as Ironic's do: HttpHeaders may carry credentials.
import { InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import type { TaskContext, VendorInterface, VendorMethod } from '../interfaces.ts';
import type { Json } from './client.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { isObject, linkOf, memberLinks, RedfishNode } from './system.ts';

const SHOWN = ['@odata.context', '@odata.etag', '@odata.id', '@odata.type', 'Context', 'Destination', 'EventTypes', 'Id', 'Protocol'];

function shown(doc: Json): Json {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => SHOWN.includes(k)));
}

async function subscriptionsPath(ctx: TaskContext): Promise<{ rn: RedfishNode; path: string }> {
  const rn = await RedfishNode.open(ctx);
  const service = linkOf((await rn.client.root()).EventService);
  if (!service) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} has no EventService`);
  const path = linkOf((await rn.client.getJson(service)).Subscriptions);
  if (!path) throw new UnsupportedOperation(`The EventService of node ${rn.node.uuid}'s BMC has no Subscriptions collection`);
  return { rn, path };
}

function idOf(args: Json): string {
  if (typeof args.id !== 'string' || args.id === '' || /[/?#]/.test(args.id)) throw new InvalidInput('The subscription "id" must be given as a string (the Id create_subscription returned)');
  return args.id;
}

const createSubscription: VendorMethod = {
  httpMethods: ['POST'],
  description: 'Creates a subscription on the BMC: Destination (required), EventTypes (default ["Alert"]), Context, Protocol (Redfish), HttpHeaders',
  argsinfo: {
    Destination: { description: 'The URI events are POSTed to', required: true },
    EventTypes: { description: 'The event types to receive (default ["Alert"])' },
    Context: { description: 'A string sent back in each event' },
    Protocol: { description: 'Redfish' },
    HttpHeaders: { description: 'Headers sent with each event (write-only)' },
  },
  async run(ctx, args) {
    if (typeof args.Destination !== 'string') throw new InvalidInput('create_subscription needs "Destination": the URI events are sent to');
    if (args.EventTypes !== undefined && (!Array.isArray(args.EventTypes) || args.EventTypes.some((t) => typeof t !== 'string'))) throw new InvalidInput('"EventTypes" must be a list of strings');
    if (args.HttpHeaders !== undefined && (!Array.isArray(args.HttpHeaders) || !args.HttpHeaders.every(isObject))) throw new InvalidInput('"HttpHeaders" must be a list of objects');
    const { rn, path } = await subscriptionsPath(ctx);
    const body: Json = { Destination: args.Destination, EventTypes: args.EventTypes ?? ['Alert'], Context: typeof args.Context === 'string' ? args.Context : '', Protocol: args.Protocol ?? 'Redfish' };
    if (args.HttpHeaders) body.HttpHeaders = args.HttpHeaders;
    const res = await rn.client.post(path, body);
    const location = res.headers.location;
    const doc = location ? await rn.client.getJson(location) : res.data;
    await ctx.note(`Event subscription ${String(doc.Id ?? '')} created on the BMC for ${args.Destination}`);
    return shown(doc);
  },
};

const deleteSubscription: VendorMethod = {
  httpMethods: ['DELETE'],
  description: 'Deletes the subscription with the given id from the BMC',
  argsinfo: { id: { description: 'The subscription Id', required: true } },
  async run(ctx, args) {
    const id = idOf(args);
    const { rn, path } = await subscriptionsPath(ctx);
    await rn.client.delete(`${path}/${id}`);
    await ctx.note(`Event subscription ${id} deleted on the BMC`);
    return undefined;
  },
};

const getSubscription: VendorMethod = {
  httpMethods: ['GET'],
  description: 'Reads the subscription with the given id',
  argsinfo: { id: { description: 'The subscription Id', required: true } },
  async run(ctx, args) {
    const id = idOf(args);
    const { rn, path } = await subscriptionsPath(ctx);
    return shown(await rn.client.getJson(`${path}/${id}`));
  },
};

const getAllSubscriptions: VendorMethod = {
  httpMethods: ['GET'],
  description: 'Lists the subscriptions on the BMC',
  async run(ctx) {
    const { rn, path } = await subscriptionsPath(ctx);
    const doc = await rn.client.getJson(path);
    return { '@odata.id': doc['@odata.id'], Name: doc.Name, Members: memberLinks(doc).map((m) => ({ '@odata.id': m })), 'Members@odata.count': memberLinks(doc).length };
  },
};

export function redfishVendor(name: string): VendorInterface {
  return {
    name,
    properties: REDFISH_PROPERTIES,
    validate: (node) => void parseRedfishInfo(node),
    methods: { create_subscription: createSubscription, delete_subscription: deleteSubscription, get_subscription: getSubscription, get_all_subscriptions: getAllSubscriptions },
  };
}
