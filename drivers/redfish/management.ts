// The Redfish management interface: boot override (device, once or persistent), boot mode,
// secure boot, sensors from the chassis, NMI, and the virtual media the vmedia API attaches.
import { InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import type { BootDevice, BootMode, ManagementInterface, NodeHealth, SensorReading, VmediaDeviceType } from '../interfaces.ts';
import type { Json } from './client.ts';
import { indicatorState, setIndicatorState, supportedIndicators } from './indicators.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { isObject, linkOf, RedfishNode, takeSystemRead, type MediaDevice } from './system.ts';
import type { Vendor } from './vendor.ts';

const TARGETS: Partial<Record<BootDevice, string[]>> = {
  pxe: ['Pxe'],
  disk: ['Hdd'],
  cdrom: ['Cd', 'UsbCd'], // Supermicro boots virtual media as UsbCd
  bios: ['BiosSetup'],
  'uefi http': ['UefiHttp'],
};
const DEVICES: Record<string, BootDevice> = { Pxe: 'pxe', Hdd: 'disk', Cd: 'cdrom', UsbCd: 'cdrom', BiosSetup: 'bios', UefiHttp: 'uefi http' };

function bootOf(system: Json): Json {
  return isObject(system.Boot) ? system.Boot : {};
}

function allowedTargets(system: Json): string[] | null {
  const list = bootOf(system)['BootSourceOverrideTarget@Redfish.AllowableValues'];
  return Array.isArray(list) ? list.map(String) : null;
}

/** The override body for a device; throws InvalidInput when the BMC does not offer it. */
export function bootOverrideBody(system: Json, device: BootDevice, persistent: boolean): Json {
  const allowed = allowedTargets(system);
  const candidates = TARGETS[device] ?? [];
  const target = candidates.find((t) => !allowed || allowed.includes(t));
  if (!target) throw new InvalidInput(`Boot device ${device} is not supported by the BMC (it offers ${allowed ? allowed.join(', ') : 'nothing'})`);
  const enabledAllowed = bootOf(system)['BootSourceOverrideEnabled@Redfish.AllowableValues'];
  // Lenovo offers only Once and Disabled: a persistent request then becomes Once.
  const canPersist = !Array.isArray(enabledAllowed) || enabledAllowed.includes('Continuous');
  return { Boot: { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: persistent && canPersist ? 'Continuous' : 'Once' } };
}

export async function standardSetBootDevice(rn: RedfishNode, device: BootDevice, persistent: boolean): Promise<void> {
  const system = await rn.system();
  await rn.client.patch(rn.systemPath, bootOverrideBody(system, device, persistent));
}

export function bootModeOf(system: Json): BootMode | null {
  const mode = bootOf(system).BootSourceOverrideMode;
  return mode === 'UEFI' ? 'uefi' : mode === 'Legacy' ? 'bios' : null;
}

async function standardSetBootMode(rn: RedfishNode, mode: BootMode): Promise<void> {
  const system = await rn.system();
  const current = bootModeOf(system);
  if (current === mode) return;
  // Send BootSourceOverrideMode only when it must change and the BMC advertises it.
  if (current === null) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} does not expose BootSourceOverrideMode; the boot mode cannot be set through Redfish`);
  const boot = bootOf(system);
  const body: Json = { BootSourceOverrideMode: mode === 'uefi' ? 'UEFI' : 'Legacy' };
  // Some BMCs refuse a mode with the override Disabled: keep the current target/enablement alongside.
  if (boot.BootSourceOverrideEnabled && boot.BootSourceOverrideEnabled !== 'Disabled') {
    body.BootSourceOverrideTarget = boot.BootSourceOverrideTarget;
    body.BootSourceOverrideEnabled = boot.BootSourceOverrideEnabled;
  }
  await rn.client.patch(rn.systemPath, { Boot: body });
}

async function sensors(rn: RedfishNode): Promise<SensorReading> {
  const system = await rn.system();
  const chassis = isObject(system.Links) && Array.isArray(system.Links.Chassis) ? system.Links.Chassis.map(linkOf).filter((l): l is string => !!l) : [];
  const out: SensorReading = { Temperature: {}, Fan: {}, Power: {} };
  for (const c of chassis) {
    const doc = await rn.client.getJson(c);
    const cid = String(doc.Id ?? c);
    const thermal = linkOf(doc.Thermal);
    if (thermal) {
      const t = await rn.client.getJson(thermal);
      for (const s of Array.isArray(t.Temperatures) ? t.Temperatures.filter(isObject) : []) {
        out.Temperature[`${String(s.Name ?? s.MemberId)}@${cid}`] = { identity: s.Name ?? s.MemberId, reading_celsius: s.ReadingCelsius ?? null, upper_critical: s.UpperThresholdCritical ?? null, physical_context: s.PhysicalContext ?? null, health: isObject(s.Status) ? s.Status.Health ?? null : null };
      }
      for (const f of Array.isArray(t.Fans) ? t.Fans.filter(isObject) : []) {
        out.Fan[`${String(f.Name ?? f.MemberId)}@${cid}`] = { identity: f.Name ?? f.MemberId, reading: f.Reading ?? null, reading_units: f.ReadingUnits ?? null, health: isObject(f.Status) ? f.Status.Health ?? null : null };
      }
    }
    const power = linkOf(doc.Power);
    if (power) {
      const p = await rn.client.getJson(power);
      for (const s of Array.isArray(p.PowerSupplies) ? p.PowerSupplies.filter(isObject) : []) {
        out.Power[`${String(s.Name ?? s.MemberId)}@${cid}`] = { identity: s.Name ?? s.MemberId, power_capacity_watts: s.PowerCapacityWatts ?? null, last_power_output_watts: s.LastPowerOutputWatts ?? null, line_input_voltage: s.LineInputVoltage ?? null, health: isObject(s.Status) ? s.Status.Health ?? null : null };
      }
    }
  }
  return out;
}

/** Redfish MediaTypes of each vmedia device kind (Ironic's VMEDIA_DEVICES_MAP; a DVD drive serves a CD request). */
const MEDIA_TYPES: Record<VmediaDeviceType, string[]> = { cdrom: ['CD', 'DVD'], disk: ['USBStick'], floppy: ['Floppy'] };

function mediaTypesOf(device: MediaDevice): string[] {
  return Array.isArray(device.doc.MediaTypes) ? device.doc.MediaTypes.map(String) : [];
}

async function mediaDeviceFor(rn: RedfishNode, kind: VmediaDeviceType): Promise<MediaDevice> {
  if (kind === 'cdrom') return rn.cdDevice();
  const found = (await rn.mediaDevices()).find((d) => mediaTypesOf(d).some((t) => MEDIA_TYPES[kind].includes(t)));
  if (!found) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} offers no virtual media device of type ${kind} (Redfish MediaTypes ${MEDIA_TYPES[kind].join(' or ')})`);
  return found;
}

/** The system's Status.Health (Redfish's Resource.Health: OK, Warning, Critical); null when absent or unknown. */
export function healthOf(system: Json): NodeHealth | null {
  const health = isObject(system.Status) ? system.Status.Health : undefined;
  return health === 'OK' || health === 'Warning' || health === 'Critical' ? health : null;
}

export function redfishManagement(vendor: Vendor): ManagementInterface {
  return {
    name: vendor.name,
    properties: REDFISH_PROPERTIES,
    validate(node) {
      parseRedfishInfo(node);
    },
    async supportedBootDevices(ctx) {
      const system = await (await RedfishNode.open(ctx)).system();
      const allowed = allowedTargets(system);
      const devices = (Object.keys(TARGETS) as BootDevice[]).filter((d) => !allowed || TARGETS[d]!.some((t) => allowed.includes(t)));
      return devices;
    },
    async getBootDevice(ctx) {
      const boot = bootOf(await (await RedfishNode.open(ctx)).system());
      const enabled = boot.BootSourceOverrideEnabled;
      return {
        boot_device: enabled === 'Disabled' ? null : DEVICES[String(boot.BootSourceOverrideTarget)] ?? null,
        persistent: enabled === 'Continuous' ? true : enabled === 'Once' ? false : null,
      };
    },
    async setBootDevice(ctx, device, persistent) {
      const rn = await RedfishNode.open(ctx);
      await (vendor.setBootDevice ?? standardSetBootDevice)(rn, device, persistent);
    },
    async getBootMode(ctx) {
      return bootModeOf(await (await RedfishNode.open(ctx)).system());
    },
    async setBootMode(ctx, mode) {
      const rn = await RedfishNode.open(ctx);
      await (vendor.setBootMode ?? standardSetBootMode)(rn, mode);
      await ctx.save({ boot_mode: mode });
    },
    async setSecureBoot(ctx, enabled) {
      const rn = await RedfishNode.open(ctx);
      const link = linkOf((await rn.system()).SecureBoot);
      if (!link) throw new UnsupportedOperation(`The BMC of node ${ctx.node.uuid} has no SecureBoot resource; secure boot cannot be changed through Redfish`);
      const current = await rn.client.getJson(link);
      if (current.SecureBootEnable !== enabled) await rn.client.patch(link, { SecureBootEnable: enabled });
      await ctx.save({ secure_boot: enabled });
    },
    async getHealth(ctx) {
      return healthOf(takeSystemRead(ctx) ?? (await (await RedfishNode.open(ctx)).system()));
    },
    async getSensorsData(ctx) {
      return sensors(await RedfishNode.open(ctx));
    },
    async getVirtualMedia(ctx) {
      const rn = await RedfishNode.open(ctx);
      return (await rn.mediaDevices()).map((d) => ({ image: typeof d.doc.Image === 'string' && d.doc.Image !== '' ? d.doc.Image : null, inserted: d.doc.Inserted === true, media_types: mediaTypesOf(d) }));
    },
    async attachVirtualMedia(ctx, kind, imageUrl) {
      const rn = await RedfishNode.open(ctx);
      await rn.insertMedia(await mediaDeviceFor(rn, kind), imageUrl);
    },
    async detachVirtualMedia(ctx, kinds) {
      const rn = await RedfishNode.open(ctx);
      if (!kinds || kinds.length === 0) {
        for (const d of await rn.mediaDevices()) await rn.ejectMedia(d);
        return;
      }
      for (const kind of kinds) await rn.ejectMedia(await mediaDeviceFor(rn, kind));
    },
    async getSupportedIndicators(ctx) {
      return supportedIndicators(await RedfishNode.open(ctx));
    },
    async getIndicatorState(ctx, component, name) {
      return indicatorState(await RedfishNode.open(ctx), component, name);
    },
    async setIndicatorState(ctx, component, name, state) {
      await setIndicatorState(await RedfishNode.open(ctx), component, name, state);
      await ctx.note(`Indicator ${name}@${component} set to ${state}`);
    },
    async injectNmi(ctx) {
      const rn = await RedfishNode.open(ctx);
      const type = await rn.pickReset(['Nmi']);
      if (!type) throw new UnsupportedOperation(`The BMC of node ${ctx.node.uuid} does not advertise the Nmi reset type`);
      await rn.reset(type);
    },
  };
}
