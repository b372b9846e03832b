// Injected fake-hardware failures and slow BMCs end in the right failure states with a clear
// last_error; timeouts of working and wait states, in maintenance too; what maintenance aborts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootRecordOf, setBootRecords } from '../../../db/boot-records.ts';
import { now } from '../../../db/index.ts';
import { getNodeById, updateNode, type NodeRecord } from '../../../db/nodes.ts';
import { createPort } from '../../../db/ports.ts';
import { notifyNodeWork } from '../../../db/tasks.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { fakeNode, history, requestProvision, startConductor, untilState } from './helpers.ts';

describe.each(BACKENDS)('conductor failures and timeouts on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    conductor = await startConductor(t.db, 'fail-1', {
      timeouts: { deployCallback: 2, cleanCallback: 2, inspectWait: 2, rescueCallback: 2, serviceCallback: 2, working: 1 },
    });
  });
  afterAll(async () => {
    await conductor.stop();
    await t.drop();
  });

  /** Gives the node a port that boots its ramdisk from the network, as a network boot interface would; returns the MAC. */
  let macs = 0;
  async function netbooting(node: NodeRecord): Promise<string> {
    const mac = `52:54:00:fa:00:${(++macs).toString(16).padStart(2, '0')}`;
    const port = await createPort(t.db.knex, { address: mac, node_id: node.id });
    await setBootRecords(t.db.knex, node, [{ kind: 'ramdisk', mac, portId: port.id, purpose: 'deploy', kernel: null, initrd: null, kernelArgs: '', ipxeScript: null, bootFile: null, expiresAt: null }]);
    return mac;
  }

  it.each([
    ['deploy', 'available', 'active', 'deploy failed', 'Deploy failed: Injected failure of fake deploy (driver_info.fake_fail)'],
    ['tear_down', 'active', 'deleted', 'error', 'Tear down failed: Injected failure of fake tear down (driver_info.fake_fail)'],
    ['validate', 'enroll', 'manage', 'enroll', 'Verification failed: Injected validation failure (driver_info.fake_fail contains "validate")'],
    ['inspect', 'manageable', 'inspect', 'inspect failed', 'Inspection failed: Injected failure of fake inspect (driver_info.fake_fail)'],
  ])('a failing fake %s ends in the failure state', async (op, from, verb, failed, message) => {
    const node = await fakeNode(t.db, { provision_state: from, driver_info: { fake_fail: op } });
    const mac = await netbooting(node);
    await requestProvision(t.db, node, verb);
    const n = await untilState(t.db, node.id, failed);
    expect(n.last_error).toBe(message);
    // The failed operation's network boot ended with it.
    expect(await bootRecordOf(t.db.knex, mac)).toBeUndefined();
    expect(n.maintenance).toBe(false);
    const last = (await history(t.db, node.id)).at(-1)!;
    expect(last.severity).toBe('error');
    expect(last.event).toContain(message);
  });

  it('a failing clean puts the node in maintenance with fault "clean failure"', async () => {
    const node = await fakeNode(t.db, { provision_state: 'manageable', driver_info: { fake_fail: ['clean'] } });
    await requestProvision(t.db, node, 'provide');
    const n = await untilState(t.db, node.id, 'clean failed');
    expect(n).toMatchObject({ maintenance: true, fault: 'clean failure', target_provision_state: 'available' });
    expect(n.last_error).toBe('Cleaning failed: Injected failure of fake clean (driver_info.fake_fail)');
    expect(n.maintenance_reason).toBe(n.last_error);
  });

  it('a step slower than timeouts.working fails its node, while a fast node next to it finishes', async () => {
    const slow = await fakeNode(t.db, { provision_state: 'available', driver_info: { fake_delay: 30 } });
    const fast = await fakeNode(t.db, { provision_state: 'available' });
    await requestProvision(t.db, slow, 'active');
    await requestProvision(t.db, fast, 'active');
    await untilState(t.db, fast.id, 'active');
    expect((await getNodeById(t.db.knex, slow.id))!.provision_state).toBe('deploying');
    const n = await untilState(t.db, slow.id, 'deploy failed');
    expect(n.last_error).toBe('Deploying timed out after 1 s (conductor.timeouts.working)');
  });

  it.each([
    ['wait call-back', 'deploy failed', 'Timeout reached in "wait call-back" after 2 s waiting for the deploy agent to call back (conductor.timeouts.deployCallback)'],
    ['clean wait', 'clean failed', 'Timeout reached in "clean wait" after 2 s waiting for the agent to finish cleaning (conductor.timeouts.cleanCallback)'],
    ['rescue wait', 'rescue failed', 'Timeout reached in "rescue wait" after 2 s waiting for the rescue ramdisk to call back (conductor.timeouts.rescueCallback)'],
    ['service wait', 'service failed', 'Timeout reached in "service wait" after 2 s waiting for the agent to finish servicing (conductor.timeouts.serviceCallback)'],
  ])('a node in "%s" for too long goes to "%s"', async (state, failed, message) => {
    const fresh = await fakeNode(t.db, { provision_state: state, provision_updated_at: now() });
    const freshMac = await netbooting(fresh);
    // The old node boots its ramdisk before it is made old, so the timeout cannot come first.
    const booted = await fakeNode(t.db, { provision_state: 'manageable' });
    const oldMac = await netbooting(booted);
    const old = (await updateNode(t.db.knex, booted.id, { provision_state: state, provision_updated_at: now() - 3000 }))!;
    const n = await untilState(t.db, old.id, failed);
    expect(n.last_error).toBe(message);
    expect((await history(t.db, old.id)).at(-1)).toMatchObject({ severity: 'error', event: `${message} ("${state}" -> "${failed}")` });
    expect((await getNodeById(t.db.knex, fresh.id))!.provision_state).toBe(state);
    expect(await bootRecordOf(t.db.knex, oldMac)).toBeUndefined();
    expect(await bootRecordOf(t.db.knex, freshMac)).toMatchObject({ mac: freshMac, nodeId: fresh.id, nodeUuid: fresh.uuid });
  });

  it('times out "inspect wait" from inspection_started_at', async () => {
    const node = await fakeNode(t.db, { provision_state: 'inspect wait', provision_updated_at: now(), inspection_started_at: now() - 5000 });
    const n = await untilState(t.db, node.id, 'inspect failed');
    expect(n.last_error).toMatch(/^Timeout reached in "inspect wait" after 2 s waiting for the ramdisk to send inspection data/);
  });

  it('times out a waiting node in maintenance too, never one locked by someone', async () => {
    const maint = await fakeNode(t.db, { provision_state: 'wait call-back', provision_updated_at: now() - 10_000, maintenance: true });
    const locked = await fakeNode(t.db, { provision_state: 'wait call-back', provision_updated_at: now() - 10_000, reservation: 'someone-else' });
    const n = await untilState(t.db, maint.id, 'deploy failed');
    expect(n).toMatchObject({ maintenance: true, last_error: 'Timeout reached in "wait call-back" after 2 s waiting for the deploy agent to call back (conductor.timeouts.deployCallback)' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await getNodeById(t.db.knex, locked.id))!.provision_state).toBe('wait call-back');
  });

  // Nodes left in a working or wait state with maintenance on, as an API that accepted "provide"
  // on a node in maintenance left them: each reaches a stable or failure state, and says why.
  it.each([
    ['cleaning', 'clean failed', 'Cleaning aborted as node is in maintenance mode'],
    ['deploying', 'deploy failed', 'Deploy aborted as node is in maintenance mode'],
    ['rescuing', 'rescue failed', 'Rescue aborted as node is in maintenance mode'],
    ['clean wait', 'clean failed', 'Timeout reached in "clean wait" after 2 s waiting for the agent to finish cleaning (conductor.timeouts.cleanCallback)'],
    ['verifying', 'manageable', null],
    ['inspecting', 'manageable', null],
  ])('a node wedged in "%s" with maintenance on is recovered to "%s"', async (state, end, message) => {
    const node = await fakeNode(t.db, { provision_state: state, target_provision_state: 'available', provision_updated_at: now() - 60_000, maintenance: true, maintenance_reason: 'clean failure' });
    await notifyNodeWork(t.db, node);
    const n = await untilState(t.db, node.id, end);
    expect(n).toMatchObject({ maintenance: true, last_error: message });
    if (message) expect((await history(t.db, node.id)).at(-1)).toMatchObject({ severity: 'error', event: `${message} ("${state}" -> "${end}")` });
  });

  it('runs an undeploy in maintenance, then aborts the cleaning that follows', async () => {
    const node = await fakeNode(t.db, { provision_state: 'active', maintenance: true, maintenance_reason: 'fan' });
    await requestProvision(t.db, node, 'deleted');
    const n = await untilState(t.db, node.id, 'clean failed');
    expect(n).toMatchObject({ maintenance: true, fault: 'clean failure', last_error: 'Cleaning aborted as node is in maintenance mode' });
    expect((await history(t.db, node.id)).map((h) => h.event)).toEqual([
      'Instance torn down, cleaning follows: "deleting" -> "cleaning"',
      'Cleaning aborted as node is in maintenance mode ("cleaning" -> "clean failed")',
    ]);
  });
});
