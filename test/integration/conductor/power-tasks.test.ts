// Power changes, the power-state sync, and node tasks (boot device, heart-beats, inspection data, abort).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprint } from '../../../common/secrets.ts';
import { now } from '../../../db/index.ts';
import { getNodeById } from '../../../db/nodes.ts';
import { enqueueTask, waitForTask } from '../../../db/tasks.ts';
import { fakeDeploy, fakePower } from '../../../drivers/fake/index.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, fakeNode, history, requestPower, startConductor, untilState } from './helpers.ts';

describe.each(BACKENDS)('power and node tasks on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    conductor = await startConductor(t.db, 'power-1', { powerSyncInterval: 0.2, powerSyncMaxRetries: 2, powerStateChangeTimeout: 1 });
  });
  afterAll(async () => {
    await conductor.stop();
    await t.drop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function untilPowerSettled(id: number) {
    return eventually(async () => {
      const n = await getNodeById(t.db.knex, id);
      return n && n.target_power_state === null && n.reservation === null ? n : undefined;
    }, 10_000, 'power change');
  }

  it.each([
    ['power on', 'power off', 'power on'],
    ['power off', 'power on', 'power off'],
    ['rebooting', 'power off', 'power on'],
    ['soft power off', 'power on', 'power off'],
  ])('carries out "%s"', async (target, before, after) => {
    const node = await fakeNode(t.db, { provision_state: 'manageable', power_state: before });
    await requestPower(t.db, node, target);
    const n = await untilPowerSettled(node.id);
    expect(n.power_state).toBe(after);
    expect(n.last_error).toBeNull();
    expect(n.power_request).toBeNull();
    expect((await history(t.db, node.id)).at(-1)).toMatchObject({ event: `Power state set to "${after}" (requested: ${target})`, event_type: 'power' });
  });

  it('records a failing power change in last_error and clears the request', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable', power_state: 'power off', driver_info: { fake_fail: 'power' } });
    await requestPower(t.db, node, 'power on');
    const n = await untilPowerSettled(node.id);
    expect(n.power_state).toBe('power off');
    expect(n.last_error).toBe('Failed to change power state to "power on": Injected failure of fake power (driver_info.fake_fail)');
    expect(n.power_request).toBeNull();
  });

  it('fails a power change the BMC does not finish within the timeout', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable', power_state: 'power off', driver_info: { fake_delay: 60 } });
    await requestPower(t.db, node, 'power on', 1);
    const n = await untilPowerSettled(node.id);
    expect(n.last_error).toBe('Failed to change power state to "power on": the power change did not finish within 1 s');
  });

  it('syncs power_state with what the BMC reports, and leaves nodes in maintenance alone', async () => {
    const reported = new Map<string, 'power on' | 'power off'>();
    vi.spyOn(fakePower, 'getPowerState').mockImplementation(async (ctx) => reported.get(ctx.node.uuid) ?? (ctx.node.power_state as 'power on'));
    const node = await fakeNode(t.db, { provision_state: 'active', power_state: 'power on' });
    const maint = await fakeNode(t.db, { provision_state: 'active', power_state: 'power on', maintenance: true });
    reported.set(node.uuid, 'power off');
    reported.set(maint.uuid, 'power off');
    await eventually(async () => (await getNodeById(t.db.knex, node.id))!.power_state === 'power off', 10_000, 'power sync');
    expect((await history(t.db, node.id)).at(-1)).toMatchObject({ event: 'Power state changed outside Anvil: was "power on", now "power off"', severity: 'warning' });
    expect((await getNodeById(t.db.knex, maint.id))!.power_state).toBe('power on');
  });

  it('puts a node whose power state cannot be read in maintenance with fault "power failure"', async () => {
    const broken = new Set<string>();
    vi.spyOn(fakePower, 'getPowerState').mockImplementation(async (ctx) => {
      if (broken.has(ctx.node.uuid)) throw new Error('BMC answered 500');
      return ctx.node.power_state as 'power on';
    });
    const node = await fakeNode(t.db, { provision_state: 'active', power_state: 'power on' });
    broken.add(node.uuid);
    const n = await eventually(async () => {
      const r = await getNodeById(t.db.knex, node.id);
      return r?.maintenance ? r : undefined;
    }, 10_000, 'maintenance');
    expect(n.fault).toBe('power failure');
    expect(n.maintenance_reason).toBe('Power state sync failed 2 times in a row, last: BMC answered 500');
  });

  it('answers boot device tasks, and bad ones with a 400-type error', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable' });
    let task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'set_boot_device', { boot_device: 'pxe', persistent: true })).id, 10_000);
    expect(task.status).toBe('done');
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'get_boot_device')).id, 10_000);
    expect(task.result).toEqual({ boot_device: 'pxe', persistent: true });
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'get_supported_boot_devices')).id, 10_000);
    expect(task.result).toEqual(['pxe', 'disk', 'cdrom', 'bios', 'safe']);
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'set_boot_device', { boot_device: 'floppy' })).id, 10_000);
    expect(task).toMatchObject({ status: 'failed', error: 'Invalid boot device "floppy": use one of pxe, disk, cdrom, bios, safe, wanboot, uefi http', result: { status: 400 } });
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'set_boot_mode', { target: 'uefi' })).id, 10_000);
    expect(task.status).toBe('done');
    expect((await getNodeById(t.db.knex, node.id))!.boot_mode).toBe('uefi');
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'make_coffee')).id, 10_000);
    expect(task).toMatchObject({ status: 'failed', error: 'Unknown node task "make_coffee"', result: { status: 400 } });
  });

  it('answers tasks of a node in maintenance', async () => {
    const node = await fakeNode(t.db, { provision_state: 'active', maintenance: true });
    const task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'get_boot_device')).id, 10_000);
    expect(task.status).toBe('done');
  });

  it('a heartbeat that finishes the agent\'s work moves "wait call-back" to active and "clean wait" to available', async () => {
    const deploying = await fakeNode(t.db, { provision_state: 'wait call-back', target_provision_state: 'active', provision_updated_at: now() });
    const cleaning = await fakeNode(t.db, { provision_state: 'clean wait', target_provision_state: 'available', provision_updated_at: now() });
    for (const n of [deploying, cleaning]) {
      const task = await waitForTask(t.db, (await enqueueTask(t.db, n, 'heartbeat', { callback_url: 'http://127.0.0.1:9999', agent_version: '10.0' })).id, 10_000);
      expect(task.status).toBe('done');
    }
    const d = await untilState(t.db, deploying.id, 'active');
    expect(d.driver_internal_info).toMatchObject({ agent_url: 'http://127.0.0.1:9999', agent_version: '10.0' });
    expect(typeof d.driver_internal_info.agent_last_heartbeat).toBe('number');
    expect((await history(t.db, deploying.id)).map((h) => h.event)).toEqual([
      'The agent reported the step done: "wait call-back" -> "deploying"',
      'Deploy finished: "deploying" -> "active"',
    ]);
    await untilState(t.db, cleaning.id, 'available');
  });

  it('a heartbeat that is still working leaves the node waiting; a failing one fails it', async () => {
    const spy = vi.spyOn(fakeDeploy, 'heartbeat').mockResolvedValueOnce('wait').mockRejectedValueOnce(new Error('agent says: disk not found'));
    const node = await fakeNode(t.db, { provision_state: 'wait call-back', target_provision_state: 'active', provision_updated_at: now() });
    let task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'heartbeat', { callback_url: 'http://127.0.0.1:9999' })).id, 10_000);
    expect(task.status).toBe('done');
    expect((await getNodeById(t.db.knex, node.id))!.provision_state).toBe('wait call-back');
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'heartbeat', { callback_url: 'http://127.0.0.1:9999' })).id, 10_000);
    expect(task).toMatchObject({ status: 'failed', error: 'Deploy failed: agent says: disk not found' });
    const n = await untilState(t.db, node.id, 'deploy failed');
    expect(n.last_error).toBe('Deploy failed: agent says: disk not found');
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('a heartbeat in maintenance aborts a deploy, is only recorded in inspect wait; one without callback_url is refused', async () => {
    const node = await fakeNode(t.db, { provision_state: 'wait call-back', target_provision_state: 'active', provision_updated_at: now(), maintenance: true });
    let task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'heartbeat', { callback_url: 'http://127.0.0.1:9999' })).id, 10_000);
    expect(task.status).toBe('done');
    const n = await untilState(t.db, node.id, 'deploy failed');
    expect(n).toMatchObject({ last_error: 'Deploy aborted as node is in maintenance mode', maintenance: true });
    expect(n.driver_internal_info.agent_url).toBe('http://127.0.0.1:9999');
    const inspecting = await fakeNode(t.db, { provision_state: 'inspect wait', target_provision_state: 'manageable', provision_updated_at: now(), inspection_started_at: now(), maintenance: true });
    task = await waitForTask(t.db, (await enqueueTask(t.db, inspecting, 'heartbeat', { callback_url: 'http://127.0.0.1:9999' })).id, 10_000);
    expect(task.status).toBe('done');
    expect((await getNodeById(t.db.knex, inspecting.id))!).toMatchObject({ provision_state: 'inspect wait', last_error: null });
    task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'heartbeat', {})).id, 10_000);
    expect(task).toMatchObject({ status: 'failed', error: 'A heartbeat needs a callback_url', result: { status: 400 } });
  });

  it('ignores a heartbeat queued by an agent whose ramdisk was booted again since (its token was replaced)', async () => {
    const node = await fakeNode(t.db, { provision_state: 'clean wait', target_provision_state: 'available', provision_updated_at: now(), driver_internal_info: { agent_secret_token: 'new-boot', agent_url: 'http://127.0.0.1:7001' } });
    const task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'heartbeat', { callback_url: 'http://127.0.0.1:7000', token_fingerprint: fingerprint('old-boot') })).id, 10_000);
    expect(task).toMatchObject({ status: 'failed', error: `Heartbeat from a previous boot of the agent on node ${node.uuid} (its token is no longer the node's); ignored` });
    expect((await getNodeById(t.db.knex, node.id))!).toMatchObject({ provision_state: 'clean wait', driver_internal_info: { agent_url: 'http://127.0.0.1:7001' } });
  });

  it('inspection data for an interface that takes none fails the inspection clearly', async () => {
    const node = await fakeNode(t.db, { provision_state: 'inspect wait', target_provision_state: 'manageable', provision_updated_at: now(), inspection_started_at: now() });
    const task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'continue_inspection', { data: { inventory: {} } })).id, 10_000);
    expect(task.status).toBe('failed');
    const n = await untilState(t.db, node.id, 'inspect failed');
    expect(n.last_error).toBe('Inspection failed: inspect interface "fake" does not take inspection data from a ramdisk');
    const late = await waitForTask(t.db, (await enqueueTask(t.db, node, 'continue_inspection', { data: {} })).id, 10_000);
    expect(late).toMatchObject({ status: 'failed', result: { status: 409 } });
    expect(late.error).toMatch(/inspection data is accepted only in "inspect wait"/);
  });

  it('an abort task powers the node off', async () => {
    const node = await fakeNode(t.db, { provision_state: 'deploy failed', power_state: 'power on' });
    const task = await waitForTask(t.db, (await enqueueTask(t.db, node, 'abort', { from_state: 'wait call-back' })).id, 10_000);
    expect(task.status).toBe('done');
    expect((await getNodeById(t.db.knex, node.id))!.power_state).toBe('power off');
    expect((await history(t.db, node.id)).at(-1)!.event).toBe('Aborted the operation in "wait call-back" and powered the node off');
  });
});
