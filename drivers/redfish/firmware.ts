// The Redfish firmware interface (Ironic's redfish/firmware.py, its own way): the BIOS version from
// the system (BiosVersion), the BMC's from its manager (FirmwareVersion, with the manager's vendor,
// model and serial number) and each network adapter's of the system's chassis (`nic:<Id>`, from its
// first controller's FirmwarePackageVersion) are the components;
// firmware.update sends each image to UpdateService.SimpleUpdate, follows its task to the end,
// then reboots for a BIOS image (flashed at the reset) or waits for the BMC to run its new one, and
// records the new version as last_version_flashed. A clean and a service step.
import { BmcTimeout, InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { FirmwareComponent, FirmwareInterface, StepDefinition, StepKind, TaskContext } from '../interfaces.ts';
import type { Json } from './client.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { isObject, linkOf, memberLinks, RedfishNode } from './system.ts';

/** Seconds a flashed component may take to report its new version (a BIOS at the reset, a BMC restarting). */
const FLASH_TIMEOUT_SEC = 900;
const COMPONENTS = ['bios', 'bmc'] as const;
type Component = (typeof COMPONENTS)[number];

async function managerPath(rn: RedfishNode): Promise<string> {
  const [manager] = await rn.managers();
  if (!manager) throw new UnsupportedOperation(`The system of node ${rn.node.uuid} names no manager (BMC)`);
  return manager;
}

async function versionOf(rn: RedfishNode, component: Component): Promise<string | null> {
  const doc = component === 'bios' ? await rn.system() : await rn.client.getJson(await managerPath(rn));
  const v = component === 'bios' ? doc.BiosVersion : doc.FirmwareVersion;
  return typeof v === 'string' && v !== '' ? v : null;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Vendor, model and serial number of a Redfish resource, as far as it names them. */
function identityOf(doc: Json): Pick<FirmwareComponent, 'vendor' | 'model' | 'serial_number'> {
  return { vendor: text(doc.Manufacturer), model: text(doc.Model), serial_number: text(doc.SerialNumber) };
}

/** The network adapters of the system's chassis, each with the firmware its first controller runs. */
async function nicComponents(rn: RedfishNode): Promise<FirmwareComponent[]> {
  const system = await rn.system();
  const chassis = isObject(system.Links) && Array.isArray(system.Links.Chassis) ? linkOf(system.Links.Chassis[0]) : undefined;
  if (!chassis) return [];
  const adapters = linkOf((await rn.client.getJson(chassis)).NetworkAdapters);
  if (!adapters) return [];
  const out: FirmwareComponent[] = [];
  for (const link of memberLinks(await rn.client.getJson(adapters))) {
    const adapter = await rn.client.getJson(link);
    const controller = Array.isArray(adapter.Controllers) && isObject(adapter.Controllers[0]) ? adapter.Controllers[0] : {};
    const version = text(controller.FirmwarePackageVersion);
    if (version && text(adapter.Id)) out.push({ component: `nic:${adapter.Id}`, current_version: version, ...identityOf(adapter) });
  }
  return out;
}

async function readComponents(rn: RedfishNode): Promise<FirmwareComponent[]> {
  const out: FirmwareComponent[] = [];
  const bios = await versionOf(rn, 'bios');
  if (bios) out.push({ component: 'bios', current_version: bios });
  const manager = await rn.client.getJson(await managerPath(rn));
  const bmc = text(manager.FirmwareVersion);
  if (bmc) out.push({ component: 'bmc', current_version: bmc, ...identityOf(manager) });
  return [...out, ...(await nicComponents(rn))];
}

/** update's `settings`: a list of {component: bios|bmc, url}. */
function requestedUpdates(args: Json): { component: Component; url: string }[] {
  const settings = args.settings;
  if (!Array.isArray(settings) || settings.length === 0) throw new InvalidInput('firmware.update needs "settings": a non-empty list of {"component": "bios" or "bmc", "url": ...}');
  return settings.map((s, i) => {
    if (!isObject(s) || typeof s.component !== 'string' || typeof s.url !== 'string') throw new InvalidInput(`firmware.update settings[${i}] must be {"component": string, "url": string}`);
    if (!(COMPONENTS as readonly string[]).includes(s.component)) throw new InvalidInput(`firmware.update settings[${i}]: component "${s.component}" is not supported; use ${COMPONENTS.join(' or ')}`);
    if (!/^https?:\/\//i.test(s.url)) throw new InvalidInput(`firmware.update settings[${i}]: url must be http(s)://, got "${s.url}"`);
    return { component: s.component as Component, url: s.url };
  });
}

async function simpleUpdateTarget(rn: RedfishNode): Promise<string> {
  const service = linkOf((await rn.client.root()).UpdateService);
  if (!service) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} has no UpdateService`);
  const doc = await rn.client.getJson(service);
  const action = isObject(doc.Actions) && isObject(doc.Actions['#UpdateService.SimpleUpdate']) ? doc.Actions['#UpdateService.SimpleUpdate'] : null;
  if (!action || typeof action.target !== 'string') throw new UnsupportedOperation(`The UpdateService of node ${rn.node.uuid}'s BMC offers no SimpleUpdate action`);
  return action.target;
}

async function update(ctx: TaskContext, args: Json): Promise<void> {
  const updates = requestedUpdates(args);
  const rn = await RedfishNode.open(ctx);
  const target = await simpleUpdateTarget(rn);
  for (const { component, url } of updates) {
    const before = await versionOf(rn, component);
    const resource = component === 'bios' ? rn.systemPath : await managerPath(rn);
    await ctx.note(`Firmware update of ${component} from ${url} started (running ${before ?? 'unknown'})`);
    // post() follows the task monitor to the task's end; a failed task throws with its messages.
    await rn.client.post(target, { ImageURI: url, TransferProtocol: url.toLowerCase().startsWith('https') ? 'HTTPS' : 'HTTP', Targets: [resource] });
    if (component === 'bios') await ctx.driver.power.reboot(ctx, false);
    let now: string | null = before;
    await pollUntil(async () => ((now = await versionOf(rn, component)) !== before ? true : undefined), {
      timeoutSec: FLASH_TIMEOUT_SEC, signal: rn.signal, intervalMs: 100, maxIntervalMs: 2000,
      timedOut: () => new BmcTimeout(`The ${component} of node ${rn.node.uuid} still runs ${now ?? 'unknown'} ${FLASH_TIMEOUT_SEC} s after its update from ${url}`),
    });
    await ctx.saveFirmwareComponents([{ component, current_version: now!, last_version_flashed: now! }]);
    await ctx.note(`Firmware update of ${component} done: ${before ?? 'unknown'} -> ${now}`);
  }
  await ctx.saveFirmwareComponents(await readComponents(rn));
}

const UPDATE_ARGS = { settings: { description: 'Firmware images to apply, in order: [{"component": "bios" or "bmc", "url": ...}]', required: true } };

export function redfishFirmware(name: string): FirmwareInterface {
  const kinds: StepKind[] = ['clean', 'service'];
  const steps: StepDefinition[] = kinds.map((kind) => ({ kind, step: 'update', priority: 0, argsinfo: UPDATE_ARGS, requiresRamdisk: false, abortable: false, run: update }));
  return {
    name,
    properties: REDFISH_PROPERTIES,
    steps,
    validate: (node) => void parseRedfishInfo(node),
    async cacheComponents(ctx) {
      await ctx.saveFirmwareComponents(await readComponents(await RedfishNode.open(ctx)));
    },
  };
}
