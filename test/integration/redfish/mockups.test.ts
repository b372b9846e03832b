// The Redfish driver against each real vendor's mockup tree in test/fixtures/redfish-mockups/, served
// read-mostly by the simulator with live power, boot override and virtual media.
import { afterEach, describe, expect, it } from 'vitest';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { RedfishNode } from '../../../drivers/redfish/system.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { redfishContext } from './context.ts';
import { mockup } from './mockups.ts';

const ISO = 'http://127.0.0.1:9/deploy.iso';
let sim: RedfishSimulator | null = null;

afterEach(async () => {
  await closeAllClients();
  await sim?.close();
  sim = null;
});

async function serve(tree: string) {
  sim = await startRedfishSimulator({ mockupDir: mockup(tree), auth: { username: 'root', password: 'calvin' } });
  return { sim, info: { redfish_address: sim.url, redfish_username: 'root', redfish_password: 'calvin', deploy_iso: ISO } };
}

async function powerCycle(driver: string, impl: string, info: Record<string, unknown>, machine: RedfishSimulator['machines'][number]) {
  const ctx = redfishContext(driver, info);
  const power = getImplementation('power', impl);
  await power.setPowerState(ctx, 'power off', 5);
  expect(await machine.powerState()).toBe('off');
  expect(await power.getPowerState(ctx)).toBe('power off');
  await power.setPowerState(ctx, 'power on', 5);
  expect(await machine.powerState()).toBe('on');
  await power.reboot(ctx, false, 5);
  expect(await power.getPowerState(ctx)).toBe('power on');
}

async function bootDevice(driver: string, impl: string, info: Record<string, unknown>, machine: RedfishSimulator['machines'][number]) {
  const ctx = redfishContext(driver, info);
  const mgmt = getImplementation('management', impl);
  await mgmt.setBootDevice(ctx, 'pxe', true);
  expect(machine.getBootOverride()).toMatchObject({ device: 'pxe', persistent: true });
  expect(await mgmt.getBootDevice(ctx)).toEqual({ boot_device: 'pxe', persistent: true });
}

describe('the Redfish driver on real vendors\' mockups', () => {
  it('DMTF public-rackmount1: power, boot, inspection, virtual media set by PATCH', async () => {
    const { sim, info } = await serve('dmtf-public-rackmount1');
    const machine = sim.machines[0];
    expect(sim.systemIds).toEqual(['437XR1138R2']);
    await powerCycle('redfish', 'redfish', info, machine);
    await bootDevice('redfish', 'redfish', info, machine);
    const ctx = redfishContext('redfish', info);
    const result = await getImplementation('inspect', 'redfish').inspect(ctx);
    if (result.outcome !== 'done') throw new Error('inspection did not finish');
    expect(result.result.properties).toMatchObject({ cpus: 16, cpu_arch: 'x86_64', memory_mb: 96 * 1024, capabilities: 'boot_mode:uefi' });
    // VLAN1 repeats its parent's MAC: one port per MAC.
    expect(result.result.ports!.map((p) => p.address).sort()).toEqual(['12:44:6a:3b:04:11', 'aa:bb:cc:dd:ee:00', 'aa:bb:cc:dd:ee:fe']);
    const boot = getImplementation('boot', 'redfish-virtual-media');
    await boot.prepareRamdisk(ctx, 'deploy');
    expect(machine.getVirtualMedia()).toEqual({ image: ISO, inserted: true });
    expect(machine.getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });
    await boot.cleanUpRamdisk(ctx);
    expect(machine.getVirtualMedia().inserted).toBe(false);
  });

  it('HPE iLO 5 DL325: ETags, virtual media under the Manager, one-time boot through Oem.Hpe', async () => {
    const { sim, info } = await serve('hpe-ilo5-dl325-gen10plus');
    const machine = sim.machines[0];
    await powerCycle('ilo', 'ilo', info, machine);
    await bootDevice('ilo', 'ilo', info, machine);
    const ctx = redfishContext('ilo', info);
    await expect(getImplementation('management', 'ilo').setBootMode!(ctx, 'bios')).rejects.toThrow(/does not allow changing the boot mode/);
    const result = await getImplementation('inspect', 'ilo').inspect(ctx);
    if (result.outcome !== 'done') throw new Error('inspection did not finish');
    expect(result.result.properties).toMatchObject({ memory_mb: 64 * 1024, capabilities: 'boot_mode:uefi' });
    expect(result.result.ports!.map((p) => p.address).sort()).toEqual(['14:02:ec:d9:3a:a0', '14:02:ec:d9:3a:a1', '94:40:c9:5c:86:bc', '94:40:c9:5c:86:bd']);
    const boot = getImplementation('boot', 'ilo-virtual-media');
    await boot.prepareRamdisk(ctx, 'deploy');
    expect(machine.getVirtualMedia()).toEqual({ image: ISO, inserted: true });
    expect(machine.getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });
    // The plain redfish driver reaches the same device through the standard action.
    const plain = redfishContext('redfish', info);
    await getImplementation('boot', 'redfish-virtual-media').prepareRamdisk(plain, 'clean');
    expect(machine.getVirtualMedia()).toEqual({ image: ISO, inserted: true });
  });

  it('Dell R640 (iDRAC 9, 14G): a partial tree; virtual media the tree lacks gives a clear error', async () => {
    const { sim, info } = await serve('dell-idrac/r640-14g-idrac9');
    const machine = sim.machines[0];
    expect(sim.systemIds).toEqual(['System.Embedded.1']);
    await powerCycle('idrac', 'idrac-redfish', info, machine);
    await bootDevice('idrac', 'idrac-redfish', info, machine);
    const ctx = redfishContext('idrac', info);
    const result = await getImplementation('inspect', 'idrac-redfish').inspect(ctx);
    if (result.outcome !== 'done') throw new Error('inspection did not finish');
    expect(result.result.properties).toMatchObject({ cpus: 80, memory_mb: 192 * 1024, capabilities: 'boot_mode:uefi' });
    expect(ctx.notes.join('\n')).toMatch(/could not find .*cpu_arch/);
    await expect(getImplementation('boot', 'redfish-virtual-media').prepareRamdisk(ctx, 'deploy')).rejects.toThrow(/offers no virtual CD\/DVD device/);
  });

  it('Dell R6515 (iDRAC 9, 15G): legacy boot mode', async () => {
    const { sim, info } = await serve('dell-idrac/r6515-15g-idrac9');
    const machine = sim.machines[0];
    await powerCycle('redfish', 'redfish', info, machine);
    await bootDevice('redfish', 'redfish', info, machine);
    const ctx = redfishContext('redfish', info);
    expect(await getImplementation('management', 'redfish').getBootMode!(ctx)).toBe('bios');
    const result = await getImplementation('inspect', 'redfish').inspect(ctx);
    if (result.outcome !== 'done') throw new Error('inspection did not finish');
    expect(result.result.properties).toMatchObject({ cpus: 32, memory_mb: 256 * 1024, capabilities: 'boot_mode:bios' });
  });

  it('Dell R660 (iDRAC 9, 16G): virtual media under the System, InsertMedia with TransferProtocolType', async () => {
    const { sim, info } = await serve('dell-idrac/r660-16g-vmedia-under-systems');
    const machine = sim.machines[0];
    const ctx = redfishContext('redfish', info);
    expect(await getImplementation('power', 'redfish').getPowerState(ctx)).toBe('power off');
    // The captured system has no Reset action: the driver says so instead of guessing a URI.
    await expect(getImplementation('power', 'redfish').setPowerState(ctx, 'power on', 5)).rejects.toThrow(/has no ComputerSystem.Reset action/);
    const rn = await RedfishNode.open(ctx);
    const device = await rn.cdDevice();
    expect(device.path).toMatch(/^\/redfish\/v1\/Systems\/System.Embedded.1\/VirtualMedia\/[12]$/);
    await rn.insertMedia(device, ISO);
    expect(machine.getVirtualMedia()).toEqual({ image: ISO, inserted: true });
    await rn.ejectMedia(await rn.cdDevice());
    expect(machine.getVirtualMedia().inserted).toBe(false);
  });

  it('reads the indicator LEDs the DMTF, HPE and Dell trees show (IndicatorLED of the system and its chassis)', async () => {
    const cases: [string, Record<string, unknown>, [string, string, string][]][] = [
      ['dmtf-public-rackmount1', { system: { '437XR1138R2': { readonly: false, states: ['BLINKING', 'OFF', 'ON'] } }, chassis: { '1U': { readonly: false, states: ['BLINKING', 'OFF', 'ON'] } } }, [['system', '437XR1138R2', 'OFF'], ['chassis', '1U', 'ON']]],
      ['hpe-ilo5-dl325-gen10plus', { system: { '1': { readonly: false, states: ['BLINKING', 'OFF', 'ON'] } }, chassis: { '1': { readonly: false, states: ['BLINKING', 'OFF', 'ON'] } } }, [['system', '1', 'OFF'], ['chassis', '1', 'OFF']]],
    ];
    for (const [tree, supported, states] of cases) {
      const { info } = await serve(tree);
      const ctx = redfishContext('redfish', info);
      const mgmt = getImplementation('management', 'redfish');
      expect(await mgmt.getSupportedIndicators!(ctx), tree).toEqual(supported);
      for (const [component, name, state] of states) expect(await mgmt.getIndicatorState!(ctx, component as 'system', name), `${tree} ${name}@${component}`).toBe(state);
      await expect(mgmt.getIndicatorState!(ctx, 'disk', 'x')).rejects.toThrow('has no indicator x@disk');
      await closeAllClients();
      await sim?.close();
      sim = null;
    }
  });

  it('Dell 17G (iDRAC 10) manager-only tree: no system to manage, said plainly', async () => {
    const { info } = await serve('dell-idrac/17g-idrac10-manager');
    const ctx = redfishContext('idrac', info);
    await expect(getImplementation('power', 'idrac-redfish').getPowerState(ctx)).rejects.toThrow(/has no Systems collection in its service root/);
  });
});
