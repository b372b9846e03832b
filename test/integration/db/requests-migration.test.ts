// Migration 004 moves the requests a node held in driver_internal_info (before requests had columns
// of their own) into provision_request and power_request, on both back ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, getNodeById } from '../../../db/nodes.ts';
import { down, up } from '../../../db/migrations/004_node_requests.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe.each(BACKENDS)('requests migration on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterAll(async () => { await t.drop(); });

  it('moves requests in flight out of driver_internal_info and keeps the rest', async () => {
    const steps = [{ interface: 'deploy', step: 'erase_devices' }];
    await down(t.db.knex);
    const [{ id: deploying }] = await t.db.knex('nodes').insert({
      uuid: '11111111-2222-3333-4444-555555555555', driver: 'fake-hardware', provision_state: 'clean wait', conductor_group: '', created_at: Date.now(),
      driver_internal_info: JSON.stringify({ clean_steps_requested: steps, disable_ramdisk: false, requested_power_action: { target: 'rebooting' }, agent_url: 'http://127.0.0.1:9999' }),
    }).returning('id');
    const [{ id: resting }] = await t.db.knex('nodes').insert({
      uuid: '11111111-2222-3333-4444-666666666666', driver: 'fake-hardware', provision_state: 'manageable', conductor_group: '', created_at: Date.now(), driver_internal_info: JSON.stringify({ fake_boot_device: 'pxe' }),
    }).returning('id');
    await up(t.db.knex);
    const moved = (await getNodeById(t.db.knex, deploying))!;
    expect(moved.provision_request).toEqual({ steps, disable_ramdisk: false });
    expect(moved.power_request).toEqual({ target: 'rebooting' });
    expect(moved.driver_internal_info).toEqual({ agent_url: 'http://127.0.0.1:9999' });
    const untouched = (await getNodeById(t.db.knex, resting))!;
    expect(untouched).toMatchObject({ provision_request: null, power_request: null, driver_internal_info: { fake_boot_device: 'pxe' } });
    // And the schema is the current one again: new nodes carry requests.
    const fresh = await createNode(t.db.knex, { driver: 'fake-hardware', provision_state: 'enroll', provision_request: { steps } });
    expect(fresh.provision_request).toEqual({ steps });
  });
});
