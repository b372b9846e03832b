// The redfish and idrac-redfish bios interfaces against the Redfish simulator, through the API and
// a conductor on SQLite and PostgreSQL: verification caches the settings with their registry
// (GET /bios?detail=True, /bios/{name}), servicing an active node applies settings and a factory
// reset with the reboots they need, a refused setting fails the servicing and abort brings the node
// back to active. Debian's python3-sushy reads what the simulator holds after each step.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createNode, getNodeById, type NodeRecord } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { untilState } from '../conductor/helpers.ts';
import { startOobHarness, sushy, type OobHarness } from './oob-harness.ts';

interface SushyBios { attribute_registry: string; attributes: Record<string, unknown>; pending: Record<string, unknown>; registry: Record<string, unknown>[] | null }

const sushyBios = (h: OobHarness, system: string) => sushy<SushyBios>('sushy_bios.py', h.sim, `/redfish/v1/Systems/${system}`);

describe.each(BACKENDS)('redfish bios interfaces, API and conductor on %s', (backend) => {
  let h: OobHarness;
  beforeAll(async () => { h = await startOobHarness(backend, 'bios', { systems: 2, flavor: (_m, i) => (i === 0 ? 'generic' : 'idrac'), taskMs: 10 }); });
  afterAll(async () => { await h.close(); });
  const call: OobHarness['call'] = (...args) => h.call(...args);
  const provision: OobHarness['provision'] = (node, body) => h.provision(node, body);
  const settings = async (node: NodeRecord) => Object.fromEntries(((await call('GET', `/v1/nodes/${node.uuid}/bios`)).body.bios as { name: string; value: string }[]).map((s) => [s.name, s.value]));
  const enroll = (system: number, driver: string, bios: string) => createNode(h.t.db.knex, {
    driver, bios_interface: bios, deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll',
    driver_info: h.driverInfo(system),
  });
  const toActive = (node: NodeRecord) => h.toActive(node);
  const serviced = async (node: NodeRecord, steps: unknown[], state = 'active') => {
    await provision(node, { target: 'service', service_steps: steps });
    return untilState(h.t.db, node.id, state, 30_000);
  };

  it('caches the settings and their registry on verification and shows them as Ironic does', async () => {
    const node = await enroll(0, 'redfish', 'redfish');
    expect((await call('GET', `/v1/nodes/${node.uuid}/bios`)).body).toEqual({ bios: [] });
    await provision(node, { target: 'manage' });
    await untilState(h.t.db, node.id, 'manageable');

    const plain = (await call('GET', `/v1/nodes/${node.uuid}/bios`)).body.bios as Record<string, unknown>[];
    expect(plain.map((s) => s.name)).toEqual(['AssetTag', 'BootMode', 'LogicalProc', 'NumLock', 'ProcTurboMode', 'ProcVirtualization', 'PxeDev1VlanId', 'SriovGlobalEnable', 'SystemServiceTag']);
    expect(Object.keys(plain[0]).sort()).toEqual(['created_at', 'links', 'name', 'updated_at', 'value']);
    const detail = (await call('GET', `/v1/nodes/${node.uuid}/bios?detail=True`, undefined, '1.74')).body.bios as Record<string, unknown>[];
    const byName = Object.fromEntries(detail.map((s) => [s.name, s]));
    expect(byName.ProcTurboMode).toMatchObject({ value: 'Enabled', attribute_type: 'Enumeration', allowable_values: ['Enabled', 'Disabled'], read_only: false, reset_required: true, unique: false, lower_bound: null });
    expect(byName.PxeDev1VlanId).toMatchObject({ value: '0', attribute_type: 'Integer', lower_bound: 0, upper_bound: 4094, allowable_values: null });
    expect(byName.NumLock).toMatchObject({ value: 'True', attribute_type: 'Boolean' });
    expect(byName.AssetTag).toMatchObject({ value: '', attribute_type: 'String', min_length: 0, max_length: 63 });
    expect(byName.SystemServiceTag).toMatchObject({ read_only: true, unique: true });
    expect((await call('GET', `/v1/nodes/${node.uuid}/bios?detail=True`, undefined, '1.73')).status).toBe(406);
    expect((await call('GET', `/v1/nodes/${node.uuid}/bios?fields=name,attribute_type`, undefined, '1.74')).body.bios[0]).toEqual({ name: 'AssetTag', attribute_type: 'String' });

    const one = await call('GET', `/v1/nodes/${node.uuid}/bios/ProcTurboMode`, undefined, '1.74');
    expect(one.body).toEqual({ ProcTurboMode: expect.objectContaining({ name: 'ProcTurboMode', value: 'Enabled', allowable_values: ['Enabled', 'Disabled'] }) });
    const missing = await call('GET', `/v1/nodes/${node.uuid}/bios/NoSuchSetting`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.error_message).faultstring).toContain('NoSuchSetting');

    // sushy (Ironic's library) finds the same registry through the simulator's Registries collection.
    const seen = await sushyBios(h, h.sim.systemIds[0]);
    expect(seen.attribute_registry).toBe('BiosAttributeRegistry.v1_0_0');
    expect(seen.registry?.find((a) => a.name === 'PxeDev1VlanId')).toMatchObject({ type: 'Integer', lower_bound: 0, upper_bound: 4094, read_only: false });
  });

  it('services an active node: apply_configuration and factory_reset with reboots, a refused setting fails, abort goes back to active', async () => {
    const node = await enroll(0, 'redfish', 'redfish');
    await toActive(node);
    const apply = { interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'ProcTurboMode', value: 'Disabled' }, { name: 'PxeDev1VlanId', value: '42' }, { name: 'NumLock', value: 'false' }] } };
    let r = await serviced(node, [apply]);
    expect(r.last_error).toBeNull();
    expect(r.service_step).toBeNull();
    expect(await settings(node)).toMatchObject({ ProcTurboMode: 'Disabled', PxeDev1VlanId: '42', NumLock: 'False' });
    let seen = await sushyBios(h, h.sim.systemIds[0]);
    expect(seen.attributes).toMatchObject({ ProcTurboMode: 'Disabled', PxeDev1VlanId: 42, NumLock: false });
    expect(seen.pending).toEqual({});
    expect(await h.sim.machines[0].powerState()).toBe('on');

    r = await serviced(node, [{ interface: 'bios', step: 'factory_reset' }]);
    expect(r.last_error).toBeNull();
    expect(await settings(node)).toMatchObject({ ProcTurboMode: 'Enabled', PxeDev1VlanId: '0', NumLock: 'True' });
    seen = await sushyBios(h, h.sim.systemIds[0]);
    expect(seen.attributes).toMatchObject({ ProcTurboMode: 'Enabled', PxeDev1VlanId: 0 });

    r = await serviced(node, [{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'SystemServiceTag', value: 'ABCDEFG' }] } }], 'service failed');
    expect(r.last_error).toMatch(/SystemServiceTag is read-only/);
    r = await serviced(node, [{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'PxeDev1VlanId', value: '5000' }] } }], 'service failed');
    expect(r.last_error).toMatch(/PxeDev1VlanId must be between 0 and 4094/);
    r = await serviced(node, [{ interface: 'bios', step: 'apply_configuration', args: {} }], 'service failed');
    expect(r.last_error).toMatch(/needs argument "settings"/);
    r = await serviced(node, [{ interface: 'deploy', step: 'erase_devices' }], 'service failed');
    expect(r.last_error).toMatch(/deploy\.erase_devices is not supported/);
    await provision(node, { target: 'abort' });
    r = await untilState(h.t.db, node.id, 'active');
    expect((await sushyBios(h, h.sim.systemIds[0])).pending).toEqual({});
  });

  it('applies settings on an iDRAC through its configuration job', async () => {
    const node = await enroll(1, 'idrac', 'idrac-redfish');
    await toActive(node);
    const r = await serviced(node, [{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'SriovGlobalEnable', value: 'Enabled' }, { name: 'BootMode', value: 'Bios' }] } }]);
    expect(r.last_error).toBeNull();
    expect(await settings(node)).toMatchObject({ SriovGlobalEnable: 'Enabled', BootMode: 'Bios' });
    expect(h.sim.machines[1].getBootOverride().mode).toBe('bios');
    const jobs = await fetch(`${h.sim.url}/redfish/v1/Managers/${h.sim.systemIds[1]}/Jobs`, { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } }).then((res) => res.json()) as { Members: { JobState: string }[] };
    expect(jobs.Members.map((j) => j.JobState)).toEqual(['Completed']);
    expect((await getNodeById(h.t.db.knex, node.id))!.provision_state).toBe('active');
  });
});
