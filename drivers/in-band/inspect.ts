// The `agent` inspect interface: the node boots the agent ramdisk with an inspection callback;
// the inventory it posts (POST /v1/continue_inspection) becomes properties, ports (with
// local_link_connection from LLDP) and the stored inventory — Ironic's default hooks.
import { InvalidInput } from '../../common/errors.ts';
import type { InspectInterface, InspectedPort, InspectionResult } from '../interfaces.ts';
import { normalizeMac } from '../../common/mac.ts';
import { bootRamdisk, withoutAgentBoot } from './ramdisk-boot.ts';
import { powerOffUnlessDisabled } from '../power-flows.ts';

type Json = Record<string, unknown>;

const GIB = 1024 ** 3;

/** LLDP TLVs ([type, hex value]) → local_link_connection, as Ironic's local_link_connection hook. */
export function linkFromLldp(tlvs: unknown): Json | undefined {
  if (!Array.isArray(tlvs)) return undefined;
  const link: Json = {};
  for (const tlv of tlvs) {
    if (!Array.isArray(tlv) || tlv.length !== 2 || typeof tlv[1] !== 'string') continue;
    const [type, hex] = tlv as [number, string];
    const value = Buffer.from(hex, 'hex');
    if (value.length === 0) continue;
    if (type === 1 && value[0] === 4 && value.length === 7) {
      link.switch_id = [...value.subarray(1)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    } else if (type === 2) {
      const subtype = value[0];
      const body = value.subarray(1);
      link.port_id = subtype === 3 && body.length === 6 ? [...body].map((b) => b.toString(16).padStart(2, '0')).join(':') : body.toString('utf8');
    } else if (type === 5) {
      link.switch_info = value.toString('utf8');
    }
  }
  return Object.keys(link).length ? link : undefined;
}

/** Properties Ironic derives from an inventory: cpus, cpu_arch, memory_mb, local_gb (root disk, minus 1 GiB for partitioning). */
export function propertiesFrom(inventory: Json, rootDisk: Json | null): Json {
  const cpu = (inventory.cpu ?? {}) as Json;
  const memory = (inventory.memory ?? {}) as Json;
  const disks = (inventory.disks ?? []) as Json[];
  const root = rootDisk ?? disks.filter((d) => Number(d.size) >= 4 * GIB).sort((a, b) => Number(a.size) - Number(b.size))[0] ?? null;
  const props: Json = {};
  if (Number.isInteger(cpu.count)) props.cpus = cpu.count;
  if (typeof cpu.architecture === 'string' && cpu.architecture) props.cpu_arch = cpu.architecture;
  if (Number.isFinite(Number(memory.physical_mb)) && Number(memory.physical_mb) > 0) props.memory_mb = Number(memory.physical_mb);
  if (root && Number(root.size) > 0) props.local_gb = Math.max(0, Math.floor(Number(root.size) / GIB) - 1);
  const mode = ((inventory.boot ?? {}) as Json).current_boot_mode;
  if (mode === 'uefi' || mode === 'bios') props.capabilities = `boot_mode:${mode}`;
  return props;
}

/** The InspectionResult for data posted by the agent. */
export function inspectionResult(data: Json): InspectionResult {
  const inventory = data.inventory as Json | undefined;
  if (!inventory || typeof inventory !== 'object' || !Array.isArray(inventory.interfaces)) {
    throw new InvalidInput('The inspection data has no inventory with interfaces');
  }
  const { inventory: _inv, ...pluginData } = data;
  const bootMac = ((inventory.boot ?? {}) as Json).pxe_interface;
  const lldpRaw = (data.lldp_raw ?? {}) as Json;
  const ports: InspectedPort[] = [];
  for (const nic of inventory.interfaces as Json[]) {
    if (typeof nic.mac_address !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(nic.mac_address)) continue;
    const address = normalizeMac(nic.mac_address);
    const link = linkFromLldp(nic.lldp ?? lldpRaw[String(nic.name)]);
    ports.push({ address, pxe_enabled: typeof bootMac === 'string' ? normalizeMac(bootMac) === address : true, ...(link ? { local_link_connection: link } : {}) });
  }
  return {
    properties: propertiesFrom(inventory, (data.root_disk as Json | null | undefined) ?? null),
    inventory,
    plugin_data: pluginData,
    ports,
  };
}

export const agentInspect: InspectInterface = {
  name: 'agent',
  validate() {},
  async inspect(ctx) {
    await bootRamdisk(ctx, 'inspect', []);
    await ctx.note('Booting the agent ramdisk for inspection; waiting for its inventory');
    return { outcome: 'wait' };
  },
  async continueInspection(ctx, data) {
    const result = inspectionResult(data);
    // Ironic reboots a node with disable_power_off where it would power it off (inspector tear_down_managed_boot).
    if (ctx.node.disable_power_off) await ctx.driver.power.reboot(ctx, false);
    else await ctx.driver.power.setPowerState(ctx, 'power off');
    await ctx.driver.boot.cleanUpRamdisk(ctx);
    await ctx.save(withoutAgentBoot(ctx));
    return result;
  },
  async abort(ctx) {
    await powerOffUnlessDisabled(ctx);
    await ctx.driver.boot.cleanUpRamdisk(ctx);
  },
};
