// The EventService of generated systems: subscriptions (POST/GET/DELETE under Subscriptions) and
// delivery. When a system's power state changes, every subscription whose EventTypes take it gets
// an Event POSTed to its Destination (with its Context and HttpHeaders), as a BMC does.
import { randomUUID } from 'node:crypto';
import { collection, isObject, link, NO_CONTENT, notAllowed, notFound, ok, redfishError, type Json, type SimRequest, type SimResponse } from './http.ts';
import type { SimSystem } from './system.ts';

export const EVENT_SERVICE_PATH = '/redfish/v1/EventService';
const SUBSCRIPTIONS_PATH = `${EVENT_SERVICE_PATH}/Subscriptions`;
const EVENT_TYPES = ['StatusChange', 'ResourceUpdated', 'ResourceAdded', 'ResourceRemoved', 'Alert'];

interface Subscription { id: string; destination: string; eventTypes: string[]; context: string; protocol: string; headers: Record<string, string> }

export class EventService {
  private readonly subscriptions = new Map<string, Subscription>();
  /** Deliveries made (destination, HTTP status or error), for testers. */
  readonly delivered: { destination: string; status: number | string }[] = [];

  constructor(systems: SimSystem[]) {
    for (const s of systems) s.machine.on('power', (state: string) => this.publish(s, state));
  }

  private render(s: Subscription): Json {
    // HttpHeaders are write-only on real BMCs (they may carry credentials): shown empty.
    return { '@odata.id': `${SUBSCRIPTIONS_PATH}/${s.id}`, '@odata.type': '#EventDestination.v1_7_0.EventDestination', Id: s.id, Name: 'Event Subscription', Destination: s.destination, EventTypes: s.eventTypes, Context: s.context, Protocol: s.protocol, HttpHeaders: [] };
  }

  handle(rest: string[], req: SimRequest): SimResponse | null {
    const at = rest.join('/');
    if (at === '') {
      if (req.method !== 'GET') return notAllowed(req.method, req.path);
      return ok({ '@odata.id': EVENT_SERVICE_PATH, '@odata.type': '#EventService.v1_5_0.EventService', Id: 'EventService', Name: 'Event Service', ServiceEnabled: true, DeliveryRetryAttempts: 0, EventTypesForSubscription: EVENT_TYPES, Subscriptions: link(SUBSCRIPTIONS_PATH),
        Actions: { '#EventService.SubmitTestEvent': { target: `${EVENT_SERVICE_PATH}/Actions/EventService.SubmitTestEvent` } },
      });
    }
    if (at === 'actions/eventservice.submittestevent') {
      if (req.method !== 'POST') return notAllowed(req.method, req.path);
      const body = isObject(req.body) ? req.body : {};
      const type = typeof body.EventType === 'string' ? body.EventType : 'Alert';
      this.deliver((s) => s.eventTypes.includes(type) ? type : undefined, () => ({
        EventType: type, EventId: typeof body.EventId === 'string' ? body.EventId : randomUUID(), EventTimestamp: new Date().toISOString(), Severity: typeof body.Severity === 'string' ? body.Severity : 'OK',
        Message: typeof body.Message === 'string' ? body.Message : 'Test event.', MessageId: typeof body.MessageId === 'string' ? body.MessageId : 'TestEvent.1.0.TestEvent',
      }));
      return NO_CONTENT;
    }
    if (at === 'subscriptions') {
      if (req.method === 'GET') return ok(collection(SUBSCRIPTIONS_PATH, 'EventDestinationCollection', 'Event Subscriptions Collection', [...this.subscriptions.keys()].map((id) => `${SUBSCRIPTIONS_PATH}/${id}`)));
      if (req.method === 'POST') return this.subscribe(req.body);
      return notAllowed(req.method, req.path);
    }
    if (rest[0] === 'subscriptions' && rest.length === 2) {
      const s = [...this.subscriptions.values()].find((x) => x.id.toLowerCase() === rest[1]);
      if (!s) return notFound(req.path);
      if (req.method === 'GET') return ok(this.render(s));
      if (req.method === 'DELETE') { this.subscriptions.delete(s.id); return NO_CONTENT; }
      return notAllowed(req.method, req.path);
    }
    return null;
  }

  private subscribe(body: unknown): SimResponse {
    if (!isObject(body) || typeof body.Destination !== 'string') return redfishError(400, 'Base.1.8.PropertyMissing', 'The property Destination is a required property and must be included in the request.');
    if (!/^https?:\/\//i.test(body.Destination)) return redfishError(400, 'Base.1.8.PropertyValueFormatError', `The value ${body.Destination} for the property Destination is of a different format than the property can accept (an http or https URI).`);
    const protocol = body.Protocol ?? 'Redfish';
    if (protocol !== 'Redfish') return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${String(protocol)} for the property Protocol is not in the list of acceptable values.`, 'Use Redfish.');
    const types = body.EventTypes ?? ['Alert'];
    if (!Array.isArray(types) || types.some((t) => !EVENT_TYPES.includes(String(t)))) return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(types)} for the property EventTypes is not in the list of acceptable values.`, `Choose from ${EVENT_TYPES.join(', ')}.`);
    const headers: Record<string, string> = {};
    for (const h of Array.isArray(body.HttpHeaders) ? body.HttpHeaders : []) if (isObject(h)) for (const [k, v] of Object.entries(h)) headers[k] = String(v);
    const s: Subscription = { id: randomUUID().slice(0, 8), destination: body.Destination, eventTypes: types.map(String), context: typeof body.Context === 'string' ? body.Context : '', protocol, headers };
    this.subscriptions.set(s.id, s);
    return { status: 201, headers: { Location: `${SUBSCRIPTIONS_PATH}/${s.id}` }, body: this.render(s) };
  }

  /** A power change is a StatusChange (and an Alert, the type Ironic subscribes to by default). */
  private publish(system: SimSystem, state: string): void {
    const power = state === 'on' ? 'On' : 'Off';
    this.deliver((s) => s.eventTypes.find((t) => t === 'StatusChange' || t === 'Alert' || t === 'ResourceUpdated'), (type) => ({
      EventType: type, EventId: randomUUID(), EventTimestamp: new Date().toISOString(), Severity: 'OK', MessageId: 'ResourceEvent.1.0.ResourceChanged',
      Message: `The power state of system ${system.ids.system} changed to ${power}.`, MessageArgs: [system.ids.system, power],
      OriginOfCondition: link(system.systemPath),
    }));
  }

  /** POSTs an Event to every subscription `typeFor` gives a type for. */
  private deliver(typeFor: (s: Subscription) => string | undefined, record: (type: string) => Json): void {
    for (const s of this.subscriptions.values()) {
      const type = typeFor(s);
      if (!type) continue;
      const event = { '@odata.type': '#Event.v1_4_0.Event', Id: randomUUID(), Name: 'Event Array', Context: s.context, Events: [record(type)] };
      void fetch(s.destination, { method: 'POST', headers: { 'content-type': 'application/json', ...s.headers }, body: JSON.stringify(event), signal: AbortSignal.timeout(5000) })
        .then(async (res) => { await res.arrayBuffer(); this.delivered.push({ destination: s.destination, status: res.status }); })
        .catch((err: Error) => { this.delivered.push({ destination: s.destination, status: err.message }); });
    }
  }
}
