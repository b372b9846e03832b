// The Redfish bios interface (Ironic's redfish/bios.py, its own way): settings read from the
// system's Bios resource with the attribute registry the BMC serves (Registries collection), changes
// staged in the @Redfish.Settings object and applied by a reboot, factory defaults by
// Bios.ResetBios and a reboot. apply_configuration and factory_reset are clean and service steps;
// after each the settings are read again (the cache behind GET /v1/nodes/{id}/bios).
import { BmcTimeout, DriverError, InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { BiosInterface, BiosSetting, StepDefinition, StepKind, TaskContext } from '../interfaces.ts';
import type { Json } from './client.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { isObject, linkOf, memberLinks, RedfishNode } from './system.ts';
import type { Vendor } from './vendor.ts';

/** Seconds a reboot may take to apply staged settings (the BMC shows them once the host has started). */
const APPLY_TIMEOUT_SEC = 600;

interface RegistryEntry { [key: string]: unknown }

async function biosResource(rn: RedfishNode): Promise<{ path: string; doc: Json }> {
  const path = linkOf((await rn.system()).Bios);
  if (!path) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} exposes no Bios resource for its system`);
  return { path, doc: await rn.client.getJson(path) };
}

/** The attribute registry the Bios resource names, from the service's Registries; [] when the BMC serves none. */
async function registryEntries(rn: RedfishNode, bios: Json): Promise<RegistryEntry[]> {
  const name = typeof bios.AttributeRegistry === 'string' ? bios.AttributeRegistry : null;
  const registries = linkOf((await rn.client.root()).Registries);
  if (!name || !registries) return [];
  for (const member of memberLinks(await rn.client.getJson(registries))) {
    const file = await rn.client.getJson(member);
    if (file.Registry !== name && file.Id !== name) continue;
    const locations = Array.isArray(file.Location) ? file.Location.filter(isObject) : [];
    const location = locations.find((l) => l.Language === 'en') ?? locations[0];
    if (!location || typeof location.Uri !== 'string') return [];
    const doc = await rn.client.getJson(location.Uri);
    const entries = isObject(doc.RegistryEntries) && Array.isArray(doc.RegistryEntries.Attributes) ? doc.RegistryEntries.Attributes : [];
    return entries.filter(isObject);
  }
  return [];
}

/** Values as Ironic stores them: strings (Python's str() of booleans, as its StringField coerces). */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function settingOf(name: string, value: unknown, entry: RegistryEntry | undefined): BiosSetting {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);
  const values = entry && Array.isArray(entry.Value) ? entry.Value.filter(isObject).map((v) => String(v.ValueName)) : null;
  return {
    name,
    value: asText(value),
    attribute_type: entry && typeof entry.Type === 'string' ? entry.Type : null,
    allowable_values: values,
    lower_bound: num(entry?.LowerBound),
    upper_bound: num(entry?.UpperBound),
    min_length: num(entry?.MinLength),
    max_length: num(entry?.MaxLength),
    read_only: bool(entry?.ReadOnly),
    reset_required: bool(entry?.ResetRequired),
    unique: bool(entry?.IsSystemUniqueProperty),
  };
}

/** The node's settings with their registry fields, as the BMC shows them now. */
export async function readBiosSettings(rn: RedfishNode): Promise<BiosSetting[]> {
  const { doc } = await biosResource(rn);
  const attrs = isObject(doc.Attributes) ? doc.Attributes : {};
  const entries = new Map((await registryEntries(rn, doc)).map((e) => [String(e.AttributeName), e]));
  return Object.entries(attrs).map(([name, value]) => settingOf(name, value, entries.get(name))).sort((a, b) => a.name.localeCompare(b.name));
}

/** A requested value in the type the registry gives the attribute (BMO and the CLI send strings). */
function typedValue(setting: BiosSetting | undefined, name: string, value: unknown): unknown {
  if (!setting) return value;
  if (setting.read_only) throw new InvalidInput(`BIOS setting ${name} is read-only`);
  const text = String(value);
  switch (setting.attribute_type) {
    case 'Integer': {
      const n = typeof value === 'number' ? value : Number(text);
      if (!Number.isInteger(n)) throw new InvalidInput(`BIOS setting ${name} takes an integer, got ${JSON.stringify(value)}`);
      if ((setting.lower_bound !== null && n < setting.lower_bound) || (setting.upper_bound !== null && n > setting.upper_bound)) {
        throw new InvalidInput(`BIOS setting ${name} must be between ${setting.lower_bound} and ${setting.upper_bound}, got ${n}`);
      }
      return n;
    }
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (/^true$/i.test(text)) return true;
      if (/^false$/i.test(text)) return false;
      throw new InvalidInput(`BIOS setting ${name} takes true or false, got ${JSON.stringify(value)}`);
    case 'Enumeration':
      if (setting.allowable_values && !setting.allowable_values.includes(text)) throw new InvalidInput(`BIOS setting ${name} takes one of ${setting.allowable_values.join(', ')}, got ${JSON.stringify(value)}`);
      return text;
    default:
      return value;
  }
}

/** apply_configuration's `settings`: a list of {name, value}. */
function requestedSettings(args: Json): { name: string; value: unknown }[] {
  const settings = args.settings;
  if (!Array.isArray(settings) || settings.length === 0) throw new InvalidInput('bios.apply_configuration needs "settings": a non-empty list of {"name": ..., "value": ...}');
  return settings.map((s, i) => {
    if (!isObject(s) || typeof s.name !== 'string' || !('value' in s)) throw new InvalidInput(`bios.apply_configuration settings[${i}] must be {"name": string, "value": ...}`);
    return { name: s.name, value: s.value };
  });
}

async function cache(ctx: TaskContext, rn: RedfishNode): Promise<BiosSetting[]> {
  const settings = await readBiosSettings(rn);
  await ctx.saveBiosSettings(settings);
  return settings;
}

/** Reboots so staged settings apply, then waits until the BMC shows `done` true. */
async function rebootAndWait(ctx: TaskContext, rn: RedfishNode, what: string, done: (attrs: Json) => boolean): Promise<void> {
  await ctx.driver.power.reboot(ctx, false);
  let attrs: Json = {};
  await pollUntil(async () => {
    const { doc } = await biosResource(rn);
    attrs = isObject(doc.Attributes) ? doc.Attributes : {};
    return done(attrs) ? true : undefined;
  }, {
    timeoutSec: APPLY_TIMEOUT_SEC, signal: rn.signal, intervalMs: 100, maxIntervalMs: 2000,
    timedOut: () => new BmcTimeout(`The BMC of node ${rn.node.uuid} did not apply ${what} within ${APPLY_TIMEOUT_SEC} s of the reboot`),
  });
}

async function applyConfiguration(vendor: Vendor, ctx: TaskContext, args: Json): Promise<void> {
  const requested = requestedSettings(args);
  const rn = await RedfishNode.open(ctx);
  const known = new Map((await readBiosSettings(rn)).map((s) => [s.name, s]));
  const attributes: Json = {};
  for (const { name, value } of requested) {
    if (known.size && !known.has(name)) throw new InvalidInput(`BIOS setting ${name} does not exist on node ${rn.node.uuid} (its BIOS has ${[...known.keys()].join(', ')})`);
    attributes[name] = typedValue(known.get(name), name, value);
  }
  const { doc } = await biosResource(rn);
  const settingsPath = isObject(doc['@Redfish.Settings']) ? linkOf(doc['@Redfish.Settings'].SettingsObject) : null;
  if (!settingsPath) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} has no BIOS settings object (@Redfish.Settings)`);
  const job = vendor.stageBiosSettings ? await vendor.stageBiosSettings(rn, settingsPath, attributes) : (await rn.client.patch(settingsPath, { Attributes: attributes }), null);
  await ctx.note(`BIOS settings staged on the BMC: ${Object.keys(attributes).join(', ')}; rebooting to apply them`);
  const wanted = Object.entries(attributes);
  await rebootAndWait(ctx, rn, `the BIOS settings ${Object.keys(attributes).join(', ')}`, (attrs) => wanted.every(([k, v]) => attrs[k] === v));
  if (job && vendor.waitForSettingsJob) await vendor.waitForSettingsJob(rn, job);
  await cache(ctx, rn);
}

async function factoryReset(ctx: TaskContext): Promise<void> {
  const rn = await RedfishNode.open(ctx);
  const { doc } = await biosResource(rn);
  const action = isObject(doc.Actions) && isObject(doc.Actions['#Bios.ResetBios']) ? doc.Actions['#Bios.ResetBios'] : null;
  if (!action || typeof action.target !== 'string') throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} offers no Bios.ResetBios action`);
  await rn.client.post(action.target, {});
  await ctx.note('BIOS factory reset requested; rebooting to apply it');
  await rebootAndWait(ctx, rn, 'the BIOS factory reset', () => true);
  await cache(ctx, rn);
}

const APPLY_ARGS = { settings: { description: 'A list of BIOS settings to apply: [{"name": ..., "value": ...}]', required: true } };

function steps(vendor: Vendor): StepDefinition[] {
  // Ironic declares both with priority 0 (only when asked for) and as service steps that need no ramdisk.
  const kinds: StepKind[] = ['clean', 'service'];
  return kinds.flatMap((kind): StepDefinition[] => [
    { kind, step: 'apply_configuration', priority: 0, argsinfo: APPLY_ARGS, requiresRamdisk: false, abortable: false, run: (ctx, args) => applyConfiguration(vendor, ctx, args) },
    { kind, step: 'factory_reset', priority: 0, requiresRamdisk: false, abortable: false, run: (ctx) => factoryReset(ctx) },
  ]);
}

export function redfishBios(vendor: Vendor): BiosInterface {
  return {
    name: vendor.name,
    properties: REDFISH_PROPERTIES,
    steps: steps(vendor),
    validate: (node) => void parseRedfishInfo(node),
    async cacheSettings(ctx) {
      const rn = await RedfishNode.open(ctx);
      const settings = await cache(ctx, rn);
      if (settings.length === 0) throw new DriverError(`The BMC of node ${rn.node.uuid} reports no BIOS attributes`);
    },
  };
}
