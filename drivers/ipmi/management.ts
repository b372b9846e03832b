// The `ipmitool` management interface: boot device and boot mode through the boot flags (System
// Boot Options parameter 5, with its valid, persistent and EFI bits), sensors from the SDR
// repository, health from the chassis status and the threshold sensors, and NMI. Every request is
// raw, so both transports share this code.
import { DriverError, InvalidInput } from '../../common/errors.ts';
import type { BootDevice, BootMode, ManagementInterface, SensorReading, TaskContext } from '../interfaces.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { BootParam, ChassisControl, Cmd, NetFn } from './protocol/constants.ts';
import { BOOT_DEVICE_SELECTORS, chassisHealth, decodeBootFlags, encodeBootFlags, selectorName, type BootFlags } from './protocol/chassis.ts';
import { SENSOR_TYPE_NAMES, UNIT_NAMES } from './protocol/sdr.ts';
import { fullSensors, readSensor } from './sdr-repository.ts';
import { sensorHealth } from './sensor-health.ts';
import { worstHealth } from './protocol/sensor-state.ts';
import { IPMI_PROPERTIES, parseIpmiInfo, type IpmiInfo } from './driver-info.ts';
import { ipmiRequest, type RequestKind } from './client.ts';
import { bmcLabel, expectOk } from './transport.ts';
import { internalInfo, withInternalInfo, withoutInternalInfo } from '../internal-info.ts';

const SUPPORTED: BootDevice[] = ['pxe', 'disk', 'cdrom', 'bios', 'safe'];

/** The node's boot mode as Ironic decides it: the node field, then the capability, then UEFI. */
function nodeBootMode(node: NodeRecord): BootMode {
  if (node.boot_mode === 'uefi' || node.boot_mode === 'bios') return node.boot_mode;
  const caps = node.properties?.capabilities;
  const mode = typeof caps === 'string' ? /(?:^|,)boot_mode:(uefi|bios)(?:,|$)/.exec(caps)?.[1] : undefined;
  return (mode as BootMode | undefined) ?? 'uefi';
}

async function readFlags(info: IpmiInfo): Promise<BootFlags> {
  const data = expectOk(await ipmiRequest(info, 'change', NetFn.chassis, Cmd.getSystemBootOptions, [BootParam.flags, 0, 0]), 'Get System Boot Options (boot flags)', info.target);
  // data: parameter version, parameter selector, then the five flag bytes
  const flags = decodeBootFlags(data.subarray(2));
  if (!flags) throw new InvalidInput(`BMC sent boot flags too short to read (${data.toString('hex')})`);
  return flags;
}

async function writeFlags(info: IpmiInfo, flags: Parameters<typeof encodeBootFlags>[0]): Promise<void> {
  if (info.disableBootTimeout) {
    // Parameter 3 bit 3: don't clear the valid bit after 60 s. Some BMCs lack it; the flags matter, not this.
    await ipmiRequest(info, 'change', NetFn.chassis, Cmd.setSystemBootOptions, [BootParam.flagValidClearing, 0x08]);
  }
  expectOk(await ipmiRequest(info, 'change', NetFn.chassis, Cmd.setSystemBootOptions, [BootParam.flags, ...encodeBootFlags(flags)]), 'Set System Boot Options (boot flags)', info.target);
}

async function sensors(info: IpmiInfo): Promise<SensorReading> {
  const out: SensorReading = {};
  for (const sensor of await fullSensors(info)) {
    const res = await readSensor(info, sensor.sensorNumber);
    const type = SENSOR_TYPE_NAMES[sensor.sensorType] ?? `Sensor type 0x${sensor.sensorType.toString(16)}`;
    const units = UNIT_NAMES[sensor.unit] ?? 'unspecified';
    const id = `${sensor.name} (0x${sensor.sensorNumber.toString(16)})`;
    const unavailable = res.completion !== 0 || res.data.length < 2 || (res.data[1] & 0x20) !== 0;
    (out[type] ??= {})[id] = {
      'Sensor ID': id,
      'Sensor Type (Threshold)': `${type} (0x${sensor.sensorType.toString(16).padStart(2, '0')})`,
      'Sensor Reading': unavailable ? 'Unavailable' : `${sensor.convert(res.data[0])} (+/- 0) ${units}`,
      Units: units,
    };
  }
  return out;
}

/** With ipmi_force_boot_device, sends the last boot device again; a one-time device is then forgotten. */
export async function resendBootDevice(ctx: TaskContext, info: IpmiInfo): Promise<void> {
  const forced = internalInfo(ctx.node).ipmi_forced_boot_device;
  if (!info.forceBootDevice || !forced || BOOT_DEVICE_SELECTORS[forced.device] === undefined) return;
  await writeFlags(info, { valid: true, persistent: forced.persistent, efi: nodeBootMode(ctx.node) === 'uefi', selector: BOOT_DEVICE_SELECTORS[forced.device] });
  if (!forced.persistent) {
    await ctx.save(withoutInternalInfo(ctx.node, ['ipmi_forced_boot_device']));
  }
}

/** Get Chassis Status: the power bit, and the fault bits health is read from. */
export async function readChassisStatus(info: IpmiInfo, kind: RequestKind = 'read'): Promise<Buffer> {
  const status = expectOk(await ipmiRequest(info, kind, NetFn.chassis, Cmd.getChassisStatus), 'Get Chassis Status', info.target);
  if (status.length < 1) throw new DriverError(`BMC ${bmcLabel(info.target)} sent an empty chassis status`);
  return status;
}

export const ipmitoolManagement: ManagementInterface = {
  name: 'ipmitool',
  properties: IPMI_PROPERTIES,
  validate(node) {
    parseIpmiInfo(node);
  },
  async supportedBootDevices() {
    return SUPPORTED;
  },
  async getBootDevice(ctx) {
    const flags = await readFlags(parseIpmiInfo(ctx.node));
    // Like Ironic, the selector counts even when the valid bit is clear (ipmi_sim never sets it).
    return { boot_device: selectorName(flags.selector) as BootDevice | null, persistent: flags.persistent };
  },
  async setBootDevice(ctx, device, persistent) {
    const selector = BOOT_DEVICE_SELECTORS[device];
    if (selector === undefined) throw new InvalidInput(`Boot device "${device}" is not supported by the ipmitool management interface (${SUPPORTED.join(', ')})`);
    const info = parseIpmiInfo(ctx.node);
    await writeFlags(info, { valid: true, persistent, efi: nodeBootMode(ctx.node) === 'uefi', selector });
    if (info.forceBootDevice) await ctx.save(withInternalInfo(ctx.node, { ipmi_forced_boot_device: { device, persistent } }));
  },
  async getBootMode(ctx) {
    const flags = await readFlags(parseIpmiInfo(ctx.node));
    return flags.valid ? (flags.efi ? 'uefi' : 'bios') : null;
  },
  async setBootMode(ctx: TaskContext, mode: BootMode) {
    const info = parseIpmiInfo(ctx.node);
    const flags = await readFlags(info);
    await writeFlags(info, { ...flags, valid: true, efi: mode === 'uefi' });
    await ctx.save({ boot_mode: mode });
  },
  async getSensorsData(ctx) {
    return sensors(parseIpmiInfo(ctx.node));
  },
  async getHealth(ctx) {
    const info = parseIpmiInfo(ctx.node);
    const chassis = chassisHealth(await readChassisStatus(info));
    return worstHealth([chassis, await sensorHealth(ctx.node, info)]);
  },
  async injectNmi(ctx) {
    const info = parseIpmiInfo(ctx.node);
    expectOk(await ipmiRequest(info, 'change', NetFn.chassis, Cmd.chassisControl, [ChassisControl.diagnosticInterrupt]), 'chassis control (NMI)', info.target);
  },
};

