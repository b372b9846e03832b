// Ironic's inspection hooks (ironic/drivers/modules/inspector/hooks), as a table: each reads the
// inventory and plugin data and adds to what inspection writes (properties, capabilities, ports).
// Pure: applyInspection (inspection.ts) writes the outcome. `ports` (add_ports) always runs; the
// others when named in inspection.hooks.
import { BlockList, isIP } from 'node:net';
import type { InspectionConfig, InspectionHook } from '../../common/config.ts';
import { parseCapabilities } from '../../common/capabilities.ts';
import { DriverError } from '../../common/errors.ts';
import { normalizeMac } from '../../common/mac.ts';
import type { InventoryDisk } from '../../deploy-agent/inventory.ts';
import { pickRootDisk } from '../../deploy-agent/root-device.ts';
import type { InspectedPort } from '../../drivers/interfaces.ts';

type Json = Record<string, unknown>;

export interface HookInput {
  node: { uuid: string; properties: Json };
  inventory: Json;
  pluginData: Json;
  /** The inventory of the node's previous inspection (raid-device compares with it). */
  previousInventory: Json | undefined;
  config: InspectionConfig;
}

/** What the hooks add: properties (merged), capabilities (merged into the string), the ports to create or link. */
export interface HookOutput {
  properties: Json;
  capabilities: Record<string, string>;
  ports: InspectedPort[];
  /** Notes for the node's history (what a hook chose, or why it could not). */
  notes: string[];
}

const GIB = 1024 ** 3;
const isDict = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const interfacesOf = (inventory: Json): Json[] => (Array.isArray(inventory.interfaces) ? inventory.interfaces.filter(isDict) : []);
const macOf = (nic: Json): string | undefined => (typeof nic.mac_address === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(nic.mac_address) ? normalizeMac(nic.mac_address) : undefined);
const ipOf = (nic: Json): string | undefined => {
  const ip = (nic.ipv4_address ?? (typeof nic.ipv6_address === 'string' ? nic.ipv6_address.split('%')[0] : undefined)) as string | undefined;
  return typeof ip === 'string' && isIP(ip) ? ip : undefined;
};
const pciDevicesOf = (data: Json): Json[] => (Array.isArray(data.pci_devices) ? data.pci_devices.filter(isDict) : []);
const hex = (v: unknown) => String(v ?? '').toLowerCase().replace(/^0x/, '');

/** The PXE NIC's MAC: inventory.boot.pxe_interface, also in pxelinux's 01-aa-bb-... form. */
function pxeMac(inventory: Json): string | undefined {
  const raw = isDict(inventory.boot) ? inventory.boot.pxe_interface : undefined;
  if (typeof raw !== 'string' || raw === '') return undefined;
  const mac = /^01-/.test(raw) && raw.length === 20 ? raw.slice(3).replace(/-/g, ':') : raw;
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) ? normalizeMac(mac) : undefined;
}

/** add_ports: all NICs, those with an address (active), or the PXE one (pxe; all with an address when none is known). */
function addPorts(input: HookInput, out: HookOutput): void {
  const policy = input.config.addPorts;
  if (policy === 'all' || out.ports.length === 0) return;
  const nics = new Map(interfacesOf(input.inventory).flatMap((n) => (macOf(n) ? [[macOf(n)!, n] as const] : [])));
  const pxe = pxeMac(input.inventory);
  const kept = out.ports.filter((p) => {
    const nic = nics.get(normalizeMac(p.address));
    if (policy === 'pxe' && pxe) return normalizeMac(p.address) === pxe;
    return nic !== undefined && ipOf(nic) !== undefined;
  });
  if (kept.length === 0) throw new DriverError(`no network interfaces match the configuration (inspection.addPorts set to "${policy}")`, 'InvalidNodeInventory');
  out.ports = kept;
}

function cpuCapabilities(input: HookInput, out: HookOutput): void {
  const cpu = isDict(input.inventory.cpu) ? input.inventory.cpu : {};
  const flags = new Set(Array.isArray(cpu.flags) ? cpu.flags.map(String) : []);
  for (const [flag, capability] of Object.entries(input.config.cpuCapabilities)) if (flags.has(flag)) out.capabilities[capability] = 'true';
}

/** pci-devices: a capability per alias, counting the devices that match it. */
function pciDevices(input: HookInput, out: HookOutput): void {
  const devices = pciDevicesOf(input.pluginData);
  if (devices.length === 0) {
    if (input.config.pciDeviceAliases.length) out.notes.push('The ramdisk reported no PCI devices; the pci-devices hook set no capability');
    return;
  }
  for (const alias of input.config.pciDeviceAliases) {
    const count = devices.filter((d) => hex(d.vendor_id) === hex(alias.vendor_id) && hex(d.product_id) === hex(alias.product_id)).length;
    if (count) out.capabilities[alias.name] = String(count);
  }
}

/** accelerators: properties.accelerators lists the known accelerators among the PCI devices. */
function accelerators(input: HookInput, out: HookOutput): void {
  const found = pciDevicesOf(input.pluginData).flatMap((d) => {
    const known = input.config.knownAccelerators.find((k) => hex(k.vendor_id) === hex(d.vendor_id) && hex(k.device_id) === hex(d.product_id));
    return known ? [{ vendor_id: hex(d.vendor_id), device_id: hex(d.product_id), type: known.type, device_info: known.device_info, pci_address: d.bus ?? null }] : [];
  });
  if (found.length) out.properties.accelerators = found;
}

/** root-device: the disk the root device hints name (else the smallest of 4 GiB or more) sets local_gb. */
function rootDevice(input: HookInput, out: HookOutput): void {
  const disks = (Array.isArray(input.inventory.disks) ? input.inventory.disks.filter(isDict) : []) as unknown as InventoryDisk[];
  if (disks.length === 0) return;
  const hints = isDict(input.node.properties.root_device) ? input.node.properties.root_device : null;
  let disk: InventoryDisk;
  try {
    disk = pickRootDisk(disks, hints, 4 * GIB);
  } catch (err) {
    if (!hints) return;
    throw new DriverError((err as Error).message, 'HardwareInspectionFailure');
  }
  input.pluginData.root_disk = disk;
  const gib = Math.floor(disk.size / GIB) - (input.config.diskPartitioningSpacing ? 1 : 0);
  out.properties.local_gb = Math.max(0, gib);
  if (hints) out.notes.push(`Root device hints ${JSON.stringify(hints)} chose ${disk.name} (${Math.floor(disk.size / GIB)} GiB)`);
}

/** raid-device: exactly one disk serial that the previous inspection did not see becomes the root_device hint. */
function raidDevice(input: HookInput, out: HookOutput): void {
  if ('root_device' in input.node.properties) return;
  const serials = (inv: Json | undefined) => (Array.isArray(inv?.disks) ? inv.disks.filter(isDict).map((d) => d.serial).filter((s): s is string => typeof s === 'string' && s !== '') : []);
  const now = serials(input.inventory);
  if (now.length === 0 || !input.previousInventory) return;
  const before = new Set(serials(input.previousInventory));
  const added = now.filter((s) => !before.has(s));
  if (added.length === 1) {
    out.properties.root_device = { serial: added[0] };
    out.notes.push(`A new disk (serial ${added[0]}) appeared since the last inspection: it is the root device`);
  } else if (added.length > 1) {
    out.notes.push(`The root device cannot be told: ${added.length} new disks appeared since the last inspection (${added.join(', ')})`);
  }
}

/** physical-network: a port whose NIC has an address in a mapped network gets that physical_network. */
function physicalNetwork(input: HookInput, out: HookOutput): void {
  const map = Object.entries(input.config.physicalNetworkCidrMap).map(([cidr, physnet]) => {
    const [net, bits] = cidr.split('/');
    const list = new BlockList();
    const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net, Number(bits), family);
    return { list, physnet };
  });
  const nics = new Map(interfacesOf(input.inventory).flatMap((n) => (macOf(n) ? [[macOf(n)!, n] as const] : [])));
  for (const port of out.ports) {
    const ip = nics.get(normalizeMac(port.address)) && ipOf(nics.get(normalizeMac(port.address))!);
    if (!ip) continue;
    const hit = map.find((m) => m.list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4'));
    if (hit) port.physical_network = hit.physnet;
  }
}

const OPTIONAL: Record<InspectionHook, (input: HookInput, out: HookOutput) => void> = {
  'cpu-capabilities': cpuCapabilities,
  'pci-devices': pciDevices,
  accelerators,
  'root-device': rootDevice,
  'raid-device': raidDevice,
  'physical-network': physicalNetwork,
};

/** Runs add_ports and the configured hooks over what the inspect interface found. */
export function runHooks(input: HookInput, found: { properties?: Json; ports?: InspectedPort[] }): HookOutput {
  const properties = { ...(found.properties ?? {}) };
  const capabilities = Object.fromEntries(parseCapabilities(properties.capabilities));
  delete properties.capabilities;
  const out: HookOutput = { properties, capabilities, ports: (found.ports ?? []).map((p) => ({ ...p })), notes: [] };
  addPorts(input, out);
  for (const hook of input.config.hooks) OPTIONAL[hook](input, out);
  return out;
}

/** keep_ports: the MACs of the node's ports inspection removes (none for `all`). */
export function portsToRemove(policy: InspectionConfig['keepPorts'], inventory: Json, kept: readonly InspectedPort[], existing: readonly string[]): string[] {
  if (policy === 'all') return [];
  const wanted = new Set(policy === 'present' ? interfacesOf(inventory).map(macOf).filter((m): m is string => !!m) : kept.map((p) => normalizeMac(p.address)));
  // An inspection that saw no NIC at all (out of band, a BMC without them) says nothing about the ports.
  if (wanted.size === 0) return [];
  return existing.filter((mac) => !wanted.has(normalizeMac(mac)));
}
