// The redfish vendor interface's event subscriptions through node vendor passthru (Metal3's
// BMCEventSubscription), the API and a conductor on SQLite and PostgreSQL: the simulator's
// EventService really POSTs events to the subscribed destination when the node's power changes;
// python3-sushy lists what the BMC holds after each call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { eventually, untilState } from '../conductor/helpers.ts';
import { startOobHarness, sushy, type OobHarness } from './oob-harness.ts';

const sushySubscriptions = (h: OobHarness) => sushy<{ id: string; destination: string; event_types: string[]; context: string }[]>('sushy_events.py', h.sim);

describe.each(BACKENDS)('redfish vendor passthru event subscriptions on %s', (backend) => {
  let h: OobHarness;
  let receiver: http.Server;
  let destination: string;
  const received: { headers: http.IncomingHttpHeaders; body: any }[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => { raw += c; });
      req.on('end', () => { received.push({ headers: req.headers, body: JSON.parse(raw) }); res.writeHead(204).end(); });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    destination = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
    h = await startOobHarness(backend, 'vendor', { systems: 1 });
  });
  afterAll(async () => {
    await h.close();
    await new Promise((resolve) => receiver.close(resolve));
  });
  const call = (method: string, url: string, body?: unknown) => h.call(method, url, body);
  const fault = (r: { body: any }) => JSON.parse(r.body.error_message).faultstring as string;

  it('creates, reads and deletes subscriptions on the BMC, which posts power events to the destination', async () => {
    const node = await createNode(h.t.db.knex, { driver: 'redfish', vendor_interface: 'redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll', driver_info: h.driverInfo(0) });
    await call('PUT', `/v1/nodes/${node.uuid}/states/provision`, { target: 'manage' });
    await untilState(h.t.db, node.id, 'manageable');
    const base = `/v1/nodes/${node.uuid}/vendor_passthru`;

    const methods = await call('GET', `${base}/methods`);
    expect(methods.body.create_subscription).toMatchObject({ http_methods: ['POST'], async: false, attach: false });
    expect(Object.keys(methods.body).sort()).toEqual(['create_subscription', 'delete_subscription', 'get_all_subscriptions', 'get_subscription']);

    const created = await call('POST', `${base}?method=create_subscription`, { Destination: destination, EventTypes: ['Alert'], Context: 'bmo-host-1', Protocol: 'Redfish', HttpHeaders: [{ 'X-Event-Token': 'tok-123' }] });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({ Destination: destination, EventTypes: ['Alert'], Context: 'bmo-host-1', Protocol: 'Redfish' });
    expect(created.body.HttpHeaders).toBeUndefined();
    const id = created.body.Id as string;
    expect(await sushySubscriptions(h)).toEqual([{ id, destination, event_types: ['Alert'], context: 'bmo-host-1' }]);

    expect((await call('GET', `${base}?method=get_subscription&id=${id}`)).body).toMatchObject({ Id: id, Destination: destination });
    expect((await call('GET', `${base}?method=get_all_subscriptions`)).body).toMatchObject({ 'Members@odata.count': 1 });

    expect((await call('PUT', `/v1/nodes/${node.uuid}/states/power`, { target: 'power on' })).status).toBe(202);
    const event = await eventually(async () => received.find((e) => e.body.Context === 'bmo-host-1'));
    expect(event.headers['x-event-token']).toBe('tok-123');
    expect(event.body.Events[0]).toMatchObject({ EventType: 'Alert', OriginOfCondition: { '@odata.id': `/redfish/v1/Systems/${h.sim.systemIds[0]}` }, MessageArgs: [h.sim.systemIds[0], 'On'] });

    // Bad input answers 400 before any BMC call, naming what is wrong.
    expect(fault(await call('POST', base, {}))).toBe('Method not specified');
    expect(fault(await call('POST', `${base}?method=reboot_bmc`, {}))).toMatch(/Unsupported method \(reboot_bmc\)/);
    expect(fault(await call('GET', `${base}?method=create_subscription`))).toMatch(/does not support HTTP GET/);
    const missing = await call('POST', `${base}?method=create_subscription`, { Context: 'x' });
    expect(missing.status).toBe(400);
    expect(fault(missing)).toMatch(/needs argument "Destination"/);
    const refused = await call('POST', `${base}?method=create_subscription`, { Destination: 'ftp://127.0.0.1/x' });
    expect(refused.status).toBe(400);
    expect(fault(refused)).toMatch(/Destination/);

    expect((await call('DELETE', `${base}?method=delete_subscription`, { id })).status).toBe(204);
    expect(await sushySubscriptions(h)).toEqual([]);
    const gone = await call('GET', `${base}?method=get_subscription&id=${id}`);
    expect(gone.status).toBeGreaterThanOrEqual(400);
    expect(fault(gone)).toMatch(/not found|404/i);
  });
});
