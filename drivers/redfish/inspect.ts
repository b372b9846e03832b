// Out-of-band inspection through Redfish: CPUs, memory, disks (Storage/Drives and SimpleStorage),
// NICs with their MACs (which become ports) and the boot mode, stored as Ironic stores them:
// properties (cpus, cpu_arch, memory_mb, local_gb, capabilities) and an IPA-shaped inventory.
import { withCapabilities } from '../../common/capabilities.ts';
import { normalizeMac } from '../../common/mac.ts';
import type { InspectInterface, InspectedPort } from '../interfaces.ts';
import { RedfishError, type Json } from './client.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { bootModeOf } from './management.ts';
import { isObject, linkOf, memberLinks, RedfishNode } from './system.ts';
import type { Vendor } from './vendor.ts';

const GIB = 1024 ** 3;
const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;

interface Disk { name: string; size: number; model: string | null; serial: string | null; rotational: boolean }

/** GETs a link; a resource the BMC does not have (404) is skipped, as partial trees and old firmware lack many. */
async function optional(rn: RedfishNode, link: string | null): Promise<Json | null> {
  if (!link) return null;
  try {
    return await rn.client.getJson(link);
  } catch (err) {
    if (err instanceof RedfishError && (err.status === 404 || err.status === 501)) return null;
    throw err;
  }
}

async function members(rn: RedfishNode, link: string | null): Promise<Json[]> {
  const coll = await optional(rn, link);
  if (!coll) return [];
  const out: Json[] = [];
  for (const m of memberLinks(coll)) {
    const doc = await optional(rn, m);
    if (doc) out.push(doc);
  }
  return out;
}

function archOf(cpu: Json | undefined): string | null {
  const set = String(cpu?.InstructionSet ?? '');
  const arch = String(cpu?.ProcessorArchitecture ?? '');
  if (set === 'x86-64' || (arch === 'x86' && set !== 'x86')) return 'x86_64';
  if (set === 'x86') return 'i686';
  if (set === 'ARM-A64' || arch === 'ARM') return 'aarch64';
  if (set === 'PowerISA' || arch === 'Power') return 'ppc64le';
  return null;
}

async function disks(rn: RedfishNode, system: Json): Promise<Disk[]> {
  const out: Disk[] = [];
  for (const storage of await members(rn, linkOf(system.Storage))) {
    const drives = Array.isArray(storage.Drives) ? storage.Drives.map(linkOf).filter((l): l is string => !!l) : [];
    for (const link of drives) {
      const d = await optional(rn, link);
      if (!d || typeof d.CapacityBytes !== 'number') continue;
      out.push({ name: String(d.Name ?? d.Id), size: d.CapacityBytes, model: typeof d.Model === 'string' ? d.Model : null, serial: typeof d.SerialNumber === 'string' ? d.SerialNumber : null, rotational: d.MediaType === 'HDD' });
    }
  }
  if (out.length === 0) {
    for (const simple of await members(rn, linkOf(system.SimpleStorage))) {
      for (const dev of Array.isArray(simple.Devices) ? simple.Devices.filter(isObject) : []) {
        if (typeof dev.CapacityBytes !== 'number') continue;
        out.push({ name: String(dev.Name ?? 'disk'), size: dev.CapacityBytes, model: typeof dev.Model === 'string' ? dev.Model : null, serial: null, rotational: false });
      }
    }
  }
  return out;
}

export function redfishInspect(vendor: Vendor): InspectInterface {
  return {
    name: vendor.name,
    properties: REDFISH_PROPERTIES,
    validate(node) {
      parseRedfishInfo(node);
    },
    async inspect(ctx) {
      const rn = await RedfishNode.open(ctx);
      const system = await rn.system();
      const summary = isObject(system.ProcessorSummary) ? system.ProcessorSummary : {};
      const cpus = (await members(rn, linkOf(system.Processors))).filter((p) => p.ProcessorType === undefined || p.ProcessorType === 'CPU');
      const threads = cpus.reduce((n, p) => n + (typeof p.TotalThreads === 'number' ? p.TotalThreads : 0), 0);
      const count = typeof summary.LogicalProcessorCount === 'number' ? summary.LogicalProcessorCount : threads || (typeof summary.Count === 'number' ? summary.Count : null);
      const model = String(cpus[0]?.Model ?? summary.Model ?? '').trim() || null;
      const arch = archOf(cpus[0]);
      const memory = isObject(system.MemorySummary) && typeof system.MemorySummary.TotalSystemMemoryGiB === 'number' ? Math.round(system.MemorySummary.TotalSystemMemoryGiB * 1024) : null;
      const found = await disks(rn, system);
      const largest = found.reduce((m, d) => Math.max(m, d.size), 0);
      const nics = (await members(rn, linkOf(system.EthernetInterfaces)))
        .map((n) => ({ name: String(n.Id ?? n.Name ?? ''), mac: normalizeMac(String(n.MACAddress ?? n.PermanentMACAddress ?? '')), speed: n.SpeedMbps }))
        .filter((n) => MAC.test(n.mac) && n.mac !== '00:00:00:00:00:00')
        // A VLAN interface repeats its parent's MAC: one port per MAC.
        .filter((n, i, all) => all.findIndex((o) => o.mac === n.mac) === i);
      const bootMode = bootModeOf(system);

      const properties: Json = {};
      if (count) properties.cpus = count;
      if (arch) properties.cpu_arch = arch;
      if (memory) properties.memory_mb = memory;
      if (largest) properties.local_gb = Math.max(0, Math.floor(largest / GIB) - 1);
      const caps = withCapabilities(ctx.node.properties.capabilities, bootMode ? { boot_mode: bootMode } : {}) || undefined;
      if (caps) properties.capabilities = caps;
      const missing = ['cpus', 'cpu_arch', 'memory_mb', 'local_gb'].filter((k) => !(k in properties));
      if (missing.length) await ctx.note(`Redfish inspection of node ${ctx.node.uuid} could not find ${missing.join(', ')} on the BMC`, 'warning');

      const ports: InspectedPort[] = nics.map((n) => ({ address: n.mac }));
      const inventory: Json = {
        cpu: { count, model_name: model, architecture: arch },
        memory: { physical_mb: memory, total: memory ? memory * 1024 * 1024 : null },
        disks: found.map((d) => ({ name: d.name, size: d.size, model: d.model, serial: d.serial, rotational: d.rotational })),
        interfaces: nics.map((n) => ({ name: n.name, mac_address: n.mac, speed_mbps: typeof n.speed === 'number' ? n.speed : null })),
        system_vendor: { manufacturer: system.Manufacturer ?? null, product_name: system.Model ?? null, serial_number: system.SerialNumber ?? null },
        boot: { current_boot_mode: bootMode },
      };
      return { outcome: 'done', result: { properties, inventory, plugin_data: { redfish_system: rn.systemPath }, ports } };
    },
  };
}
