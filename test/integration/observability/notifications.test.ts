// Ironic's versioned notifications on a real RabbitMQ, consumed with amqplib as any listener would:
// the oslo envelope, event types, payload classes and versions, priorities and routing keys, no
// secret in any message; and with the bus cut off, transitions still complete, the buffer drops
// its oldest messages and counts them, and what it kept arrives once the bus is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnvilConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { startHarness, type ApiHarness } from '../api/harness.ts';
import { testConfig as conductorConfig, untilState } from '../conductor/helpers.ts';
import { AMQP_URL, brokerRelay, consume, type Consumer } from '../../helpers/rabbitmq.ts';

const SECRET = 's3cret-pw-obs';

async function start(notifications: Partial<AnvilConfig['notifications']>, name: string): Promise<{ h: ApiHarness; conductor: Conductor }> {
  const h = await startHarness('sqlite', { configure: (c) => Object.assign(c.notifications, notifications) });
  const config = conductorConfig(`${name}-${process.pid}`);
  Object.assign(config.notifications, notifications);
  const conductor = new Conductor({ db: h.t.db, config, logger: silentLogger });
  await conductor.start();
  return { h, conductor };
}

async function drive(h: ApiHarness, uuid: string, target: string, state: string): Promise<void> {
  const r = await h.call('PUT', `/v1/nodes/${uuid}/states/provision`, { target });
  expect(r.status, r.raw).toBe(202);
  const id = (await h.t.db.knex('nodes').where({ uuid }).first()).id;
  await untilState(h.t.db, id, state, 60_000);
}

describe('versioned notifications on RabbitMQ', () => {
  const topic = `anvil_test_${process.pid}_notifications`;
  const exchange = `anvil-test-${process.pid}`;
  let h: ApiHarness;
  let conductor: Conductor;
  let consumer: Consumer;

  beforeAll(async () => {
    consumer = await consume(exchange, topic);
    ({ h, conductor } = await start({ transportUrl: AMQP_URL, level: 'info', topics: [topic], exchange }, 'notify'));
  }, 60_000);
  afterAll(async () => {
    await conductor?.stop();
    await h?.close();
    await consumer?.close();
  });

  it("publishes Ironic's node notifications with its envelope, payloads and versions", async () => {
    const created = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'notify-1', driver_info: { fake_password: SECRET }, instance_info: { configdrive: 'secret-user-data' } });
    expect(created.status).toBe(201);
    const uuid = created.body.uuid;

    const create = await consumer.until('baremetal.node.create.end');
    expect(create.routingKey).toBe(`${topic}.info`);
    expect(JSON.parse(create.raw)['oslo.version']).toBe('2.0');
    expect(create.message).toMatchObject({ priority: 'INFO', event_type: 'baremetal.node.create.end' });
    expect(create.message.publisher_id).toMatch(/^ironic-api\./);
    expect(create.message.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(create.message.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(create.message.payload).toMatchObject({ 'ironic_object.name': 'NodeCRUDPayload', 'ironic_object.namespace': 'ironic', 'ironic_object.version': '1.14' });
    const data = create.message.payload['ironic_object.data'];
    expect(data).toMatchObject({ uuid, name: 'notify-1', driver: 'fake-hardware', provision_state: 'enroll', maintenance: false, traits: [], chassis_uuid: null });
    expect(data.driver_info.fake_password).toBe('******');
    expect(data.instance_info.configdrive).toBe('******');
    expect(data.created_at).toMatch(/\+00:00$/);

    await drive(h, uuid, 'manage', 'manageable');
    const start = await consumer.until('baremetal.node.provision_set.start');
    expect(start.message.publisher_id).toMatch(/^ironic-api\./);
    expect(start.message.payload['ironic_object.name']).toBe('NodeSetProvisionStatePayload');
    expect(start.message.payload['ironic_object.version']).toBe('1.17');
    expect(start.message.payload['ironic_object.data']).toMatchObject({ event: 'manage', previous_provision_state: 'enroll', provision_state: 'verifying' });
    const end = await consumer.until('baremetal.node.provision_set.end');
    expect(end.message.publisher_id).toMatch(/^ironic-conductor\./);
    expect(end.message.payload['ironic_object.data']).toMatchObject({ previous_provision_state: 'verifying', provision_state: 'manageable' });

    expect((await h.call('PUT', `/v1/nodes/${uuid}/maintenance`, { reason: 'checking' })).status).toBe(202);
    await consumer.until('baremetal.node.maintenance_set.start');
    const maint = await consumer.until('baremetal.node.maintenance_set.end');
    expect(maint.message.payload).toMatchObject({ 'ironic_object.name': 'NodePayload', 'ironic_object.version': '1.16' });
    expect(maint.message.payload['ironic_object.data']).toMatchObject({ maintenance: true, maintenance_reason: 'checking' });
    expect((await h.call('DELETE', `/v1/nodes/${uuid}/maintenance`)).status).toBe(202);

    expect((await h.call('PUT', `/v1/nodes/${uuid}/states/power`, { target: 'power on' })).status).toBe(202);
    const powerStart = await consumer.until('baremetal.node.power_set.start');
    expect(powerStart.message.payload['ironic_object.name']).toBe('NodeSetPowerStatePayload');
    expect(powerStart.message.payload['ironic_object.data'].to_power).toBe('power on');
    const powerEnd = await consumer.until('baremetal.node.power_set.end');
    expect(powerEnd.message.payload['ironic_object.data']).toMatchObject({ power_state: 'power on', to_power: 'power on' });

    expect((await h.call('PATCH', `/v1/nodes/${uuid}`, [{ op: 'add', path: '/description', value: 'patched' }])).status).toBe(200);
    expect((await consumer.until('baremetal.node.update.end')).message.payload['ironic_object.data'].description).toBe('patched');

    // A failed deploy: provision_set.error, at error priority on the .error routing key.
    const failing = (await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'notify-2', driver_info: { fake_fail: 'deploy' } })).body;
    await drive(h, failing.uuid, 'manage', 'manageable');
    await drive(h, failing.uuid, 'provide', 'available');
    await drive(h, failing.uuid, 'active', 'deploy failed');
    const error = await consumer.until('baremetal.node.provision_set.error');
    expect(error.routingKey).toBe(`${topic}.error`);
    expect(error.message.priority).toBe('ERROR');
    expect(error.message.payload['ironic_object.data']).toMatchObject({ event: 'fail', previous_provision_state: 'deploying', provision_state: 'deploy failed' });
    expect(error.message.payload['ironic_object.data'].last_error).toMatch(/Injected failure/);

    expect((await h.call('DELETE', `/v1/nodes/${uuid}`)).status).toBe(204);
    expect((await consumer.until('baremetal.node.delete.end')).message.payload['ironic_object.data'].uuid).toBe(uuid);

    for (const r of consumer.received) {
      expect(r.raw).not.toContain(SECRET);
      expect(r.raw).not.toContain('secret-user-data');
    }
  }, 180_000);
});

describe('notifications with the bus down', () => {
  const topic = `anvil_test_${process.pid}_down`;
  const exchange = `anvil-test-down-${process.pid}`;
  let relay: Awaited<ReturnType<typeof brokerRelay>>;
  let h: ApiHarness;
  let conductor: Conductor;
  let consumer: Consumer;

  beforeAll(async () => {
    consumer = await consume(exchange, topic);
    relay = await brokerRelay();
    ({ h, conductor } = await start({ transportUrl: relay.url, level: 'info', topics: [topic], exchange, bufferSize: 3, reconnectInterval: 0.2 }, 'notify-down'));
  }, 60_000);
  afterAll(async () => {
    await conductor?.stop();
    await h?.close();
    await relay?.close();
    await consumer?.close();
  });

  const dropped = async (): Promise<number> => {
    const text = (await h.call('GET', '/metrics')).raw;
    const m = /^anvil_notifications_dropped_total\{reason="buffer full"\} (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  };

  it('completes transitions, counts the drops and delivers what it kept once the bus is back', async () => {
    const uuid = (await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'down-1' })).body.uuid;
    await consumer.until('baremetal.node.create.end');
    const before = await dropped();

    await relay.cut();
    // The move is not held up by the missing bus: the node reaches manageable.
    await drive(h, uuid, 'manage', 'manageable');
    for (let i = 0; i < 5; i++) expect((await h.call('PATCH', `/v1/nodes/${uuid}`, [{ op: 'add', path: '/description', value: `while down ${i}` }])).status).toBe(200);
    // provision_set.start and .end and five update.end: seven for three places.
    expect(await dropped()).toBe(before + 4);

    await relay.restore();
    const last = await consumer.until('baremetal.node.update.end', 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const updates = consumer.received.filter((r) => r.message.event_type === 'baremetal.node.update.end').map((r) => r.message.payload['ironic_object.data'].description);
    expect(updates).toEqual(['while down 2', 'while down 3', 'while down 4']);
    expect(last.message.payload['ironic_object.data'].provision_state).toBe('manageable');
    expect(consumer.received.some((r) => r.message.event_type === 'baremetal.node.provision_set.start')).toBe(false);
  }, 180_000);
});
