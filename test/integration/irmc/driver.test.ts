// The irmc driver against the Redfish simulator's iRMC flavours (S6: standard virtual media beside
// the OEM; S4: the remote image mount only), and over IPMI against the IPMI simulator: power with
// POST settling, boot device through the OEM BootConfig, boot mode, secure boot, inspection with the
// OEM inventory, virtual-media boot both ways, the BIOS through iRMC's settings task, and errors
// that name the iRMC.
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { makeMachines, startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { redfishContext } from '../redfish/context.ts';

const AUTH = { username: 'admin', password: 's3cret' };

describe('irmc driver against the irmc (iRMC S6) simulator', () => {
  let sim: RedfishSimulator;
  let info: Record<string, unknown>;
  const ctx = () => redfishContext('irmc', info, { bios_interface: 'irmc' });
  const machine = () => sim.machines[0];

  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 1, perPort: true, flavor: 'irmc', auth: AUTH, powerDelayMs: 20, postMs: 150, taskMs: 30 });
    info = { irmc_address: sim.url, irmc_username: AUTH.username, irmc_password: AUTH.password, irmc_client_timeout: 10, deploy_iso: 'http://127.0.0.1:9/deploy.iso' };
  });
  afterAll(async () => {
    await closeAllClients();
    await sim.close();
  });

  it('serves Fujitsu\'s layout: Systems/0, Managers/iRMC, Oem.ts_fujitsu, reset types that follow the power state', async () => {
    const http = axios.create({ baseURL: sim.url, auth: AUTH, validateStatus: () => true });
    expect((await http.get('/redfish/v1')).data).toMatchObject({ Vendor: 'Fujitsu' });
    const system = (await http.get('/redfish/v1/Systems/0')).data;
    expect(system.Oem.ts_fujitsu.MainBoard).toMatchObject({ Manufacturer: 'FUJITSU' });
    expect(system.Actions['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues']).toEqual(['On']);
    expect((await http.get('/redfish/v1/Managers/iRMC')).data).toMatchObject({ Model: 'iRMC S6' });
    // OEM PATCHes want the bare ETag iRMC writes: the quoted form is refused, as on a real iRMC.
    const config = (await http.get('/redfish/v1/Systems/0/Oem/ts_fujitsu/BootConfig')).data;
    expect(config['@odata.etag']).toMatch(/^\d+$/);
    expect((await http.patch('/redfish/v1/Systems/0/Oem/ts_fujitsu/BootConfig', { BootDevice: 'Pxe' }, { headers: { 'If-Match': `"${config['@odata.etag']}"` } })).status).toBe(412);
    expect((await http.patch('/redfish/v1/Systems/0/Oem/ts_fujitsu/BootConfig', { BootDevice: 'Pxe' })).status).toBe(428);
  });

  it('powers on (waiting out BIOS POST), reboots and powers off', async () => {
    const c = ctx();
    const power = getImplementation('power', 'irmc');
    power.validate(c.node, []);
    expect(await power.getPowerState(c)).toBe('power off');
    await power.setPowerState(c, 'power on', 10);
    // Settled: the iRMC no longer reports POST once the power interface returns.
    const bios = (await axios.get(`${sim.url}/redfish/v1/Systems/0/Bios`, { auth: AUTH })).data;
    expect(bios.Oem.ts_fujitsu.IsBiosInPostPhase).toBe(false);
    await power.reboot(c, false, 10);
    expect(await machine().powerState()).toBe('on');
    await power.setPowerState(c, 'power off', 10);
    expect(await machine().powerState()).toBe('off');
  });

  it('sets the boot device through the OEM BootConfig, once or persistently, and the boot mode and secure boot', async () => {
    const c = ctx();
    const mgmt = getImplementation('management', 'irmc');
    expect(await mgmt.supportedBootDevices(c)).toEqual(expect.arrayContaining(['pxe', 'disk', 'cdrom', 'bios']));
    await mgmt.setBootDevice(c, 'pxe', true);
    expect(machine().getBootOverride()).toMatchObject({ device: 'pxe', persistent: true });
    expect(await mgmt.getBootDevice(c)).toEqual({ boot_device: 'pxe', persistent: true });
    await mgmt.setBootDevice(c, 'disk', false);
    expect(machine().getBootOverride()).toMatchObject({ device: 'disk', persistent: false });
    await expect(mgmt.setBootDevice(c, 'uefi http', false)).rejects.toThrow(/iRMC .* BootConfig/);
    // Powered on behind Anvil's back: BootConfig is refused during POST (409), and the change waits POST out.
    await machine().power('on');
    await mgmt.setBootDevice(c, 'cdrom', true);
    expect(machine().getBootOverride()).toMatchObject({ device: 'cdrom', persistent: true });
    await machine().power('off');
    await mgmt.setBootMode!(c, 'uefi');
    expect(await mgmt.getBootMode!(c)).toBe('uefi');
    await mgmt.setSecureBoot!(c, true);
    expect(c.node.secure_boot).toBe(true);
  });

  it('inspects: the standard inventory with Ironic\'s irmc capabilities and the OEM mainboard and firmware', async () => {
    const c = ctx();
    const outcome = await getImplementation('inspect', 'irmc').inspect(c);
    expect(outcome.outcome).toBe('done');
    if (outcome.outcome !== 'done') return;
    const hw = machine().hardware;
    expect(outcome.result.properties).toMatchObject({ cpus: hw.cpus, memory_mb: hw.memoryMb, cpu_arch: 'x86_64' });
    expect(String(outcome.result.properties!.capabilities)).toMatch(/server_model:[^,]+/);
    expect(String(outcome.result.properties!.capabilities)).toContain('irmc_firmware_version:3.03S');
    expect(String(outcome.result.properties!.capabilities)).toContain('rom_firmware_version:');
    expect(outcome.result.plugin_data!.irmc).toMatchObject({ mainboard: { Manufacturer: 'FUJITSU' }, firmware: { BMCFirmware: '3.03S' } });
    expect(outcome.result.ports!.map((p) => p.address).sort()).toEqual(hw.nics.map((n) => n.mac).sort());
  });

  it('boots the deploy ISO from the standard virtual CD under Managers/iRMC, once, through BootConfig', async () => {
    const c = ctx();
    const boot = getImplementation('boot', 'irmc-virtual-media');
    boot.validate(c.node, []);
    await boot.prepareRamdisk!(c, 'deploy');
    expect(machine().getVirtualMedia()).toEqual({ image: 'http://127.0.0.1:9/deploy.iso', inserted: true });
    expect(machine().getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });
    await boot.cleanUpRamdisk!(c);
    expect(machine().getVirtualMedia()).toEqual({ image: null, inserted: false });
  });

  it('reads the BIOS settings and applies one through iRMC\'s settings task and a reboot', async () => {
    const c = ctx();
    const bios = getImplementation('bios', 'irmc');
    await bios.cacheSettings!(c);
    expect(c.biosSettings.find((s) => s.name === 'ProcTurboMode')?.value).toBe('Enabled');
    const apply = bios.steps!.find((s) => s.kind === 'clean' && s.step === 'apply_configuration')!;
    await apply.run!(c, { settings: [{ name: 'ProcTurboMode', value: 'Disabled' }] });
    expect(c.biosSettings.find((s) => s.name === 'ProcTurboMode')?.value).toBe('Disabled');
  });

  it('a settings task that fails: the error names the iRMC and says what the task said', async () => {
    sim.faults.set('0', { taskFails: 'BIOS parameter change rejected by the BIOS' });
    try {
      const apply = getImplementation('bios', 'irmc').steps!.find((s) => s.kind === 'clean' && s.step === 'apply_configuration')!;
      await expect(apply.run!(ctx(), { settings: [{ name: 'ProcTurboMode', value: 'Enabled' }] }))
        .rejects.toThrow(new RegExp(`^iRMC ${sim.url.replace(/[.]/g, '\\.')} of node .*Exception: BIOS parameter change rejected by the BIOS`));
    } finally {
      sim.faults.clear('0');
    }
  });

  it('wrong credentials and an iRMC that is down: errors name the iRMC and the irmc_* keys', async () => {
    const power = getImplementation('power', 'irmc');
    const wrong = redfishContext('irmc', { ...info, irmc_password: 'nope' });
    await expect(power.getPowerState(wrong)).rejects.toThrow(/^iRMC http:\/\/127\.0\.0\.1:\d+ of node .*HTTP 401: the BMC refused the credentials \(check irmc_username and irmc_password\)/);
    const down = redfishContext('irmc', { ...info, irmc_address: 'http://127.0.0.1:9', irmc_client_timeout: 2 });
    await expect(power.getPowerState(down)).rejects.toThrow(/^iRMC http:\/\/127\.0\.0\.1:9 of node .*: Cannot reach the BMC at http:\/\/127\.0\.0\.1:9 .*connection refused/);
  });
});

describe('irmc driver against the irmc-s4 simulator: the remote image mount', () => {
  let sim: RedfishSimulator;
  let info: Record<string, unknown>;

  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 1, perPort: true, flavor: 'irmc-s4', auth: AUTH });
    info = { irmc_address: sim.url, irmc_username: AUTH.username, irmc_password: AUTH.password, deploy_iso: 'nfs://192.0.2.10/srv/images/deploy.iso' };
  });
  afterAll(async () => {
    await closeAllClients();
    await sim.close();
  });

  it('mounts an NFS image through the OEM VirtualMedia and ConnectCD, and disconnects it', async () => {
    const c = redfishContext('irmc', info);
    const boot = getImplementation('boot', 'irmc-virtual-media');
    await boot.prepareRamdisk!(c, 'deploy');
    expect(sim.machines[0].getVirtualMedia()).toEqual({ image: 'nfs://192.0.2.10/srv/images/deploy.iso', inserted: true });
    expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });
    const oem = (await axios.get(`${sim.url}/redfish/v1/Systems/0/Oem/ts_fujitsu/VirtualMedia`, { auth: AUTH })).data;
    expect(oem).toMatchObject({ RemoteMountEnabled: true, CDImage: { Server: '192.0.2.10', ShareName: '/srv/images', ImageName: 'deploy.iso', ShareType: 'NFS', MaximumNumberOfDevices: 1 } });
    await boot.cleanUpRamdisk!(c);
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
  });

  it('refuses an http image with a message that names the iRMC and the shares it takes', async () => {
    const c = redfishContext('irmc', { ...info, deploy_iso: 'http://127.0.0.1:9/deploy.iso' });
    await expect(getImplementation('boot', 'irmc-virtual-media').prepareRamdisk!(c, 'deploy')).rejects.toThrow(/iRMC at http:\/\/127\.0\.0\.1:\d+ of node .* NFS or SMB share .*not http$/);
  });
});

describe('irmc driver with irmc_management_protocol=ipmi (iRMC S4 and older)', () => {
  let ipmi: IpmiSimulator;
  const machines = makeMachines(1);

  beforeAll(async () => {
    ipmi = await startIpmiSimulator({ machines, firstPort: 0, ...AUTH });
  });
  afterAll(async () => {
    await ipmi.close();
  });

  it('powers and sets the boot device over IPMI with the iRMC\'s address and credentials', async () => {
    const c = redfishContext('irmc', { irmc_address: ipmi.host, irmc_username: AUTH.username, irmc_password: AUTH.password, irmc_management_protocol: 'ipmi', irmc_ipmi_port: ipmi.ports[0] });
    const power = getImplementation('power', 'irmc');
    const mgmt = getImplementation('management', 'irmc');
    expect(await power.getPowerState(c)).toBe('power off');
    await mgmt.setBootDevice(c, 'pxe', false);
    expect(machines[0].getBootOverride()).toMatchObject({ device: 'pxe' });
    await power.setPowerState(c, 'power on', 10);
    expect(await machines[0].powerState()).toBe('on');
    await power.setPowerState(c, 'power off', 10);
    expect(await power.getPowerState(c)).toBe('power off');
    // The node keeps its own keys: no ipmi_* key was written into its driver_info.
    expect(Object.keys(c.node.driver_info).filter((k) => k.startsWith('ipmi_'))).toEqual([]);
  }, 60_000);
});
