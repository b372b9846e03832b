// Driver families close when the process's last conductor stops: the Redfish session a conductor
// opened is deleted on the BMC (BMCs hold only a few), not left to time out.
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode } from '../../../db/nodes.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, requestPower, startConductor } from '../conductor/helpers.ts';

describe.each(BACKENDS)('driver families shut down with the conductors on %s', (backend) => {
  let t: TestDatabase;
  let sim: RedfishSimulator;

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    sim = await startRedfishSimulator({ systems: 1, auth: { username: 'admin', password: 'pw' }, powerDelayMs: 20 });
  });
  afterAll(async () => {
    await sim.close();
    await t.drop();
  });

  /** The sessions the BMC holds, as its SessionService lists them. */
  async function sessionsOnBmc(): Promise<number> {
    const res = await axios.get(`${sim.url}/redfish/v1/SessionService/Sessions`, { auth: { username: 'admin', password: 'pw' } });
    return (res.data.Members as unknown[]).length;
  }

  it('deletes the Redfish session on the BMC when the last conductor of the process stops', async () => {
    const first = await startConductor(t.db, `close-a-${backend}`);
    const second = await startConductor(t.db, `close-b-${backend}`);
    const node = await createNode(t.db.knex, {
      driver: 'redfish',
      provision_state: 'manageable',
      driver_info: { redfish_address: sim.url, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 'pw', redfish_auth_type: 'session' },
    });
    await requestPower(t.db, node, 'power on');
    await eventually(async () => (await sim.machines[0].powerState()) === 'on', 15_000, 'power on through the BMC');
    expect(await sessionsOnBmc()).toBe(1);
    // Another conductor still runs in this process: the families stay open.
    await first.stop();
    expect(await sessionsOnBmc()).toBe(1);
    await second.stop();
    expect(await sessionsOnBmc()).toBe(0);
  });
});
