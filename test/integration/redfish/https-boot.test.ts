// The redfish-https boot interface (Redfish UEFI HTTP boot) against the simulator: the deploy ISO
// booted once over UEFI HTTP from Boot.HttpBootUri, a live ISO instance persistently, a disk
// instance from Hdd; read back with python3-sushy. And a BMO redfish-uefihttp:// host's node
// create, which names this interface, answers 201.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedOperation } from '../../../common/errors.ts';
import { getHardwareType, getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { redfishContext } from './context.ts';
import { mockup } from './mockups.ts';
import { startOobHarness, sushy, type OobHarness } from './oob-harness.ts';

const DEPLOY_ISO = 'http://127.0.0.1:9/deploy.iso';
const LIVE_ISO = 'https://images.example/live.iso';

describe('redfish-https boot against the simulator', () => {
  let sim: RedfishSimulator;
  let info: Record<string, unknown>;
  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 2, auth: { username: 'admin', password: 'pw' }, powerDelayMs: 0 });
    info = { redfish_address: sim.url, redfish_system_id: sim.systemIds[1], redfish_username: 'admin', redfish_password: 'pw', deploy_iso: DEPLOY_ISO };
  });
  afterAll(async () => {
    await closeAllClients();
    await sim.close();
  });

  const readBack = () => sushy<{ allowed: string[]; target: string | null; enabled: string | null; http_boot_uri: string | null }>('sushy_boot.py', sim, `/redfish/v1/Systems/${sim.systemIds[1]}`);

  it('is a boot interface of the redfish hardware type', () => {
    expect(getHardwareType('redfish').interfaces.boot).toContain('redfish-https');
  });

  it('boots the deploy ISO once over UEFI HTTP, a live ISO instance persistently, a disk instance from Hdd', async () => {
    const before = await readBack();
    expect(before.allowed).toContain('UefiHttp');
    expect(before.http_boot_uri).toBeNull();

    const ctx = redfishContext('redfish', info);
    const boot = getImplementation('boot', 'redfish-https');
    boot.validate(ctx.node, []);
    await boot.prepareRamdisk(ctx, 'deploy');
    expect(await readBack()).toMatchObject({ target: 'UefiHttp', enabled: 'Once', http_boot_uri: DEPLOY_ISO });
    expect(sim.machines[1].getBootOverride()).toMatchObject({ device: 'http', persistent: false, httpBootUri: DEPLOY_ISO });
    expect(ctx.node.driver_internal_info.boot).toEqual({ purpose: 'deploy', via: 'uefi-http', image: DEPLOY_ISO });
    // Nothing is mounted and nothing is left for the netboot role to serve.
    expect(sim.machines[1].getVirtualMedia().inserted).toBe(false);
    expect(ctx.bootRecords).toEqual([]);
    await boot.cleanUpRamdisk(ctx);
    expect(ctx.node.driver_internal_info.boot).toBeUndefined();

    await boot.prepareInstance(ctx);
    expect(await readBack()).toMatchObject({ target: 'Hdd', enabled: 'Continuous' });

    const live = redfishContext('redfish', info, { instance_info: { boot_iso: LIVE_ISO } });
    await boot.prepareInstance(live);
    expect(await readBack()).toMatchObject({ target: 'UefiHttp', enabled: 'Continuous', http_boot_uri: LIVE_ISO });
  });

  it('refuses a deploy ISO that is no URL, and a BMC that offers no UefiHttp', async () => {
    const boot = getImplementation('boot', 'redfish-https');
    expect(() => boot.validate(redfishContext('redfish', { ...info, deploy_iso: 'deploy.iso' }).node, [])).toThrow(/driver_info\/deploy_iso of node .* must be the URL/);
    // DMTF's public rack-mount mockup: its override targets list no UefiHttp (Ironic's _validate_hardware refuses it too).
    const old = await startRedfishSimulator({ mockupDir: mockup('dmtf-public-rackmount1'), auth: { username: 'admin', password: 'pw' } });
    try {
      const ctx = redfishContext('redfish', { ...info, redfish_address: old.url, redfish_system_id: '/redfish/v1/Systems/437XR1138R2' });
      await expect(boot.prepareRamdisk(ctx, 'deploy')).rejects.toThrow(UnsupportedOperation);
      await expect(boot.prepareRamdisk(ctx, 'deploy')).rejects.toThrow(/does not offer UefiHttp boot \(BootSourceOverrideTarget allows None, Pxe, Cd/);
    } finally {
      await old.close();
    }
  });
});

describe.each(['sqlite', 'pg'] as const)('a BMO redfish-uefihttp:// host on %s', (backend) => {
  let h: OobHarness;
  beforeAll(async () => { h = await startOobHarness(backend, 'https-boot', { systems: 1, powerDelayMs: 0 }); });
  afterAll(async () => { await h?.close(); });

  it('is created with boot_interface redfish-https (201), as BMO enrolls it', async () => {
    // enrollNode's body for redfish-uefihttp: boot redfish-https, firmware and raid redfish, inspect agent, disable_power_off.
    const r = await h.call('POST', '/v1/nodes', {
      driver: 'redfish', boot_interface: 'redfish-https', firmware_interface: 'redfish', raid_interface: 'redfish', inspect_interface: 'agent',
      name: 'metal3~uefihttp-0', driver_info: { ...h.driverInfo(0), deploy_iso: DEPLOY_ISO }, disable_power_off: false,
      properties: { capabilities: 'boot_mode:uefi', cpu_arch: 'x86_64' },
    }, '1.95');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ boot_interface: 'redfish-https', firmware_interface: 'redfish', raid_interface: 'redfish', disable_power_off: false });
    const v = await h.call('GET', `/v1/nodes/${r.body.uuid}/validate`, undefined, '1.95');
    expect(v.body.boot).toEqual({ result: true, reason: null });
  });
});
