// POST /v1/events (1.54): network events validated as Ironic validates them, 204 when accepted,
// each one written into the history of the node whose port has its MAC. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

const PORT_ID = '3f1e7a2c-5b4d-4e8f-9a6b-0c1d2e3f4a5b';
const HOST_ID = '11111111-2222-4333-8444-555555555555';

describe.each(BACKENDS)('events on %s', (backend) => {
  let h: ApiHarness;
  let node: { uuid: string };
  beforeAll(async () => {
    h = await startHarness(backend);
    node = await createNode(h, { name: 'evented' });
    expect((await h.call('POST', '/v1/ports', { node_uuid: node.uuid, address: '52:54:00:aa:bb:01' })).status).toBe(201);
  });
  afterAll(async () => { await h.close(); });

  it('accepts network events with 204 and writes those of a known MAC into the node\'s history', async () => {
    const events = [
      { event: 'network.bind_port', port_id: PORT_ID, mac_address: '52:54:00:AA:BB:01', status: 'ACTIVE', device_id: null, 'binding:host_id': HOST_ID, 'binding:vnic_type': 'baremetal' },
      { event: 'network.unbind_port', port_id: PORT_ID, mac_address: '52:54:00:aa:bb:01', status: 'DOWN' },
      { event: 'network.delete_port', port_id: PORT_ID, mac_address: '52:54:00:ff:ff:ff', status: 'DELETED' },
    ];
    const r = await h.call('POST', '/v1/events', { events }, '1.54');
    expect(r.status, r.raw).toBe(204);
    expect(r.raw).toBe('');
    const history = await h.call('GET', `/v1/nodes/${node.uuid}/history`, undefined, '1.78');
    const lines = history.body.history.map((e: { event: string }) => e.event);
    expect(lines).toContain(`Network event network.bind_port for port 52:54:00:aa:bb:01 (network port ${PORT_ID}): status ACTIVE, host ${HOST_ID}, vnic_type baremetal`);
    expect(lines).toContain(`Network event network.unbind_port for port 52:54:00:aa:bb:01 (network port ${PORT_ID}): status DOWN`);
    expect(lines.filter((l: string) => l.startsWith('Network event'))).toHaveLength(2);
  });

  it('refuses what Ironic refuses, naming the problem', async () => {
    const ok = { event: 'network.bind_port', port_id: PORT_ID, mac_address: '52:54:00:aa:bb:01', status: 'ACTIVE' };
    const cases: [unknown, RegExp][] = [
      [{}, /events/],
      [{ events: [] }, /events/],
      [{ events: [ok], more: 1 }, /more/],
      [{ events: [{ ...ok, event: 'compute.reboot' }] }, /event/],
      [{ events: [{ port_id: PORT_ID }] }, /event/],
      [{ events: [{ ...ok, status: undefined }] }, /status/],
      [{ events: [{ ...ok, port_id: 'not-a-uuid' }] }, /Expected UUID for port_id: not-a-uuid/],
      [{ events: [{ ...ok, device_id: 'nope' }] }, /device_id/],
      [{ events: [{ ...ok, 'binding:host_id': 'compute-1' }] }, /binding:host_id/],
      [{ events: [{ ...ok, mac_address: 'zz:zz' }] }, /Expected a MAC address but received zz:zz/],
      [{ events: [{ ...ok, colour: 'red' }] }, /colour/],
    ];
    for (const [body, message] of cases) {
      const r = await h.call('POST', '/v1/events', body, '1.54');
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(fault(r), JSON.stringify(body)).toMatch(message);
    }
  });

  it('is not there below 1.54', async () => {
    const body = { events: [{ event: 'network.bind_port', port_id: PORT_ID, mac_address: '52:54:00:aa:bb:01', status: 'ACTIVE' }] };
    expect((await h.call('POST', '/v1/events', body, '1.53')).status).toBe(404);
    expect((await h.call('GET', '/v1', undefined, '1.54')).body.events).toBeDefined();
    expect((await h.call('GET', '/v1', undefined, '1.53')).body.events).toBeUndefined();
  });
});
