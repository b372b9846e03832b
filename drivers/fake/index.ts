// fake-hardware and manual-management. The fake interfaces do nothing but wait and record, so the
// whole lifecycle can run without a BMC. Testers shape them through driver_info:
//   fake_delay: seconds every fake operation takes (number or numeric string)
//   fake_fail:  operations that fail, comma-separated or a list, among
//               power, boot_device, boot, deploy, tear_down, clean, inspect, validate
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverError, InvalidInput } from '../../common/errors.ts';
import type {
  BootDevice, BootInterface, BootMode, ConsoleInterface, DeployInterface, DriverFamily, GenericInterface, HardwareType, InspectInterface,
  IndicatorComponent, IndicatorState, ManagementInterface, PowerInterface, RescueInterface, SupportedIndicators, TaskContext, VmediaDeviceType,
} from '../interfaces.ts';
import { VMEDIA_DEVICE_TYPES } from '../interfaces.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { internalInfo, withInternalInfo } from '../internal-info.ts';
import { NO_OP_INTERFACE_LISTS } from '../noop/index.ts';

type FakeOperation = 'power' | 'boot_device' | 'boot' | 'deploy' | 'tear_down' | 'clean' | 'inspect' | 'rescue' | 'validate';

function failures(node: NodeRecord): Set<string> {
  const raw = node.driver_info.fake_fail;
  if (Array.isArray(raw)) return new Set(raw.map(String));
  if (typeof raw === 'string') return new Set(raw.split(',').map((s) => s.trim()).filter(Boolean));
  return new Set();
}

function delaySeconds(node: NodeRecord): number {
  const raw = node.driver_info.fake_delay;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : 0;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Waits the configured delay, then fails if the operation was told to. */
async function act(ctx: TaskContext, op: FakeOperation): Promise<void> {
  const seconds = delaySeconds(ctx.node);
  if (seconds > 0) await sleep(seconds * 1000, undefined, { signal: ctx.signal });
  if (failures(ctx.node).has(op)) throw new DriverError(`Injected failure of fake ${op.replace('_', ' ')} (driver_info.fake_fail)`);
}

function validateFake(node: NodeRecord): void {
  const raw = node.driver_info.fake_delay;
  if (raw !== undefined && !Number.isFinite(Number(raw))) throw new InvalidInput(`driver_info.fake_delay must be a number of seconds, got "${String(raw)}"`);
  if (failures(node).has('validate')) throw new InvalidInput('Injected validation failure (driver_info.fake_fail contains "validate")');
}

const FAKE_PROPERTIES = {
  fake_delay: 'Seconds each fake operation takes. Optional.',
  fake_fail: 'Comma-separated operations that fail: power, boot_device, boot, deploy, tear_down, clean, inspect, validate. Optional.',
};

export const fakePower: PowerInterface = {
  name: 'fake',
  properties: FAKE_PROPERTIES,
  validate: validateFake,
  // As Ironic's fake power: the state is whatever Anvil last set (null until then).
  async getPowerState(ctx) {
    return ctx.node.power_state === 'power on' || ctx.node.power_state === 'power off' ? ctx.node.power_state : null;
  },
  async setPowerState(ctx, target) {
    await act(ctx, 'power');
    await ctx.save({ power_state: target === 'soft power off' ? 'power off' : target });
  },
  async reboot(ctx) {
    await act(ctx, 'power');
    await ctx.save({ power_state: 'power on' });
  },
};

const FAKE_BOOT_DEVICES: BootDevice[] = ['pxe', 'disk', 'cdrom', 'bios', 'safe'];

/** The fake machine's indicators: a system LED one may set, a chassis LED that only reads. */
const FAKE_INDICATORS: SupportedIndicators = {
  system: { led: { readonly: false, states: ['BLINKING', 'OFF', 'ON'] } },
  chassis: { led: { readonly: true, states: ['OFF', 'ON'] } },
};

function fakeIndicator(component: IndicatorComponent, name: string): { readonly: boolean; states: IndicatorState[] } {
  const found = FAKE_INDICATORS[component]?.[name];
  if (!found) throw new InvalidInput(`Indicator ${name}@${component} is not supported by the fake management interface`);
  return found;
}

export const fakeManagement: ManagementInterface = {
  name: 'fake',
  validate: validateFake,
  async supportedBootDevices() {
    return FAKE_BOOT_DEVICES;
  },
  async getBootDevice(ctx) {
    const info = internalInfo(ctx.node);
    // Before any set, Ironic's fake management reads PXE, not persistent; after one, the device set.
    return { boot_device: info.fake_boot_device ?? 'pxe', persistent: info.fake_boot_persistent ?? false };
  },
  async setBootDevice(ctx, device, persistent) {
    if (!FAKE_BOOT_DEVICES.includes(device)) throw new InvalidInput(`Boot device ${device} is not supported by the fake management interface`);
    await act(ctx, 'boot_device');
    await ctx.save(withInternalInfo(ctx.node, { fake_boot_device: device, fake_boot_persistent: persistent }));
  },
  async getBootMode(ctx) {
    return (ctx.node.boot_mode as BootMode | null) ?? null;
  },
  async setBootMode(ctx, mode) {
    await act(ctx, 'boot_device');
    await ctx.save({ boot_mode: mode });
  },
  async setSecureBoot(ctx, enabled) {
    await ctx.save({ secure_boot: enabled });
  },
  async getSensorsData() {
    return { Temperature: { 'CPU Temp': { Sensor_Reading: '40 (+/- 1) degrees C', Sensor_ID: 'CPU Temp', Units: 'degrees C' } } };
  },
  async getSupportedIndicators() {
    return FAKE_INDICATORS;
  },
  async getIndicatorState(ctx, component, name) {
    fakeIndicator(component, name);
    return internalInfo(ctx.node).fake_indicators?.[`${name}@${component}`] ?? 'OFF';
  },
  async setIndicatorState(ctx, component, name, state) {
    const indicator = fakeIndicator(component, name);
    if (indicator.readonly) throw new InvalidInput(`Indicator ${name}@${component} of the fake management interface is read-only`);
    if (!indicator.states.includes(state)) throw new InvalidInput(`Indicator ${name}@${component} cannot be ${state}; it can be ${indicator.states.join(', ')}`);
    await ctx.save(withInternalInfo(ctx.node, { fake_indicators: { ...internalInfo(ctx.node).fake_indicators, [`${name}@${component}`]: state } }));
  },
  async injectNmi(ctx) {
    await act(ctx, 'power');
  },
  // Virtual media: one device of each kind, what is attached kept in driver_internal_info.fake_vmedia.
  async getVirtualMedia(ctx) {
    const attached = fakeVmedia(ctx.node);
    return VMEDIA_DEVICE_TYPES.map((kind) => ({ image: attached[kind] ?? null, inserted: kind in attached, media_types: [FAKE_MEDIA_TYPES[kind]] }));
  },
  async attachVirtualMedia(ctx, kind, imageUrl) {
    await act(ctx, 'boot_device');
    await ctx.save(withInternalInfo(ctx.node, { fake_vmedia: { ...fakeVmedia(ctx.node), [kind]: imageUrl } }));
  },
  async detachVirtualMedia(ctx, kinds) {
    await act(ctx, 'boot_device');
    const attached = fakeVmedia(ctx.node);
    for (const kind of kinds && kinds.length ? kinds : VMEDIA_DEVICE_TYPES) delete attached[kind];
    await ctx.save(withInternalInfo(ctx.node, { fake_vmedia: attached }));
  },
};

const FAKE_MEDIA_TYPES: Record<VmediaDeviceType, string> = { cdrom: 'CD', disk: 'USBStick', floppy: 'Floppy' };

function fakeVmedia(node: NodeRecord): Partial<Record<VmediaDeviceType, string>> {
  return { ...internalInfo(node).fake_vmedia };
}

export const fakeBoot: BootInterface = {
  name: 'fake',
  validate: validateFake,
  async prepareRamdisk(ctx) { await act(ctx, 'boot'); },
  async cleanUpRamdisk() {},
  async prepareInstance(ctx) { await act(ctx, 'boot'); },
  async cleanUpInstance() {},
  bootsInstanceIso: true,
};

export const fakeDeploy: DeployInterface = {
  name: 'fake',
  validate: validateFake,
  async deploy(ctx) {
    await act(ctx, 'deploy');
    return 'done';
  },
  async tearDown(ctx) {
    await act(ctx, 'tear_down');
  },
  async clean(ctx) {
    await act(ctx, 'clean');
    return 'done';
  },
  async heartbeat() {
    return 'done';
  },
};

export const fakeInspect: InspectInterface = {
  name: 'fake',
  validate: validateFake,
  async inspect(ctx) {
    await act(ctx, 'inspect');
    return { outcome: 'done', result: {} };
  },
};

const fakeGeneric = (): GenericInterface => ({ name: 'fake', validate: validateFake });

/** Ironic's FakeConsole: started and stopped at once, with an empty console_info (nothing to connect to). */
export const fakeConsole: ConsoleInterface = {
  name: 'fake',
  validate: validateFake,
  async start() {
    return {};
  },
  async stop() {},
};

/** Ironic's FakeRescue: rescued and unrescued at once (driver_info fake_fail "rescue" makes it fail). */
export const fakeRescue: RescueInterface = {
  name: 'fake',
  validate: validateFake,
  async rescue(ctx) {
    await act(ctx, 'rescue');
    return 'done';
  },
  unrescue: (ctx) => act(ctx, 'rescue'),
};

export const fakeHardware: HardwareType = {
  name: 'fake-hardware',
  acceptsEveryImplementation: true,
  interfaces: {
    power: ['fake'],
    management: ['fake'],
    boot: ['fake'],
    deploy: ['fake', 'direct'],
    inspect: ['fake', 'no-inspect', 'agent'],
    bios: ['no-bios', 'fake'],
    console: ['no-console', 'fake'],
    firmware: ['no-firmware', 'fake'],
    network: ['noop', 'flat', 'switch'],
    raid: ['no-raid', 'fake'],
    rescue: ['no-rescue', 'fake'],
    storage: ['noop', 'fake'],
    vendor: ['no-vendor', 'fake'],
  },
};

// Ironic's manual-management: power and boot device are changed by a person, not by Anvil.
export const manualManagement: HardwareType = {
  name: 'manual-management',
  interfaces: {
    power: ['fake'],
    management: ['fake'],
    boot: ['fake'],
    deploy: ['fake'],
    inspect: ['no-inspect'],
    ...NO_OP_INTERFACE_LISTS,
  },
};

export const fakeFamily: DriverFamily = {
  implementations: {
    power: [fakePower],
    management: [fakeManagement],
    boot: [fakeBoot],
    deploy: [fakeDeploy],
    inspect: [fakeInspect],
    bios: [fakeGeneric()],
    console: [fakeConsole],
    firmware: [fakeGeneric()],
    raid: [fakeGeneric()],
    rescue: [fakeRescue],
    storage: [fakeGeneric()],
    vendor: [fakeGeneric()],
  },
  hardwareTypes: [fakeHardware, manualManagement],
};
