// The `ovirt` management interface (staging-ovirt's OVirtManagement): the boot device is the first
// of the VM's os.boot.devices, set by an update of the VM with that one device. The Engine keeps
// the boot order, so every setting is persistent.
import { InvalidInput } from '../../common/errors.ts';
import type { BootDevice, ManagementInterface } from '../interfaces.ts';
import type { Json } from './client.ts';
import { OVIRT_PROPERTIES, parseOvirtInfo } from './driver-info.ts';
import { readVm, vmOf } from './vm.ts';

/** Ironic's boot devices and the Engine's BootDevice values (types/BootDevice.java). */
const OVIRT_DEVICE: Partial<Record<BootDevice, string>> = { pxe: 'network', disk: 'hd', cdrom: 'cdrom' };
const IRONIC_DEVICE: Readonly<Record<string, BootDevice>> = Object.fromEntries(Object.entries(OVIRT_DEVICE).map(([k, v]) => [v, k as BootDevice]));
const SUPPORTED = Object.keys(OVIRT_DEVICE) as BootDevice[];

const field = (v: unknown, key: string): unknown => (typeof v === 'object' && v !== null ? (v as Json)[key] : undefined);

/** os.boot.devices.device of a VM in the JSON representation: the XML's repeated element as a list. */
function bootDevices(vm: Json): string[] {
  const list = field(field(field(field(vm, 'os'), 'boot'), 'devices'), 'device');
  return Array.isArray(list) ? list.filter((d): d is string => typeof d === 'string') : typeof list === 'string' ? [list] : [];
}

export const ovirtManagement: ManagementInterface = {
  name: 'ovirt',
  properties: OVIRT_PROPERTIES,
  validate(node) {
    parseOvirtInfo(node);
  },
  async supportedBootDevices() {
    return SUPPORTED;
  },
  async getBootDevice(ctx) {
    const vm = await vmOf(ctx);
    const first = bootDevices(await readVm(vm, ctx.signal))[0];
    return first ? { boot_device: IRONIC_DEVICE[first] ?? null, persistent: true } : { boot_device: null, persistent: null };
  },
  // `persistent` is not asked for: the Engine's boot order stays until it is changed (as in staging-ovirt).
  async setBootDevice(ctx, device) {
    const target = OVIRT_DEVICE[device];
    if (!target) throw new InvalidInput(`Boot device "${device}" is not supported by the ovirt management interface (${SUPPORTED.join(', ')})`);
    const vm = await vmOf(ctx);
    await vm.client.request('PUT', `/vms/${vm.id}`, `boot device update of VM ${vm.info.vmName}`, { os: { boot: { devices: { device: [target] } } } }, ctx.signal);
  },
};
