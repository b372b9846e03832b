// /v1/nodes/{ident}/vmedia (POST/DELETE 1.89, GET 1.93) as Metal3's DataImage drives it through
// gophercloud, carried out by a conductor: on a Redfish node against the Redfish simulator (the
// simulated machine is read back as the second witness), on a fake node, and refused with 400 on
// a node whose management interface has no virtual media. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

const ISO = 'http://192.0.2.5/data-image.iso';

describe.each(BACKENDS)('virtual media API on %s', (backend) => {
  let h: ApiHarness;
  let conductor: Conductor;
  let sim: RedfishSimulator;
  beforeAll(async () => {
    h = await startHarness(backend, { taskTimeoutMs: 60_000, conductorRow: false });
    sim = await startRedfishSimulator({ systems: 1, auth: { username: 'admin', password: 'pw' } });
    conductor = new Conductor({ db: h.t.db, config: h.config, logger: silentLogger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor.stop();
    await closeAllClients();
    await sim.close();
    await h.close();
  });

  const redfishNode = (name: string) => createNode(h, {
    name, driver: 'redfish', boot_interface: 'fake', deploy_interface: 'fake',
    driver_info: { redfish_address: sim.url, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 'pw' },
  });

  it('attaches, lists and detaches a CD on a Redfish BMC (204, 200 list, 204)', async () => {
    const n = await redfishNode(`rf-vmedia-${backend}`);
    const attach = await h.call('POST', `/v1/nodes/${n.uuid}/vmedia`, { device_type: 'cdrom', image_url: ISO }, '1.89');
    expect(attach.status, attach.raw).toBe(204);
    expect(attach.raw).toBe('');
    expect(sim.machines[0].getVirtualMedia()).toMatchObject({ image: ISO, inserted: true });

    const list = await h.call('GET', `/v1/nodes/${n.uuid}/vmedia`, undefined, '1.93');
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    expect(list.body).toContainEqual({ image: ISO, inserted: true, media_types: ['CD', 'DVD'] });
    expect(list.body).toContainEqual({ image: null, inserted: false, media_types: ['Floppy', 'USBStick'] });
    expect((await h.call('GET', `/v1/nodes/${n.uuid}/vmedia`, undefined, '1.92')).status).toBe(404);

    const floppy = await h.call('POST', `/v1/nodes/${n.uuid}/vmedia`, { device_type: 'floppy', image_url: 'nfs://192.0.2.5/f.img' });
    expect(floppy.status, floppy.raw).toBe(204);
    const both = await h.call('GET', `/v1/nodes/${n.uuid}/vmedia`);
    expect(both.body.filter((m: { inserted: boolean }) => m.inserted)).toHaveLength(2);

    const detach = await h.call('DELETE', `/v1/nodes/${n.uuid}/vmedia?device_types=cdrom`, undefined, '1.89');
    expect(detach.status, detach.raw).toBe(204);
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
    const after = await h.call('GET', `/v1/nodes/${n.uuid}/vmedia`);
    expect(after.body).toContainEqual({ image: null, inserted: false, media_types: ['CD', 'DVD'] });
    expect(after.body).toContainEqual({ image: 'nfs://192.0.2.5/f.img', inserted: true, media_types: ['Floppy', 'USBStick'] });
    expect((await h.call('DELETE', `/v1/nodes/${n.uuid}/vmedia`)).status).toBe(204);
    expect((await h.call('GET', `/v1/nodes/${n.uuid}/vmedia`)).body.every((m: { inserted: boolean }) => !m.inserted)).toBe(true);
  });

  /** Polls the node until it reaches `state` (a failure state ends the wait too). */
  async function until(uuid: string, state: string): Promise<Record<string, any>> {
    for (let i = 0; i < 300; i++) {
      const n = (await h.call('GET', `/v1/nodes/${uuid}`)).body;
      if (n.provision_state === state && n.target_provision_state === null && n.reservation === null) return n;
      if (/failed$/.test(n.provision_state) && n.reservation === null) return n;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`node ${uuid} never reached ${state}`);
  }

  it('deploys a live ISO with the ramdisk deploy interface: the BMC mounts instance_info.boot_iso, no disk is written', async () => {
    const live = 'http://192.0.2.5/live.iso';
    const n = await redfishNode(`live-${backend}`);
    const setup = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [
      { op: 'replace', path: '/boot_interface', value: 'redfish-virtual-media' }, { op: 'replace', path: '/deploy_interface', value: 'ramdisk' },
      { op: 'add', path: '/driver_info/deploy_iso', value: 'http://192.0.2.5/ipa.iso' }, { op: 'add', path: '/automated_clean', value: false },
    ]);
    expect(setup.status, setup.raw).toBe(200);
    for (const [verb, state] of [['manage', 'manageable'], ['provide', 'available']]) {
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: verb })).status).toBe(202);
      expect((await until(n.uuid, state)).provision_state).toBe(state);
    }
    expect((await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/instance_info/boot_iso', value: live }])).status).toBe(200);
    expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'active' })).status).toBe(202);
    const active = await until(n.uuid, 'active');
    expect(active.provision_state, active.last_error).toBe('active');
    expect(active.power_state).toBe('power on');
    expect(sim.machines[0].getVirtualMedia()).toMatchObject({ image: live, inserted: true });
    expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'deleted' })).status).toBe(202);
    expect((await until(n.uuid, 'available')).provision_state).toBe('available');
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
  });

  it('fails a ramdisk deploy on a boot interface that cannot boot a live ISO, saying so', async () => {
    const n = await createNode(h, { name: `live-ipxe-${backend}`, boot_interface: 'ipxe', deploy_interface: 'ramdisk', automated_clean: false, instance_info: { boot_iso: 'http://192.0.2.5/live.iso' } });
    await h.t.db.knex('nodes').where({ uuid: n.uuid }).update({ provision_state: 'available' });
    expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'active' })).status).toBe(202);
    const failed = await until(n.uuid, 'deploy failed');
    expect(failed.provision_state).toBe('deploy failed');
    expect(failed.last_error).toContain('The ipxe boot interface of node');
    expect(failed.last_error).toContain('cannot boot a live ISO');
  });

  it('keeps a fake node\'s virtual media', async () => {
    const n = await createNode(h, { name: `fake-vmedia-${backend}` });
    expect((await h.call('POST', `/v1/nodes/${n.name}/vmedia`, { device_type: 'cdrom', image_url: ISO, image_download_source: 'http' })).status).toBe(204);
    const list = await h.call('GET', `/v1/nodes/${n.name}/vmedia`);
    expect(list.body).toContainEqual({ image: ISO, inserted: true, media_types: ['CD'] });
    expect((await h.call('DELETE', `/v1/nodes/${n.name}/vmedia?device_types=cdrom`)).status).toBe(204);
    expect((await h.call('GET', `/v1/nodes/${n.name}/vmedia`)).body.every((m: { inserted: boolean }) => !m.inserted)).toBe(true);
  });

  it('refuses bad requests and older versions with Ironic\'s codes', async () => {
    const n = await createNode(h, { name: `bad-vmedia-${backend}` });
    const url = `/v1/nodes/${n.uuid}/vmedia`;
    expect((await h.call('POST', url, { device_type: 'cdrom', image_url: ISO }, '1.88')).status).toBe(404);
    expect((await h.call('DELETE', url, undefined, '1.88')).status).toBe(404);
    const scheme = await h.call('POST', url, { device_type: 'cdrom', image_url: 'ftp://h/x.iso' });
    expect(scheme.status).toBe(400);
    expect(fault(scheme)).toContain('Unsupported or missing URL scheme: ftp');
    expect((await h.call('POST', url, { device_type: 'tape', image_url: ISO })).status).toBe(400);
    expect((await h.call('POST', url, { device_type: 'cdrom' })).status).toBe(400);
    expect((await h.call('POST', url, { device_type: 'cdrom', image_url: ISO, extra: 1 })).status).toBe(400);
    const types = await h.call('DELETE', `${url}?device_types=cdrom,tape`);
    expect(types.status).toBe(400);
    expect(fault(types)).toContain('Invalid device type(s) tape');
    expect((await h.call('POST', '/v1/nodes/no-such-node/vmedia', { device_type: 'cdrom', image_url: ISO })).status).toBe(404);

    const ipmi = await createNode(h, { name: `ipmi-vmedia-${backend}`, driver: 'ipmi', driver_info: { ipmi_address: '127.0.0.1' } });
    const unsupported = await h.call('POST', `/v1/nodes/${ipmi.uuid}/vmedia`, { device_type: 'cdrom', image_url: ISO });
    expect(unsupported.status).toBe(400);
    expect(fault(unsupported)).toContain('does not support virtual media');
  });
});
