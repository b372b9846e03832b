// An iRMC S4 node (driver irmc, irmc_management_protocol=ipmi) through the conductor: manage →
// provide → deploy with power and boot device over IPMI to the simulated BMC, reached with the
// irmc_* address and credentials only; the power sync follows the BMC; the password never shows.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, getNodeById } from '../../../db/nodes.ts';
import { closeIpmiClients } from '../../../drivers/ipmi/client.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, history, requestPower, requestProvision, startConductor, untilState } from '../conductor/helpers.ts';

let t: TestDatabase;
let conductor: Conductor;
let sim: IpmiSimulator;
const machine = new MemoryMachine('irmc-s4', randomUUID(), 'irmc-s4-0', sampleHardware(0));

beforeAll(async () => {
  sim = await startIpmiSimulator({ machines: [machine], firstPort: 0, username: 'admin', password: 'irmc-s4-pw' });
  t = await createTestDatabase('sqlite');
  conductor = await startConductor(t.db, 'irmc-ipmi', { powerSyncInterval: 0.3 });
});
afterAll(async () => {
  await conductor?.stop();
  await t?.drop();
  await closeIpmiClients();
  await sim?.close();
});

describe('an irmc node with irmc_management_protocol=ipmi', () => {
  it('goes manage → provide → deploy over IPMI, and its power follows the BMC', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'irmc', provision_state: 'enroll', boot_interface: 'fake', deploy_interface: 'fake', inspect_interface: 'no-inspect',
      driver_info: { irmc_address: '127.0.0.1', irmc_username: 'admin', irmc_password: 'irmc-s4-pw', irmc_management_protocol: 'ipmi', irmc_ipmi_port: sim.ports[0], ipmi_power_poll_interval: 0.05 },
    });
    await requestProvision(t.db, node, 'manage');
    let n = await untilState(t.db, node.id, 'manageable');
    expect(n).toMatchObject({ power_state: 'power off', last_error: null });
    await requestProvision(t.db, node, 'provide');
    await untilState(t.db, node.id, 'available');
    await requestProvision(t.db, node, 'active');
    n = await untilState(t.db, node.id, 'active');
    expect(n.last_error).toBeNull();

    await requestPower(t.db, n, 'power on');
    await eventually(async () => {
      const cur = await getNodeById(t.db.knex, node.id);
      return cur?.power_state === 'power on' && cur.target_power_state === null ? cur : undefined;
    }, 15_000, 'power on');
    expect(await machine.powerState()).toBe('on');
    await machine.power('off');
    await eventually(async () => (await getNodeById(t.db.knex, node.id))?.power_state === 'power off', 15_000, 'power sync');

    // The derived ipmi_* keys are never saved: the node keeps its irmc_* keys only.
    const saved = (await getNodeById(t.db.knex, node.id))!;
    expect(Object.keys(saved.driver_info).filter((k) => k.startsWith('ipmi_') && k !== 'ipmi_power_poll_interval')).toEqual([]);
    expect((await history(t.db, node.id)).map((h) => h.event).join('\n')).not.toContain('irmc-s4-pw');
  }, 120_000);

  it('an IPMI BMC that does not answer: manage fails back to enroll, last_error names the iRMC\'s IPMI host and port', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'irmc', provision_state: 'enroll', boot_interface: 'fake', deploy_interface: 'fake', inspect_interface: 'no-inspect',
      driver_info: { irmc_address: '127.0.0.1', irmc_username: 'admin', irmc_password: 'irmc-s4-pw', irmc_management_protocol: 'ipmi', irmc_ipmi_port: 9, ipmi_retries: 1, ipmi_command_timeout: 0.2, ipmi_transport: 'native' },
    });
    await requestProvision(t.db, node, 'manage');
    // Back in enroll once verification has failed (it starts there too: wait for the error).
    const n = await eventually(async () => {
      const cur = await getNodeById(t.db.knex, node.id);
      return cur?.provision_state === 'enroll' && cur.last_error && cur.reservation === null ? cur : undefined;
    }, 60_000, 'manage to fail');
    expect(n.last_error).toMatch(/iRMC 127\.0\.0\.1:9 \(IPMI\) of node /);
  }, 120_000);
});
