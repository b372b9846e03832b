// Node health (API 1.109) from the power sync: the Redfish simulator's Status.Health and the IPMI
// simulator's chassis status fault bits and threshold sensors, read by a real conductor, recorded
// with a history line when they change, shown by the API from 1.109 only. SQLite: the API read is
// covered on both backends by versions-1.97-1.115.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, getNodeById, type NodeRecord } from '../../../db/nodes.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { closeIpmiClients } from '../../../drivers/ipmi/client.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { MemoryMachine, sampleHardware, type MachineFault } from '../../../simulators/machine.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, history, startConductor } from './helpers.ts';

let t: TestDatabase;
let conductor: Conductor;
let redfish: RedfishSimulator;
let ipmi: IpmiSimulator;
const ipmiMachine = new MemoryMachine('h0', randomUUID(), 'ipmi-health-0', sampleHardware(0));
const sensorMachine = new MemoryMachine('h1', randomUUID(), 'ipmi-health-1', sampleHardware(1));

beforeAll(async () => {
  redfish = await startRedfishSimulator({ systems: 1, auth: { username: 'admin', password: 'pw' }, powerDelayMs: 0 });
  ipmi = await startIpmiSimulator({ machines: [ipmiMachine, sensorMachine], firstPort: 0, username: 'admin', password: 'health-pw' });
  t = await createTestDatabase('sqlite');
  conductor = await startConductor(t.db, 'health', { powerSyncInterval: 0.2 });
});
afterAll(async () => {
  await conductor?.stop();
  await t?.drop();
  await closeAllClients();
  await closeIpmiClients();
  await redfish?.close();
  await ipmi?.close();
});

const healthOf = (node: NodeRecord, want: string) => eventually(async () => ((await getNodeById(t.db.knex, node.id))?.health === want ? true : undefined), 15_000, `health ${want}`);

/** Health follows a Warning fault, then a Critical one, then none. */
async function follows(node: NodeRecord, faults: Set<MachineFault>, [warning, critical]: [MachineFault, MachineFault] = ['cooling', 'power']): Promise<void> {
  await healthOf(node, 'OK');
  faults.add(warning);
  await healthOf(node, 'Warning');
  faults.add(critical);
  await healthOf(node, 'Critical');
  faults.clear();
  await healthOf(node, 'OK');
  const lines = (await history(t.db, node.id)).filter((h) => h.event_type === 'monitoring').map((h) => h.event);
  expect(lines).toEqual([
    "Node health status changed: health='OK' (previously 'None')",
    "Node health status changed: health='Warning' (previously 'OK')",
    "Node health status changed: health='Critical' (previously 'Warning')",
    "Node health status changed: health='OK' (previously 'Critical')",
  ]);
}

describe('node health from the power sync', () => {
  it('follows Redfish Status.Health', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'redfish', provision_state: 'manageable', boot_interface: 'fake', deploy_interface: 'fake',
      driver_info: { redfish_address: redfish.url, redfish_system_id: redfish.systemIds[0], redfish_username: 'admin', redfish_password: 'pw' },
    });
    await follows(node, redfish.machines[0].faults!);
  });

  it('follows the IPMI chassis status: cooling fault Warning, power fault Critical', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'ipmi', provision_state: 'manageable', boot_interface: 'fake', deploy_interface: 'fake',
      driver_info: { ipmi_address: '127.0.0.1', ipmi_port: ipmi.ports[0], ipmi_username: 'admin', ipmi_password: 'health-pw', ipmi_cipher_suite: 3, ipmi_min_command_interval: 0 },
    });
    await follows(node, ipmiMachine.faults);
  });

  it('follows the IPMI threshold sensors: a temperature past its non-critical threshold Warning, past its critical one Critical', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'ipmi', provision_state: 'manageable', boot_interface: 'fake', deploy_interface: 'fake',
      driver_info: {
        ipmi_address: '127.0.0.1', ipmi_port: ipmi.ports[1], ipmi_username: 'admin', ipmi_password: 'health-pw', ipmi_cipher_suite: 3,
        ipmi_min_command_interval: 0, ipmi_health_sensor_interval: 0.1,
      },
    });
    await follows(node, sensorMachine.faults, ['warm', 'overheat']);
  });
});
