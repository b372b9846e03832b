// The `agent` inspect interface: the node boots the agent ramdisk with an inspection callback;
// the inventory it posts (POST /v1/continue_inspection) becomes properties, ports (with
// local_link_connection from LLDP) and the stored inventory — Ironic's default hooks.
import { InvalidInput } from '../../common/errors.ts';
import type { InspectInterface, InspectedPort, InspectionResult } from '../interfaces.ts';
import { normalizeMac } from '../../common/mac.ts';
import { bootRamdisk, withoutAgentBoot } from './ramdisk-boot.ts';
import { powerOffUnlessDisabled } from '../power-flows.ts';
import { linkFromParsed, parseLldp } from './lldp.ts';
import { fastTrackEnabled } from './fast-track.ts';

type Json = Record<string, unknown>;

const GIB = 1024 ** 3;

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
  // Ironic's parse-lldp hook: the parsed neighbour of each interface, by interface name.
  const parsedLldp: Record<string, Json> = {};
  for (const nic of inventory.interfaces as Json[]) {
    const parsed = parseLldp(nic.lldp ?? lldpRaw[String(nic.name)]);
    if (parsed) parsedLldp[String(nic.name)] = parsed;
    if (typeof nic.mac_address !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(nic.mac_address)) continue;
    const address = normalizeMac(nic.mac_address);
    const link = linkFromParsed(parsed);
    ports.push({ address, pxe_enabled: typeof bootMac === 'string' ? normalizeMac(bootMac) === address : true, ...(link ? { local_link_connection: link } : {}) });
  }
  return {
    properties: propertiesFrom(inventory, (data.root_disk as Json | null | undefined) ?? null),
    inventory,
    plugin_data: Object.keys(parsedLldp).length ? { ...pluginData, parsed_lldp: parsedLldp } : pluginData,
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
    if (fastTrackEnabled(ctx)) {
      // Fast track: the agent looks itself up and heart-beats on; cleaning or deploy reuses it.
      await ctx.note('Inspection data received; fast track leaves the agent running for the next phase');
      return result;
    }
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
