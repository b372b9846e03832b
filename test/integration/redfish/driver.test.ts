// The redfish, idrac and ilo drivers' whole surface against the simulator in every flavour:
// power, boot device and mode, secure boot, sensors, NMI, inspection, virtual media boot.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedOperation } from '../../../common/errors.ts';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { startRedfishSimulator, type Flavor, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { redfishContext } from './context.ts';

const CASES: { flavor: Flavor; driver: string; impl: string; boot: string; tls: boolean; auth: string }[] = [
  { flavor: 'generic', driver: 'redfish', impl: 'redfish', boot: 'redfish-virtual-media', tls: false, auth: 'basic' },
  { flavor: 'idrac', driver: 'idrac', impl: 'idrac-redfish', boot: 'idrac-redfish-virtual-media', tls: true, auth: 'session' },
  { flavor: 'ilo', driver: 'ilo', impl: 'ilo', boot: 'ilo-virtual-media', tls: true, auth: 'auto' },
];

describe.each(CASES)('$driver driver against the $flavor simulator', ({ flavor, driver, impl, boot, tls, auth }) => {
  let sim: RedfishSimulator;
  let dir: string;
  let info: Record<string, unknown>;

  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 3, flavor, tls, auth: { username: 'admin', password: 's3cret' }, powerDelayMs: 20, postMs: flavor === 'ilo' ? 150 : 0, taskMs: 30 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-redfish-ca-'));
    if (sim.certificate) writeFileSync(path.join(dir, 'ca.pem'), sim.certificate);
    info = {
      redfish_address: sim.url,
      redfish_system_id: sim.systemIds[1],
      redfish_username: 'admin',
      redfish_password: 's3cret',
      redfish_auth_type: auth,
      ...(tls ? { redfish_verify_ca: path.join(dir, 'ca.pem') } : {}),
      deploy_iso: 'http://127.0.0.1:9/deploy.iso',
      redfish_retry_interval: 0.05,
    };
  });
  afterAll(async () => {
    await closeAllClients();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const machine = () => sim.machines[1];

  it('powers the system on, reboots it hard and soft, and powers it off', async () => {
    const ctx = redfishContext(driver, info);
    const power = getImplementation('power', impl);
    power.validate(ctx.node, []);
    expect(await power.getPowerState(ctx)).toBe('power off');
    await power.setPowerState(ctx, 'power on', 5);
    expect(await machine().powerState()).toBe('on');
    expect(await power.getPowerState(ctx)).toBe('power on');
    let boots = 0;
    machine().on('boot', () => { boots += 1; });
    await power.reboot(ctx, false, 5);
    await power.reboot(ctx, true, 5);
    expect(boots).toBe(2);
    await power.setPowerState(ctx, 'soft power off', 5);
    expect(await power.getPowerState(ctx)).toBe('power off');
    await power.setPowerState(ctx, 'power on', 5);
    await power.setPowerState(ctx, 'power off', 5);
    expect(await machine().powerState()).toBe('off');
    // The other systems behind the endpoint were not touched.
    expect(await sim.machines[0].powerState()).toBe('off');
  });

  it('sets and reads the boot device, persistent and one-time', async () => {
    const ctx = redfishContext(driver, info);
    const mgmt = getImplementation('management', impl);
    expect(await mgmt.supportedBootDevices(ctx)).toEqual(expect.arrayContaining(['pxe', 'disk', 'cdrom', 'bios']));
    await mgmt.setBootDevice(ctx, 'pxe', true);
    expect(machine().getBootOverride()).toMatchObject({ device: 'pxe', persistent: true });
    expect(await mgmt.getBootDevice(ctx)).toEqual({ boot_device: 'pxe', persistent: true });
    await mgmt.setBootDevice(ctx, 'disk', false);
    expect(await mgmt.getBootDevice(ctx)).toEqual({ boot_device: 'disk', persistent: false });
    // A one-time override is used up by the next start-up.
    await getImplementation('power', impl).setPowerState(ctx, 'power on', 5);
    expect(await mgmt.getBootDevice(ctx)).toEqual({ boot_device: null, persistent: null });
    await mgmt.setBootDevice(ctx, 'bios', false);
    expect(machine().getBootOverride()).toMatchObject({ device: 'bios', persistent: false });
    await expect(mgmt.setBootDevice(ctx, 'wanboot', false)).rejects.toThrow(/Boot device wanboot is not supported by the BMC/);
    await getImplementation('power', impl).setPowerState(ctx, 'power off', 5);
  });

  it('handles the boot mode the vendor way', async () => {
    const ctx = redfishContext(driver, info);
    const mgmt = getImplementation('management', impl);
    expect(await mgmt.getBootMode!(ctx)).toBe('uefi');
    await mgmt.setBootMode!(ctx, 'uefi');
    if (flavor === 'ilo') {
      await expect(mgmt.setBootMode!(ctx, 'bios')).rejects.toThrow(UnsupportedOperation);
      await expect(mgmt.setBootMode!(ctx, 'bios')).rejects.toThrow(/does not allow changing the boot mode through Redfish/);
      return;
    }
    if (flavor === 'idrac') {
      // A BIOS job applied by a reboot of the running node.
      await getImplementation('power', impl).setPowerState(ctx, 'power on', 5);
      await mgmt.setBootMode!(ctx, 'bios');
      expect(machine().getBootOverride().mode).toBe('bios');
      await mgmt.setBootMode!(ctx, 'uefi');
      await getImplementation('power', impl).setPowerState(ctx, 'power off', 5);
    } else {
      await mgmt.setBootMode!(ctx, 'bios');
      expect(machine().getBootOverride().mode).toBe('bios');
      expect(await mgmt.getBootMode!(ctx)).toBe('bios');
      await mgmt.setBootMode!(ctx, 'uefi');
    }
    expect(machine().getBootOverride().mode).toBe('uefi');
    expect(ctx.node.boot_mode).toBe('uefi');
  });

  it('turns secure boot on and off, reads sensors and injects an NMI', async () => {
    const ctx = redfishContext(driver, info);
    const mgmt = getImplementation('management', impl);
    await mgmt.setSecureBoot!(ctx, true);
    expect(ctx.node.secure_boot).toBe(true);
    await mgmt.setSecureBoot!(ctx, false);
    expect(ctx.node.secure_boot).toBe(false);
    const sensors = await mgmt.getSensorsData!(ctx);
    expect(Object.keys(sensors.Temperature).length).toBeGreaterThan(0);
    expect(Object.values(sensors.Power)[0]).toMatchObject({ power_capacity_watts: 800 });
    await mgmt.injectNmi!(ctx);
  });

  it('inspects CPUs, memory, disks, NICs and boot mode out of band', async () => {
    const ctx = redfishContext(driver, info, { properties: { capabilities: 'secure_boot:false' } });
    const result = await getImplementation('inspect', impl).inspect(ctx);
    expect(result.outcome).toBe('done');
    if (result.outcome !== 'done') return;
    const hw = machine().hardware;
    expect(result.result.properties).toEqual({ cpus: hw.cpus, cpu_arch: 'x86_64', memory_mb: hw.memoryMb, local_gb: 99, capabilities: 'secure_boot:false,boot_mode:uefi' });
    expect(result.result.ports).toEqual(hw.nics.map((n) => ({ address: n.mac })));
    expect(result.result.inventory).toMatchObject({ cpu: { count: hw.cpus, model_name: hw.cpuModel }, disks: [{ size: hw.disks[0].sizeBytes }], system_vendor: { serial_number: hw.serial } });
  });

  it('boots the deploy ISO from virtual media and the instance from disk', async () => {
    const ctx = redfishContext(driver, info);
    const bootIface = getImplementation('boot', boot);
    bootIface.validate(ctx.node, []);
    await bootIface.prepareRamdisk(ctx, 'deploy');
    expect(machine().getVirtualMedia()).toEqual({ image: 'http://127.0.0.1:9/deploy.iso', inserted: true });
    expect(machine().getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });
    expect(ctx.node.driver_internal_info.boot).toMatchObject({ purpose: 'deploy', via: 'virtual-media' });
    // It boots from the BMC's CD: the netboot role is given nothing to serve.
    expect(ctx.bootRecords).toEqual([]);
    // Preparing again replaces the media (eject, insert).
    await bootIface.prepareRamdisk(ctx, 'clean');
    expect(machine().getVirtualMedia().inserted).toBe(true);
    await bootIface.cleanUpRamdisk(ctx);
    expect(machine().getVirtualMedia()).toEqual({ image: null, inserted: false });
    expect(ctx.node.driver_internal_info.boot).toBeUndefined();
    await bootIface.prepareInstance(ctx);
    expect(machine().getBootOverride()).toMatchObject({ device: 'disk', persistent: true });
    const notUrl = redfishContext(driver, { ...info, deploy_iso: '/srv/deploy.iso' });
    expect(() => bootIface.validate(notUrl.node, [])).toThrow(/driver_info\/deploy_iso of node .* must be the URL/);
  });
});
