// The `irmc` hardware type (Fujitsu PRIMERGY): the Redfish family with iRMC's differences as a
// Vendor (oem.ts), reached through Ironic's irmc_* driver_info keys. For iRMC S4 and older,
// irmc_management_protocol=ipmi sends power and boot device over IPMI with the same address and
// credentials, as Ironic's irmc driver did (update_ipmi_properties); the rest stays on Redfish.
// Every error an irmc interface raises names the iRMC it talked to.
import { withCapabilities } from '../../common/capabilities.ts';
import type {
  BiosInterface, BootInterface, DriverFamily, HardwareType, InspectInterface, ManagementInterface, PowerInterface, StepDefinition, TaskContext,
} from '../interfaces.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { ipmitoolManagement } from '../ipmi/management.ts';
import { ipmitoolPower } from '../ipmi/power.ts';
import { redfishBios } from '../redfish/bios.ts';
import { redfishVirtualMediaBoot } from '../redfish/boot.ts';
import { registerDriverInfoKeys } from '../redfish/driver-info.ts';
import { redfishHardwareType } from '../redfish/index.ts';
import { redfishInspect } from '../redfish/inspect.ts';
import { redfishManagement } from '../redfish/management.ts';
import { redfishPower } from '../redfish/power.ts';
import { redfishRaid } from '../redfish/raid.ts';
import { RedfishNode } from '../redfish/system.ts';
import type { Vendor } from '../redfish/vendor.ts';
import { IRMC_PROPERTIES, ipmiDriverInfo, managementProtocol, parseIrmcInfo } from './driver-info.ts';
import { ejectBootMedia, insertBootMedia, oemCapabilities, oemInventory, setBootDevice, settlePower, stageBiosSettings } from './oem.ts';

export const IRMC: Vendor = { name: 'irmc', bootName: 'irmc-virtual-media', ownOutOfBand: true, setBootDevice, insertBootMedia, ejectBootMedia, settlePower, stageBiosSettings };

registerDriverInfoKeys('irmc', parseIrmcInfo);

/** The redfish family's wording of driver_info keys, in the irmc_* keys an irmc node has. */
const KEY_NAMES: [RegExp, string][] = [
  [/redfish_username and redfish_password/g, 'irmc_username and irmc_password'],
  [/redfish_address/g, 'irmc_address'],
  [/redfish_verify_ca/g, 'irmc_verify_ca'],
];

function nodeOf(arg: unknown): NodeRecord | null {
  if (typeof arg !== 'object' || arg === null) return null;
  return 'driver_info' in arg ? (arg as NodeRecord) : 'node' in arg ? (arg as TaskContext).node : null;
}

/** The error, its message naming the iRMC (when it does not already) and the irmc_* keys. */
function namingTheIrmc(err: unknown, arg: unknown): unknown {
  if (!(err instanceof Error)) return err;
  for (const [from, to] of KEY_NAMES) err.message = err.message.replace(from, to);
  const node = nodeOf(arg);
  if (!node || /\biRMC\b/.test(err.message)) return err;
  let where: string;
  try {
    where = managementProtocol(node) === 'ipmi' ? `${String(ipmiDriverInfo(node).ipmi_address)}:${String(ipmiDriverInfo(node).ipmi_port)} (IPMI)` : parseIrmcInfo(node).origin;
  } catch {
    return err; // driver_info itself is wrong: the parser's message says which key
  }
  err.message = `iRMC ${where} of node ${node.uuid}: ${err.message}`;
  return err;
}

function named<F extends (...args: never[]) => unknown>(fn: F): F {
  return ((...args: Parameters<F>) => {
    try {
      const out = fn(...args);
      return out instanceof Promise ? out.catch((err: unknown) => { throw namingTheIrmc(err, args[0]); }) : out;
    } catch (err) {
      throw namingTheIrmc(err, args[0]);
    }
  }) as F;
}

/** The implementation with each method's (and step's) errors naming the iRMC. */
function namingErrors<T extends { steps?: readonly StepDefinition[] }>(impl: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(impl)) out[key] = typeof value === 'function' ? named((value as (...args: never[]) => unknown).bind(impl)) : value;
  if (impl.steps) out.steps = impl.steps.map((s) => (s.run ? { ...s, run: named(s.run) } : s));
  return out as T;
}

/** The task as the ipmitool interfaces read it: the iRMC's host and credentials as ipmi_* keys. */
function viaIpmi(ctx: TaskContext): TaskContext {
  return Object.create(ctx, {
    node: {
      get: () => ({ ...ctx.node, driver_info: ipmiDriverInfo(ctx.node) }),
      // save() writes the node it read back: the task keeps it (without the derived keys).
      set: (node: NodeRecord) => { (ctx as { node: NodeRecord }).node = { ...node, driver_info: ctx.node.driver_info }; },
    },
  }) as TaskContext;
}

const ipmi = (ctx: TaskContext) => managementProtocol(ctx.node) === 'ipmi';
const ownProperties = { properties: IRMC_PROPERTIES, validate: (node: NodeRecord) => void parseIrmcInfo(node) };

const redfishPowerIface = redfishPower(IRMC);
const power: PowerInterface = {
  name: IRMC.name,
  ...ownProperties,
  getPowerState: (ctx) => (ipmi(ctx) ? ipmitoolPower.getPowerState(viaIpmi(ctx)) : redfishPowerIface.getPowerState(ctx)),
  setPowerState: (ctx, target, timeout) => (ipmi(ctx) ? ipmitoolPower.setPowerState(viaIpmi(ctx), target, timeout) : redfishPowerIface.setPowerState(ctx, target, timeout)),
  reboot: (ctx, soft, timeout) => (ipmi(ctx) ? ipmitoolPower.reboot(viaIpmi(ctx), soft, timeout) : redfishPowerIface.reboot(ctx, soft, timeout)),
};

const redfishMgmt = redfishManagement(IRMC);
const management: ManagementInterface = {
  ...redfishMgmt,
  ...ownProperties,
  supportedBootDevices: (ctx) => (ipmi(ctx) ? ipmitoolManagement.supportedBootDevices(viaIpmi(ctx)) : redfishMgmt.supportedBootDevices(ctx)),
  getBootDevice: (ctx) => (ipmi(ctx) ? ipmitoolManagement.getBootDevice(viaIpmi(ctx)) : redfishMgmt.getBootDevice(ctx)),
  setBootDevice: (ctx, device, persistent) => (ipmi(ctx) ? ipmitoolManagement.setBootDevice(viaIpmi(ctx), device, persistent) : redfishMgmt.setBootDevice(ctx, device, persistent)),
};

const redfishInspectIface = redfishInspect(IRMC);
/** Redfish inspection, with what Ironic's irmc inspection adds from the OEM inventory (capabilities) and the inventory itself. */
const inspect: InspectInterface = {
  ...redfishInspectIface,
  ...ownProperties,
  async inspect(ctx) {
    const outcome = await redfishInspectIface.inspect(ctx);
    if (outcome.outcome !== 'done') return outcome;
    const rn = await RedfishNode.open(ctx);
    const properties = { ...outcome.result.properties, capabilities: withCapabilities(outcome.result.properties?.capabilities, await oemCapabilities(rn)) };
    return { outcome: 'done', result: { ...outcome.result, properties, plugin_data: { ...outcome.result.plugin_data, irmc: await oemInventory(rn) } } };
  },
};

const boot: BootInterface = { ...redfishVirtualMediaBoot(IRMC), ...ownProperties, properties: { ...IRMC_PROPERTIES, deploy_iso: 'URL of the deploy ramdisk ISO: http(s) for the standard virtual CD (iRMC S6), nfs:// or cifs:// for the remote image mount (S4/S5). Required.' } };
const bios: BiosInterface = { ...redfishBios(IRMC), ...ownProperties };
const raid = { ...redfishRaid(IRMC.name), ...ownProperties };

/** The hardware type: irmc implementations, the network boots and deploys beside; the generic Redfish ones are not offered (they know no OEM). */
function irmcHardwareType(): HardwareType {
  const base = redfishHardwareType('irmc', IRMC);
  const drop = (list: readonly string[]) => list.filter((n) => !n.startsWith('redfish'));
  return {
    ...base,
    interfaces: {
      ...base.interfaces,
      power: [IRMC.name],
      management: [IRMC.name],
      boot: drop(base.interfaces.boot),
      inspect: drop(base.interfaces.inspect),
      bios: drop(base.interfaces.bios),
      raid: drop(base.interfaces.raid),
      vendor: ['no-vendor'],
      firmware: ['no-firmware'],
    },
  };
}

export const irmcFamily: DriverFamily = {
  implementations: {
    power: [namingErrors(power)],
    management: [namingErrors(management)],
    inspect: [namingErrors(inspect)],
    boot: [namingErrors(boot)],
    bios: [namingErrors(bios)],
    raid: [namingErrors(raid)],
  },
  hardwareTypes: [irmcHardwareType()],
};
