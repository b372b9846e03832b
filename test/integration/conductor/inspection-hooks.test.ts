// The inspection hooks in the conductor on SQLite and PostgreSQL, fed what the deploy agent posts
// for a simulated machine (its inventory and PCI devices through Agent.inspectionData): ports by
// inspection.addPorts and keepPorts, capabilities from CPU flags and PCI aliases, accelerators,
// physical networks from the NIC's address, local_gb from the root device hints, and the RAID
// device found by a second inspection. Inspection rules of the main phase see what the hooks did.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createInspectionRule } from '../../../db/inspection-rules.ts';
import { updateNode } from '../../../db/nodes.ts';
import { createPort, portsOfNode } from '../../../db/ports.ts';
import { enqueueTask } from '../../../db/tasks.ts';
import { Agent } from '../../../deploy-agent/agent.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { SimulatedHardware } from '../../../simulators/ramdisk-agents/hardware.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { fakeNode, history, testConfig, untilState } from './helpers.ts';

const GIB = 1024 ** 3;

describe.each(BACKENDS)('inspection hooks in the conductor on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  let dir: string;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-hooks-'));
    const config = testConfig(`hooks-${backend}`);
    config.inspection = {
      ...config.inspection,
      hooks: ['accelerators', 'cpu-capabilities', 'pci-devices', 'physical-network', 'raid-device', 'root-device'],
      addPorts: 'pxe',
      keepPorts: 'present',
      pciDeviceAliases: [{ vendor_id: '10de', product_id: '1eb8', name: 'gpu_t4' }],
      physicalNetworkCidrMap: { '10.20.0.0/24': 'provisioning' },
    };
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor.stop();
    await t.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies each hook to what the agent reports, and a second inspection finds the new RAID disk', async () => {
    const hw = sampleHardware(41, { nics: 3, diskBytes: 16 * 1024 * 1024 });
    hw.disks.push({ name: '/dev/sdb', sizeBytes: 900 * GIB, model: 'SIM-HDD', rotational: true, serial: 'HDD41' });
    hw.pciDevices = [{ vendorId: '10de', productId: '1eb8', class: '030200' }];
    const machine = new MemoryMachine('m41', 'u41', 'm41', hw);
    const agent = new Agent({ apiUrl: 'http://127.0.0.1:9', hardware: new SimulatedHardware({ machine, diskPath: path.join(dir, `m41-${backend}.disk`), ipv4Address: '10.20.0.41' }), logger: silentLogger });
    const [pxe, second] = hw.nics.map((n) => n.mac.toLowerCase());

    const node = await fakeNode(t.db, { provision_state: 'inspect wait', inspect_interface: 'agent', power_state: 'power on', properties: { root_device: { rotational: true } } });
    await createPort(t.db.knex, { node_id: node.id, address: pxe });
    await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:99:99:41' });
    await createInspectionRule(t.db.knex, {
      description: 'sees the hooks', priority: 0, phase: 'main', sensitive: false,
      conditions: [{ op: 'eq', args: { values: ['{node.properties[local_gb]}', '899'] } }],
      actions: [{ op: 'add-trait', args: { name: 'CUSTOM_BIG_ROOT' } }],
    });

    await enqueueTask(t.db, node, 'continue_inspection', { data: await agent.inspectionData() });
    let n = await untilState(t.db, node.id, 'manageable');
    expect(n.last_error).toBeNull();
    const caps = Object.fromEntries(String(n.properties.capabilities).split(',').map((c) => c.split(':')));
    expect(caps).toEqual({ boot_mode: 'uefi', cpu_vt: 'true', gpu_t4: '1' });
    expect(n.properties.accelerators).toEqual([{ vendor_id: '10de', device_id: '1eb8', type: 'GPU', device_info: 'NVIDIA Corporation Tesla T4', pci_address: '0000:10:00.0' }]);
    // The root device hints (rotational) chose the 900 GiB disk over the small first one.
    expect(n.properties.local_gb).toBe(899);
    const ports = await portsOfNode(t.db.knex, node.id);
    // addPorts pxe: no port for eth1/eth2; keepPorts present: the port of a NIC not in the inventory is gone.
    expect(ports.map((p) => [p.address, p.physical_network])).toEqual([[pxe, 'provisioning']]);
    expect(ports.some((p) => p.address === second)).toBe(false);
    const events = (await history(t.db, node.id)).map((h) => h.event);
    expect(events).toContain('Inspection removed ports 52:54:00:99:99:41 (inspection.keepPorts is "present")');
    expect(events.some((e) => e.startsWith('Inspection rules ') && e.endsWith('(main phase) applied, changing traits'))).toBe(true);

    // RAID: the operator built a volume; the next inspection sees one new disk and takes it as the root device.
    hw.disks.push({ name: '/dev/sdc', sizeBytes: 1800 * GIB, model: 'PERC H740P', rotational: false, serial: 'RAID41' });
    await updateNode(t.db.knex, node.id, { provision_state: 'inspect wait', properties: { ...n.properties, root_device: undefined } as never });
    await enqueueTask(t.db, node, 'continue_inspection', { data: await agent.inspectionData() });
    n = await untilState(t.db, node.id, 'manageable');
    expect(n.properties.root_device).toEqual({ serial: 'RAID41' });
    expect((await history(t.db, node.id)).map((h) => h.event)).toContain('A new disk (serial RAID41) appeared since the last inspection: it is the root device');
  });
});
