// A fake node and a redfish node through manage -> inspect -> provide -> deploy (fake deploy) in
// the conductor, with the Redfish simulator as the BMC; then faults injected in the simulator end
// in clear last_error messages and the right failure states, never in a hung (locked) node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, getNodeById } from '../../../db/nodes.ts';
import { portsOfNode } from '../../../db/ports.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { startBmcFaultProxy, type BmcFaultProxy } from '../../helpers/bmc-fault-proxy.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, fakeNode, requestPower, requestProvision, startConductor, untilState } from '../conductor/helpers.ts';

describe.each(BACKENDS)('conductor with the Redfish simulator as BMC on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  let sim: RedfishSimulator;
  let proxy: BmcFaultProxy;

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    sim = await startRedfishSimulator({ systems: 4, auth: { username: 'admin', password: 'pw' }, powerDelayMs: 20 });
    proxy = await startBmcFaultProxy(sim.url);
    conductor = await startConductor(t.db, `redfish-${backend}`);
  });
  afterAll(async () => {
    await conductor.stop();
    await closeAllClients();
    await proxy.close();
    await sim.close();
    await t.drop();
  });

  const redfishNode = (system: number, extra: Record<string, unknown> = {}) => createNode(t.db.knex, {
    driver: 'redfish',
    deploy_interface: 'fake',
    boot_interface: 'fake',
    provision_state: 'enroll',
    driver_info: {
      redfish_address: sim.url,
      redfish_system_id: sim.systemIds[system],
      redfish_username: 'admin',
      redfish_password: 'pw',
      redfish_timeout: 10,
      redfish_connection_attempts: 2,
      redfish_retry_interval: 0.05,
      ...extra,
    },
  });

  it('takes a fake node and a redfish node from enroll to active', async () => {
    const fake = await fakeNode(t.db, { power_state: 'power off' });
    const node = await redfishNode(0);
    for (const n of [fake, node]) await requestProvision(t.db, n, 'manage');
    let r = await untilState(t.db, node.id, 'manageable');
    expect(r.power_state).toBe('power off');
    await untilState(t.db, fake.id, 'manageable');

    for (const n of [fake, node]) await requestProvision(t.db, n, 'inspect');
    r = await untilState(t.db, node.id, 'manageable');
    await untilState(t.db, fake.id, 'manageable');
    const hw = sim.machines[0].hardware;
    expect(r.last_error).toBeNull();
    expect(r.properties).toMatchObject({ cpus: hw.cpus, cpu_arch: 'x86_64', memory_mb: hw.memoryMb, local_gb: 99, capabilities: 'boot_mode:uefi' });
    expect(r.inspection_finished_at).not.toBeNull();
    expect((await portsOfNode(t.db.knex, node.id)).map((p) => p.address).sort()).toEqual(hw.nics.map((n) => n.mac).sort());

    for (const n of [fake, node]) await requestProvision(t.db, n, 'provide');
    await untilState(t.db, node.id, 'available');
    await untilState(t.db, fake.id, 'available');
    for (const n of [fake, node]) await requestProvision(t.db, n, 'active');
    r = await untilState(t.db, node.id, 'active');
    expect(r.last_error).toBeNull();
    await untilState(t.db, fake.id, 'active');

    await requestPower(t.db, node, 'power on');
    r = await eventually(async () => { const n = (await getNodeById(t.db.knex, node.id))!; return n.target_power_state === null && n.reservation === null ? n : undefined; });
    expect(r.power_state).toBe('power on');
    expect(await sim.machines[0].powerState()).toBe('on');
    expect(r.driver_info.redfish_password).toBe('pw');
  });

  it('ends verification against a BMC that never answers in enroll with a clear last_error', async () => {
    sim.faults.set(sim.systemIds[1], { hang: true });
    const node = await redfishNode(1, { redfish_timeout: 0.5 });
    await requestProvision(t.db, node, 'manage');
    const r = await untilState(t.db, node.id, 'enroll');
    expect(r.last_error).toMatch(/did not answer GET \/redfish\/v1\/Systems\/node-0002 within 0.5 s after 2 attempts/);
    sim.faults.clear(sim.systemIds[1]);
  });

  it('fails inspection on a BMC that answers 500, with its message', async () => {
    const node = await redfishNode(2);
    await requestProvision(t.db, node, 'manage');
    await untilState(t.db, node.id, 'manageable');
    sim.faults.set(sim.systemIds[2], { errorStatus: 500 });
    await requestProvision(t.db, node, 'inspect');
    const r = await untilState(t.db, node.id, 'inspect failed');
    expect(r.last_error).toMatch(/failed with HTTP 500: Injected fault: HTTP 500/);
    sim.faults.clear(sim.systemIds[2]);
  });

  it('reports a power change the BMC never makes, and leaves the node unlocked', async () => {
    const node = await redfishNode(3);
    await requestProvision(t.db, node, 'manage');
    await untilState(t.db, node.id, 'manageable');
    sim.faults.set(sim.systemIds[3], { powerStuck: true });
    await requestPower(t.db, node, 'power on', 1);
    const r = await eventually(async () => { const n = (await getNodeById(t.db.knex, node.id))!; return n.target_power_state === null && n.reservation === null ? n : undefined; });
    expect(r.last_error).toMatch(/Timed out after 1 s waiting for the BMC .* to report power on .*still reports power off/);
    expect(r.power_state).toBe('power off');
    expect(r.provision_state).toBe('manageable');
    sim.faults.clear(sim.systemIds[3]);
  });

  const powerOutcome = (id: number) => eventually(async () => {
    const n = (await getNodeById(t.db.knex, id))!;
    return n.target_power_state === null && n.reservation === null ? n : undefined;
  });

  it('says a power change failed because the BMC never answered (and where), not that the state was not reached', async () => {
    proxy.set({ path: new RegExp(`/Systems/${sim.systemIds[0]}$`), fault: { kind: 'hang' } });
    try {
      const node = await redfishNode(0, { redfish_address: proxy.url, redfish_timeout: 30 });
      await requestPower(t.db, node, 'power on', 1);
      const r = await powerOutcome(node.id);
      expect(r.last_error).toMatch(new RegExp(`^Failed to change power state to "power on": No answer from the BMC at ${proxy.url} to GET /redfish/v1/Systems/${sim.systemIds[0]} before the operation's time ran out: attempt 1: no answer after [12](\\.\\d)? s$`));
    } finally {
      proxy.clear();
    }
  });

  it('a BMC that answered 503 once works again on the next action, without a conductor restart', async () => {
    // Settings of its own, so that no other test's client (one per BMC and settings) has read the service root.
    const node = await redfishNode(2, { redfish_address: proxy.url, redfish_cache_ttl: 29 });
    proxy.set({ path: /^\/redfish\/v1\/?$/, fault: { kind: 'status', status: 503 } });
    await requestPower(t.db, node, 'power on', 5);
    let r = await powerOutcome(node.id);
    expect(r.last_error).toBe(`Failed to change power state to "power on": Redfish GET /redfish/v1 on ${proxy.url} failed with HTTP 503: Fault proxy: HTTP 503 for GET /redfish/v1`);
    proxy.clear();
    await requestPower(t.db, node, 'power on', 5);
    r = await powerOutcome(node.id);
    expect(r).toMatchObject({ last_error: null, power_state: 'power on' });
  });

  it('says when the BMC refuses connections, naming it', async () => {
    const node = await redfishNode(1, { redfish_address: proxy.url });
    await proxy.goDark();
    try {
      await requestPower(t.db, node, 'power on', 5);
      const r = await powerOutcome(node.id);
      expect(r.last_error).toMatch(new RegExp(`^Failed to change power state to "power on": Cannot reach the BMC at ${proxy.url} for GET /redfish/v1\\S* after 2 attempts: connection refused \\(ECONNREFUSED\\)$`));
    } finally {
      await proxy.comeBack();
    }
  });
});
