// The redfish and idrac-redfish raid interfaces against the Redfish simulator (an iDRAC-flavoured
// system with three drives), through the API and a conductor on SQLite and PostgreSQL:
// logical_disk_properties, target_raid_config checked on PUT /states/raid, then servicing deletes
// and creates the volumes (Storage Volumes POST/DELETE) and records raid_config; a configuration
// the drives cannot hold fails the servicing. python3-sushy reads the volumes the simulator holds.
import path from 'node:path';
import { execa } from 'execa';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createNode, getNodeById, type NodeRecord } from '../../../db/nodes.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { createApiServer } from '../../../services/api/server.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { testConfig } from '../api/harness.ts';
import { startConductor, untilState } from '../conductor/helpers.ts';

const SUSHY = path.join(import.meta.dirname, 'sushy_volumes.py');
const GiB = 1024 ** 3;

async function sushyVolumes(sim: RedfishSimulator, system: string) {
  const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env;
  const r = await execa('/usr/bin/python3', [SUSHY, sim.url, 'admin', 'pw', `/redfish/v1/Systems/${system}`], { env, extendEnv: false, reject: false, timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`sushy failed (${r.exitCode}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as { id: string; raid_type: string; capacity_bytes: number; drives: string[] }[];
}

describe.each(BACKENDS)('redfish raid interfaces, API and conductor on %s', (backend) => {
  let t: TestDatabase;
  let sim: RedfishSimulator;
  let app: FastifyInstance;
  let conductor: Conductor;

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    const hw = sampleHardware(1);
    hw.disks = [0, 1, 2].map((i) => ({ name: `/dev/sd${'abc'[i]}`, sizeBytes: 100 * GiB, model: 'SIM-SSD', rotational: false, serial: `DISK${i}` }));
    sim = await startRedfishSimulator({ machines: [new MemoryMachine('node-0001', '6d1e2c3a-0000-4000-8000-000000000001', 'node-0001', hw)], flavor: 'idrac', auth: { username: 'admin', password: 'pw' } });
    app = await createApiServer({ db: t.db, config: testConfig(), logger: silentLogger });
    conductor = await startConductor(t.db, `raid-${backend}`);
  });
  afterAll(async () => {
    await conductor.stop();
    await app.close();
    await closeAllClients();
    await sim.close();
    await t.drop();
  });

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await app.inject({ method: method as 'GET', url, headers: { 'X-OpenStack-Ironic-API-Version': '1.89', ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const provision = async (node: NodeRecord, body: Record<string, unknown>) => {
    const r = await call('PUT', `/v1/nodes/${node.uuid}/states/provision`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  };

  it('builds target_raid_config as volumes through servicing and records raid_config', async () => {
    const props = await call('GET', '/v1/drivers/idrac/raid/logical_disk_properties');
    expect(props.status).toBe(200);
    expect(Object.keys(props.body)).toEqual(expect.arrayContaining(['raid_level', 'size_gb', 'physical_disks', 'controller', 'is_root_volume', 'volume_name']));

    const node = await createNode(t.db.knex, {
      driver: 'idrac', raid_interface: 'idrac-redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll',
      driver_info: { redfish_address: sim.url, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 'pw', redfish_timeout: 10 },
    });
    const bad = await call('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: [{ raid_level: '7', size_gb: 10 }] });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.error_message).faultstring).toMatch(/raid_level "7" is not supported/);
    expect((await call('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: [{ raid_level: '1', size_gb: 50, is_root_volume: true, volume_name: 'root' }, { raid_level: '0', size_gb: 'MAX' }] })).status).toBe(204);

    for (const [target, state] of [['manage', 'manageable'], ['provide', 'available'], ['active', 'active']]) {
      await provision(node, { target });
      await untilState(t.db, node.id, state);
    }
    await provision(node, { target: 'service', service_steps: [{ interface: 'raid', step: 'delete_configuration' }, { interface: 'raid', step: 'create_configuration' }] });
    let r = await untilState(t.db, node.id, 'active', 30_000);
    expect(r.last_error).toBeNull();
    const ctl = 'RAID.Integrated.1-1';
    const bay = (i: number) => `Disk.Bay.${i}:Enclosure.Internal.0-1:${ctl}`;
    expect(r.raid_config).toEqual({ logical_disks: [
      { raid_level: '1', size_gb: 50, is_root_volume: true, volume_name: 'root', controller: ctl, physical_disks: [bay(0), bay(1)] },
      { raid_level: '0', size_gb: 100, is_root_volume: false, volume_name: expect.any(String), controller: ctl, physical_disks: [bay(2)] },
    ] });
    const volumes = await sushyVolumes(sim, sim.systemIds[0]);
    expect(volumes.map((v) => [v.raid_type, v.capacity_bytes, v.drives])).toEqual([['RAID1', 50 * GiB, [bay(0), bay(1)]], ['RAID0', 100 * GiB, [bay(2)]]]);
    expect((await call('GET', `/v1/nodes/${node.uuid}/states`)).body.raid_config.logical_disks).toHaveLength(2);

    // No free drives left for another RAID 1: the servicing fails naming the controller; delete empties it.
    expect((await call('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: [{ raid_level: '1', size_gb: 10 }] })).status).toBe(204);
    await provision(node, { target: 'service', service_steps: [{ interface: 'raid', step: 'create_configuration' }] });
    r = await untilState(t.db, node.id, 'service failed', 30_000);
    expect(r.last_error).toMatch(/RAID 1 needs 2 free drives on controller RAID\.Integrated\.1-1.*0 are free/);
    await provision(node, { target: 'service', service_steps: [{ interface: 'raid', step: 'delete_configuration' }] });
    r = await untilState(t.db, node.id, 'active', 30_000);
    expect(r.raid_config).toEqual({});
    expect(await sushyVolumes(sim, sim.systemIds[0])).toEqual([]);
    expect((await getNodeById(t.db.knex, node.id))!.last_error).toBeNull();
  });
});
