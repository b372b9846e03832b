// The redfish firmware interface against the Redfish simulator, through the API and a conductor on
// SQLite and PostgreSQL: verification records the BIOS and BMC versions (GET /firmware, 1.86);
// servicing an active node runs firmware.update (SimpleUpdate, its task followed to the end, the
// reboot a BIOS image needs) and records the new versions as flashed; an image the BMC cannot
// download fails the servicing with the task's message, and abort brings the node back to active.
// Debian's python3-sushy reads what the simulator holds after each step.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createNode, type NodeRecord } from '../../../db/nodes.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { createApiServer } from '../../../services/api/server.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { testConfig } from '../api/harness.ts';
import { startConductor, untilState } from '../conductor/helpers.ts';

const SUSHY = path.join(import.meta.dirname, 'sushy_firmware.py');

async function sushyFirmware(sim: RedfishSimulator, system: string) {
  const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env;
  const r = await execa('/usr/bin/python3', [SUSHY, sim.url, 'admin', 'pw', `/redfish/v1/Systems/${system}`], { env, extendEnv: false, reject: false, timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`sushy failed (${r.exitCode}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as { bios_version: string; bmc_version: string; inventory: Record<string, string> };
}

describe.each(BACKENDS)('redfish firmware interface, API and conductor on %s', (backend) => {
  let t: TestDatabase;
  let sim: RedfishSimulator;
  let app: FastifyInstance;
  let conductor: Conductor;
  let images: http.Server;
  let imageUrl: string;
  const downloads: string[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    images = http.createServer((req, res) => {
      downloads.push(req.url ?? '');
      if (req.url?.endsWith('.bin') && !req.url.includes('missing')) res.end(Buffer.alloc(4096, 1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    sim = await startRedfishSimulator({ systems: 2, auth: { username: 'admin', password: 'pw' } });
    app = await createApiServer({ db: t.db, config: testConfig(), logger: silentLogger });
    conductor = await startConductor(t.db, `firmware-${backend}`);
  });
  afterAll(async () => {
    await conductor.stop();
    await app.close();
    await closeAllClients();
    await sim.close();
    await new Promise((resolve) => images.close(resolve));
    await t.drop();
  });

  const call = async (method: string, url: string, body?: unknown, version = '1.89') => {
    const res = await app.inject({ method: method as 'GET', url, headers: { 'X-OpenStack-Ironic-API-Version': version, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const provision = async (node: NodeRecord, body: Record<string, unknown>) => {
    const r = await call('PUT', `/v1/nodes/${node.uuid}/states/provision`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  };
  const firmware = async (node: NodeRecord) => Object.fromEntries(((await call('GET', `/v1/nodes/${node.uuid}/firmware`)).body.firmware as Record<string, string>[]).map((c) => [c.component, c]));

  it('records the versions, updates BIOS and BMC through servicing, and fails an image the BMC cannot fetch', async () => {
    const node = await createNode(t.db.knex, {
      driver: 'redfish', firmware_interface: 'redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll',
      driver_info: { redfish_address: sim.url, redfish_system_id: sim.systemIds[1], redfish_username: 'admin', redfish_password: 'pw', redfish_timeout: 10 },
    });
    expect((await call('GET', `/v1/nodes/${node.uuid}/firmware`, undefined, '1.85')).status).toBe(404);
    for (const target of ['manage', 'provide', 'active']) {
      await provision(node, { target });
      await untilState(t.db, node.id, target === 'manage' ? 'manageable' : target === 'provide' ? 'available' : 'active');
    }
    let fw = await firmware(node);
    expect(fw.bios).toMatchObject({ component: 'bios', initial_version: '2.1.0', current_version: '2.1.0', last_version_flashed: null, updated_at: null });
    expect(fw.bmc).toMatchObject({ component: 'bmc', initial_version: '1.0.0', current_version: '1.0.0', last_version_flashed: null });
    expect(fw.bios.created_at).toMatch(/\+00:00$/);

    await provision(node, { target: 'service', service_steps: [{ interface: 'firmware', step: 'update', args: { settings: [{ component: 'bios', url: `${imageUrl}/bios-2.2.0.bin` }, { component: 'bmc', url: `${imageUrl}/bmc-1.1.0.bin` }] } }] });
    let r = await untilState(t.db, node.id, 'active', 30_000);
    expect(r.last_error).toBeNull();
    fw = await firmware(node);
    expect(fw.bios).toMatchObject({ initial_version: '2.1.0', current_version: '2.2.0', last_version_flashed: '2.2.0' });
    expect(fw.bmc).toMatchObject({ initial_version: '1.0.0', current_version: '1.1.0', last_version_flashed: '1.1.0' });
    expect(fw.bios.updated_at).toMatch(/\+00:00$/);
    expect(downloads).toEqual(['/bios-2.2.0.bin', '/bmc-1.1.0.bin']);
    const seen = await sushyFirmware(sim, sim.systemIds[1]);
    expect(seen).toMatchObject({ bios_version: '2.2.0', bmc_version: '1.1.0' });
    expect(seen.inventory).toMatchObject({ [`BIOS-${sim.systemIds[1]}`]: '2.2.0', [`BMC-${sim.systemIds[1]}`]: '1.1.0', [`BIOS-${sim.systemIds[0]}`]: '2.1.0' });
    expect(await sim.machines[1].powerState()).toBe('on');

    await provision(node, { target: 'service', service_steps: [{ interface: 'firmware', step: 'update', args: { settings: [{ component: 'bios', url: `${imageUrl}/missing-3.0.0.bin` }] } }] });
    r = await untilState(t.db, node.id, 'service failed', 30_000);
    expect(r.last_error).toMatch(/Firmware Update|ended in state Exception/);
    expect(r.last_error).toMatch(/missing-3\.0\.0\.bin failed: HTTP 404/);
    await provision(node, { target: 'service', service_steps: [{ interface: 'firmware', step: 'update', args: { settings: [{ component: 'nic', url: `${imageUrl}/nic-1.bin` }] } }] });
    r = await untilState(t.db, node.id, 'service failed', 30_000);
    expect(r.last_error).toMatch(/component "nic" is not supported/);
    await provision(node, { target: 'abort' });
    await untilState(t.db, node.id, 'active');
    expect((await firmware(node)).bios.current_version).toBe('2.2.0');
  });
});
