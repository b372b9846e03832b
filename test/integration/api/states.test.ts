// Provision, power, maintenance, boot device and validate through app.inject(), on both back ends.
// Provision and power actions only record intent, so most of this needs no conductor; the
// BMC-touching calls (boot device) run against a real Conductor on the same database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { pendingTasks } from '../../../db/tasks.ts';
import { silentLogger } from '../../../common/logger.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('node states API on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend, { taskTimeoutMs: 300 }); });
  afterAll(async () => { await h.close(); });

  const provision = (id: string, body: unknown, version?: string) => h.call('PUT', `/v1/nodes/${id}/states/provision`, body, version);
  async function nodeIn(state: string, fields: Record<string, unknown> = {}) {
    const n = await createNode(h);
    const node = (await findNode(h.t.db.knex, n.uuid))!;
    await updateNode(h.t.db.knex, node.id, { provision_state: state, ...fields });
    return (await findNode(h.t.db.knex, n.uuid))!;
  }

  describe('provision', () => {
    it('saves the new state before answering 202 with no body', async () => {
      const n = await createNode(h, { name: 'prov-1' });
      const r = await provision('prov-1', { target: 'manage' });
      expect(r.status).toBe(202);
      expect(r.raw).toBe('');
      expect(r.headers['content-type']).toBeUndefined();
      expect(r.headers.location).toMatch(new RegExp(`/v1/nodes/${n.uuid}/states$`));
      const states = await h.call('GET', `/v1/nodes/${n.uuid}/states`);
      expect(states.body).toMatchObject({ provision_state: 'verifying', target_provision_state: 'manageable', last_error: null, power_state: null });
      expect(states.body.provision_updated_at).toMatch(/\+00:00$/);
    });

    it('refuses impossible transitions with 400, or 409 when the node is locked', async () => {
      const n = await createNode(h);
      const r = await provision(n.uuid, { target: 'active' });
      expect(r.status).toBe(400);
      expect(fault(r)).toBe(`The requested action "active" can not be performed on node "${n.uuid}" while it is in state "enroll".`);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      await updateNode(h.t.db.knex, node.id, { reservation: 'c7' });
      const locked = await provision(n.uuid, { target: 'active' });
      expect(locked.status).toBe(409);
      expect(fault(locked)).toBe(`Node ${n.uuid} is locked by host c7, please retry after the current operation is completed.`);
    });

    it('checks the target, its version and its arguments', async () => {
      const n = await nodeIn('available');
      const cases: [unknown, number, string][] = [
        [{ target: 'fly' }, 400, 'Invalid target "fly"'],
        [{ target: 'deploy' }, 406, 'requires API version 1.73'],
        [{ target: 'active', colour: 1 }, 400, "'colour' was unexpected"],
        [{ target: 7 }, 400, "is not of type 'string'"],
        [{}, 400, "'target' is a required property"],
        [{ target: 'manage', configdrive: 'abc' }, 400, 'Adding a config drive is only supported'],
        [{ target: 'active', configdrive: '!!not base64!!' }, 400, 'base64'],
        [{ target: 'active', configdrive: { meta_data: {}, colour: 1 } }, 400, 'Invalid configdrive key "colour"'],
        [{ target: 'active', clean_steps: [] }, 400, '"clean_steps" is only valid'],
        [{ target: 'active', deploy_steps: [{ interface: 'deploy' }] }, 400, "'step' is a required property"],
      ];
      for (const [body, status, message] of cases) {
        const r = await provision(n.uuid, body, '1.72');
        expect(r.status, JSON.stringify(body)).toBe(status);
        expect(fault(r)).toContain(message);
      }
      const manageable = await nodeIn('manageable');
      const clean = await provision(manageable.uuid, { target: 'clean' });
      expect(clean.status).toBe(400);
      expect(fault(clean)).toBe('"clean_steps" is required when setting target provision state to clean');
      const malformed = await provision(manageable.uuid, '{"target": "provide"');
      expect(malformed.status).toBe(400);
    });

    it('records deploy arguments as the request, never shown, and keeps maintenance nodes from deploying', async () => {
      const n = await nodeIn('available');
      const steps = [{ interface: 'deploy', step: 'custom', args: {}, priority: 80 }];
      const r = await provision(n.uuid, { target: 'active', configdrive: { meta_data: { name: 'x' }, user_data: '#cloud-config' }, deploy_steps: steps });
      expect(r.status).toBe(202);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      expect(node).toMatchObject({ provision_state: 'deploying', target_provision_state: 'active' });
      expect(node.provision_request).toEqual({ steps, configdrive: { meta_data: { name: 'x' }, user_data: '#cloud-config' } });
      const shown = (await h.call('GET', `/v1/nodes/${n.uuid}`)).body;
      expect(shown).not.toHaveProperty('provision_request');
      expect(JSON.stringify(shown)).not.toContain('#cloud-config');

      const guarded = await nodeIn('active', { protected: true });
      const protectedNode = await provision(guarded.uuid, { target: 'deleted' });
      expect(protectedNode.status).toBe(403);
      expect(fault(protectedNode)).toContain('is protected');

      const m = await nodeIn('available', { maintenance: true });
      const refused = await provision(m.uuid, { target: 'active' });
      expect(refused.status).toBe(400);
      expect(fault(refused)).toContain("because it's in maintenance mode");
    });

    it.each([
      ['active', 'available', {}, 'provisioning'],
      ['rebuild', 'active', {}, 'provisioning'],
      ['provide', 'manageable', {}, 'providing'],
      ['clean', 'manageable', { clean_steps: [{ interface: 'deploy', step: 'erase_devices' }] }, 'cleaning'],
      ['rescue', 'active', { rescue_password: 'pw' }, 'rescuing'],
      ['unrescue', 'rescue', {}, 'unrescuing'],
      ['service', 'active', { service_steps: [{ interface: 'deploy', step: 'x' }] }, 'service'],
    ])('refuses "%s" on a node in maintenance as Ironic does, changing nothing', async (target, state, args, operation) => {
      const n = await nodeIn(state, { maintenance: true, maintenance_reason: 'clean failure' });
      const r = await provision(n.uuid, { target, ...args }, '1.87');
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body.error_message).faultcode).toBe('Client');
      expect(fault(r)).toBe(`The ${operation} operation can't be performed on node ${n.uuid} because it's in maintenance mode.`);
      expect((await findNode(h.t.db.knex, n.uuid))!).toMatchObject({ provision_state: state, maintenance: true, driver_internal_info: {}, instance_info: {} });
    });

    it('accepts in maintenance the verbs Ironic accepts there (manage, inspect, undeploy, abort)', async () => {
      for (const [target, state, next] of [['manage', 'enroll', 'verifying'], ['manage', 'clean failed', 'manageable'], ['inspect', 'manageable', 'inspecting'], ['deleted', 'active', 'deleting'], ['abort', 'clean wait', 'clean failed']]) {
        const n = await nodeIn(state, { maintenance: true });
        expect((await provision(n.uuid, { target }, '1.87')).status).toBe(202);
        expect((await findNode(h.t.db.knex, n.uuid))!.provision_state).toBe(next);
      }
    });

    it('starts manual cleaning towards manageable with the steps stored', async () => {
      const n = await nodeIn('manageable');
      const steps = [{ interface: 'deploy', step: 'erase_devices_metadata' }];
      expect((await provision(n.uuid, { target: 'clean', clean_steps: steps, disable_ramdisk: false })).status).toBe(202);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      expect(node).toMatchObject({ provision_state: 'cleaning', target_provision_state: 'manageable' });
      expect(node.provision_request).toEqual({ steps, disable_ramdisk: false });
    });

    it('aborts a wait state to its failure state and asks the conductor to stop', async () => {
      const n = await nodeIn('clean wait', { target_provision_state: 'available' });
      expect((await provision(n.uuid, { target: 'abort' })).status).toBe(202);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      expect(node).toMatchObject({ provision_state: 'clean failed', target_provision_state: 'available' });
      expect(node.last_error).toContain('Aborted by user');
      const tasks = await pendingTasks(h.t.db.knex, [node.id]);
      expect(tasks.map((t) => [t.kind, t.args])).toEqual([['abort', { from_state: 'clean wait' }]]);
      const inspecting = await nodeIn('inspect wait');
      expect((await provision(inspecting.uuid, { target: 'abort' }, '1.40')).status).toBe(406);
      expect((await provision(inspecting.uuid, { target: 'abort' }, '1.41')).status).toBe(202);
      const active = await nodeIn('active');
      expect((await provision(active.uuid, { target: 'abort' })).status).toBe(400);
    });
  });

  describe('power', () => {
    const power = (id: string, body: unknown, version?: string) => h.call('PUT', `/v1/nodes/${id}/states/power`, body, version);

    it('records the target power state and the exact request', async () => {
      const n = await createNode(h);
      const r = await power(n.uuid, { target: 'soft rebooting', timeout: 30 });
      expect(r.status).toBe(202);
      expect(r.raw).toBe('');
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      expect(node.target_power_state).toBe('power on');
      expect(node.power_request).toEqual({ target: 'soft rebooting', timeout: 30 });
      const again = await power(n.uuid, { target: 'power off' });
      expect(again.status).toBe(409);
    });

    it('refuses bad targets, too-new ones, and power changes while cleaning', async () => {
      const n = await createNode(h);
      expect((await power(n.uuid, { target: 'power sideways' })).status).toBe(400);
      expect((await power(n.uuid, { target: 'soft power off' }, '1.26')).status).toBe(406);
      expect((await power(n.uuid, { target: 'power on', timeout: 0 })).status).toBe(400);
      expect((await power(n.uuid, { target: 'power on', timeout: 'soon' })).status).toBe(400);
      const cleaning = await nodeIn('cleaning');
      const r = await power(cleaning.uuid, { target: 'power off' });
      expect(r.status).toBe(400);
      expect(fault(r)).toContain('while it is in state "cleaning"');
      expect((await power('missing-node', { target: 'power on' })).status).toBe(404);
    });
  });

  describe('maintenance, states, raid and validate', () => {
    it('sets and unsets maintenance with 202', async () => {
      const n = await createNode(h);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/maintenance`, { reason: 'disk swap' })).status).toBe(202);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).body).toMatchObject({ maintenance: true, maintenance_reason: 'disk swap' });
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      await updateNode(h.t.db.knex, node.id, { fault: 'power failure' });
      expect((await h.call('DELETE', `/v1/nodes/${n.uuid}/maintenance`)).status).toBe(202);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).body).toMatchObject({ maintenance: false, maintenance_reason: null, fault: null });
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/maintenance`)).status).toBe(202);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/maintenance`, { reason: 5 })).status).toBe(400);
    });

    it('stores the target RAID configuration', async () => {
      const n = await createNode(h);
      const config = { logical_disks: [{ size_gb: 100, raid_level: '1', is_root_volume: true }] };
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/raid`, config)).status).toBe(204);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/states`)).body.target_raid_config).toEqual(config);
    });

    it('validates each interface without a BMC and reports failures per interface', async () => {
      const n = await createNode(h, { driver_info: { fake_fail: 'validate' }, raid_interface: 'fake' });
      const r = await h.call('GET', `/v1/nodes/${n.uuid}/validate`);
      expect(r.status).toBe(200);
      expect(r.body.power).toEqual({ result: false, reason: 'Injected validation failure (driver_info.fake_fail contains "validate")' });
      expect(r.body.network).toEqual({ result: true, reason: null });
      expect(r.body.console.result).toBe(false);
      expect(r.body.console.reason).toContain('does not support console');
      const ok = await createNode(h);
      const good = await h.call('GET', `/v1/nodes/${ok.uuid}/validate`);
      expect(good.body.power).toEqual({ result: true, reason: null });
      expect(good.body.deploy).toEqual({ result: true, reason: null });
    });

    it('answers 503 when no conductor takes a BMC call in time', async () => {
      const n = await createNode(h);
      const r = await h.call('GET', `/v1/nodes/${n.uuid}/management/boot_device`);
      expect(r.status).toBe(503);
      expect(fault(r)).toContain('No conductor answered');
    });
  });

  describe('with a conductor', () => {
    // Its own database: the nodes the tests above left in working states would be its backlog.
    let hc: ApiHarness;
    let conductor: Conductor;
    let call: ApiHarness['call'];
    beforeAll(async () => {
      hc = await startHarness(backend, { taskTimeoutMs: 60_000, conductorRow: false });
      call = hc.call;
      conductor = new Conductor({ db: hc.t.db, config: hc.config, logger: silentLogger });
      await conductor.start();
    });
    afterAll(async () => {
      await conductor.stop();
      await hc.close();
    });

    it('sets and reads the boot device through the conductor', async () => {
      const n = await createNode(hc, { name: `boot-${backend}` });
      expect((await call('GET', `/v1/nodes/${n.uuid}/management/boot_device`)).body).toEqual({ boot_device: 'pxe', persistent: false });
      const put = await call('PUT', `/v1/nodes/${n.uuid}/management/boot_device`, { boot_device: 'pxe', persistent: true });
      expect(put.status).toBe(204);
      const get = await call('GET', `/v1/nodes/${n.uuid}/management/boot_device`);
      expect(get.body).toEqual({ boot_device: 'pxe', persistent: true });
      const supported = await call('GET', `/v1/nodes/${n.uuid}/management/boot_device/supported`);
      expect(supported.body.supported_boot_devices).toContain('disk');
      const bad = await call('PUT', `/v1/nodes/${n.uuid}/management/boot_device`, { boot_device: 'floppy' });
      expect(bad.status).toBe(400);
    });
  });
});
