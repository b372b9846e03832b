// A node ISO that cannot be built fails the operation through the conductor with a last_error that
// says why (the missing deploy kernel, by path), and nothing is left: no medium mounted on the BMC,
// no ISO in the image cache. On SQLite and PostgreSQL.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { stopImageServer } from '../../../drivers/in-band/image-source.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('node ISO build failure on %s', (backend) => {
  let h: ApiHarness;
  let conductor: Conductor;
  let sim: RedfishSimulator;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-vmedia-iso-'));
    h = await startHarness(backend, {
      taskTimeoutMs: 60_000, conductorRow: false,
      configure: (config) => {
        config.images.cacheDir = path.join(dir, 'cache');
        config.netboot = { serverAddress: '192.0.2.1', http: { root: dir } };
      },
    });
    sim = await startRedfishSimulator({ systems: 1, auth: { username: 'admin', password: 'pw' } });
    conductor = new Conductor({ db: h.t.db, config: h.config, logger: silentLogger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor.stop();
    await stopImageServer();
    await closeAllClients();
    await sim.close();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function until(uuid: string, state: string): Promise<Record<string, any>> {
    let n: Record<string, any> = {};
    for (let i = 0; i < 300; i++) {
      n = (await h.call('GET', `/v1/nodes/${uuid}`)).body;
      if (n.provision_state === state && (n.target_provision_state === null || state.endsWith('failed')) && n.reservation === null) return n;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`node ${uuid} never reached ${state}: ${n.provision_state} (target ${n.target_provision_state}), last_error ${n.last_error}`);
  }

  it('fails inspection with a last_error naming the missing kernel, mounting nothing', async () => {
    const n = await createNode(h, {
      name: `iso-fail-${backend}`, driver: 'redfish', boot_interface: 'redfish-virtual-media', inspect_interface: 'agent', deploy_interface: 'direct',
      driver_info: { redfish_address: sim.url, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 'pw', deploy_kernel: 'missing.kernel', deploy_ramdisk: 'missing.initramfs' },
    });
    expect((await h.call('POST', '/v1/ports', { node_uuid: n.uuid, address: '52:54:00:0f:00:01', pxe_enabled: true })).status).toBe(201);
    expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'manage' })).status).toBe(202);
    await until(n.uuid, 'manageable');
    expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'inspect' })).status).toBe(202);
    const failed = await until(n.uuid, 'inspect failed');
    expect(failed.last_error).toContain(`Cannot build the boot ISO: cannot read ${path.join(dir, 'missing.kernel')}: ENOENT`);
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
    expect(existsSync(path.join(dir, 'cache')) ? await readdir(path.join(dir, 'cache')) : []).toEqual([]);
    expect(failed.driver_internal_info.boot).toBeUndefined();
  });
});
