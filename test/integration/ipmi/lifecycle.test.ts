// A node with the ipmi driver, the Anvil simulator as its BMC, through a real conductor:
// manage -> provide -> deploy (fake deploy), a power request, and the periodic power sync
// noticing a change made behind Anvil's back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createNode, getNodeById } from '../../../db/nodes.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { closeIpmiClients } from '../../../drivers/ipmi/client.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, history, requestPower, requestProvision, startConductor, untilState } from '../conductor/helpers.ts';

let t: TestDatabase;
let conductor: Conductor;
let sim: IpmiSimulator;
const machine = new MemoryMachine('lc0', randomUUID(), 'ipmi-lc-0', sampleHardware(0));

beforeAll(async () => {
  sim = await startIpmiSimulator({ machines: [machine], firstPort: 0, username: 'admin', password: 'lifecycle-pw' });
  t = await createTestDatabase('sqlite');
  conductor = await startConductor(t.db, 'ipmi-lc', { powerSyncInterval: 0.3 });
});
afterAll(async () => {
  await conductor?.stop();
  await t?.drop();
  await closeIpmiClients();
  await sim?.close();
});

describe('a node with the ipmi driver', () => {
  it('goes manage -> provide -> deploy with the simulator as BMC, and its power follows the BMC', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'ipmi', provision_state: 'enroll', boot_interface: 'fake', deploy_interface: 'fake', inspect_interface: 'no-inspect',
      driver_info: {
        ipmi_address: '127.0.0.1', ipmi_port: sim.ports[0], ipmi_username: 'admin', ipmi_password: 'lifecycle-pw', ipmi_cipher_suite: 3,
        ipmi_min_command_interval: 0, ipmi_power_poll_interval: 0.05,
      },
    });
    await requestProvision(t.db, node, 'manage');
    let n = await untilState(t.db, node.id, 'manageable');
    expect(n.power_state).toBe('power off');
    await requestProvision(t.db, node, 'provide');
    n = await untilState(t.db, node.id, 'available');
    await requestProvision(t.db, node, 'active');
    n = await untilState(t.db, node.id, 'active');
    expect(n.last_error).toBeNull();

    await requestPower(t.db, n, 'power on');
    n = await eventually(async () => {
      const cur = await getNodeById(t.db.knex, node.id);
      return cur?.power_state === 'power on' && cur.target_power_state === null ? cur : undefined;
    }, 15_000, 'power on');
    expect(await machine.powerState()).toBe('on');

    // Someone powers the machine off at the BMC: the power sync (native session) notices.
    await machine.power('off');
    await eventually(async () => (await getNodeById(t.db.knex, node.id))?.power_state === 'power off', 15_000, 'power sync');
    const events = (await history(t.db, node.id)).map((h) => h.event).join('\n');
    expect(events).toContain('"deploying" -> "active"');
    expect(events).not.toContain('lifecycle-pw');
  });
});
