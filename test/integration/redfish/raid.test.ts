// The redfish and idrac-redfish raid interfaces against the Redfish simulator (an iDRAC-flavoured
// system with three drives), through the API and a conductor on SQLite and PostgreSQL:
// logical_disk_properties, target_raid_config checked on PUT /states/raid, then servicing deletes
// and creates the volumes (Storage Volumes POST/DELETE) and records raid_config; a configuration
// the drives cannot hold fails the servicing. python3-sushy reads the volumes the simulator holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, getNodeById } from '../../../db/nodes.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { untilState } from '../conductor/helpers.ts';
import { startOobHarness, sushy, type OobHarness } from './oob-harness.ts';

const GiB = 1024 ** 3;
const sushyVolumes = (h: OobHarness, system: string) => sushy<{ id: string; raid_type: string; capacity_bytes: number; drives: string[] }[]>('sushy_volumes.py', h.sim, `/redfish/v1/Systems/${system}`);

describe.each(BACKENDS)('redfish raid interfaces, API and conductor on %s', (backend) => {
  let h: OobHarness;
  beforeAll(async () => {
    const hw = sampleHardware(1);
    hw.disks = [0, 1, 2].map((i) => ({ name: `/dev/sd${'abc'[i]}`, sizeBytes: 100 * GiB, model: 'SIM-SSD', rotational: false, serial: `DISK${i}` }));
    h = await startOobHarness(backend, 'raid', { machines: [new MemoryMachine('node-0001', '6d1e2c3a-0000-4000-8000-000000000001', 'node-0001', hw)], flavor: 'idrac' });
  });
  afterAll(async () => { await h.close(); });
  const call = (method: string, url: string, body?: unknown) => h.call(method, url, body);

  it('builds target_raid_config as volumes through servicing and records raid_config', async () => {
    const props = await call('GET', '/v1/drivers/idrac/raid/logical_disk_properties');
    expect(props.status).toBe(200);
    expect(Object.keys(props.body)).toEqual(expect.arrayContaining(['raid_level', 'size_gb', 'physical_disks', 'controller', 'is_root_volume', 'volume_name']));

    const node = await createNode(h.t.db.knex, { driver: 'idrac', raid_interface: 'idrac-redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll', driver_info: h.driverInfo(0) });
    const bad = await call('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: [{ raid_level: '7', size_gb: 10 }] });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.error_message).faultstring).toMatch(/raid_level "7" is not supported/);
    expect((await call('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: [{ raid_level: '1', size_gb: 50, is_root_volume: true, volume_name: 'root' }, { raid_level: '0', size_gb: 'MAX' }] })).status).toBe(204);

    await h.toActive(node);
    await h.provision(node, { target: 'service', service_steps: [{ interface: 'raid', step: 'delete_configuration' }, { interface: 'raid', step: 'create_configuration' }] });
    let r = await untilState(h.t.db, node.id, 'active', 30_000);
    expect(r.last_error).toBeNull();
    const ctl = 'RAID.Integrated.1-1';
    const bay = (i: number) => `Disk.Bay.${i}:Enclosure.Internal.0-1:${ctl}`;
    expect(r.raid_config).toEqual({ logical_disks: [
      { raid_level: '1', size_gb: 50, is_root_volume: true, volume_name: 'root', controller: ctl, physical_disks: [bay(0), bay(1)] },
      { raid_level: '0', size_gb: 100, is_root_volume: false, volume_name: expect.any(String), controller: ctl, physical_disks: [bay(2)] },
    ] });
    const volumes = await sushyVolumes(h, h.sim.systemIds[0]);
    expect(volumes.map((v) => [v.raid_type, v.capacity_bytes, v.drives])).toEqual([['RAID1', 50 * GiB, [bay(0), bay(1)]], ['RAID0', 100 * GiB, [bay(2)]]]);
    expect((await call('GET', `/v1/nodes/${node.uuid}/states`)).body.raid_config.logical_disks).toHaveLength(2);

    // No free drives left for another RAID 1: the servicing fails naming the controller; delete empties it.
    expect((await call('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: [{ raid_level: '1', size_gb: 10 }] })).status).toBe(204);
    await h.provision(node, { target: 'service', service_steps: [{ interface: 'raid', step: 'create_configuration' }] });
    r = await untilState(h.t.db, node.id, 'service failed', 30_000);
    expect(r.last_error).toMatch(/RAID 1 needs 2 free drives on controller RAID\.Integrated\.1-1.*0 are free/);
    await h.provision(node, { target: 'service', service_steps: [{ interface: 'raid', step: 'delete_configuration' }] });
    r = await untilState(h.t.db, node.id, 'active', 30_000);
    expect(r.raid_config).toEqual({});
    expect(await sushyVolumes(h, h.sim.systemIds[0])).toEqual([]);
    expect((await getNodeById(h.t.db.knex, node.id))!.last_error).toBeNull();
  });
});
