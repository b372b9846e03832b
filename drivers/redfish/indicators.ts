// Indicator LEDs through Redfish (Ironic's redfish management indicators): the system's and its
// chassis' identify LED. A resource with IndicatorLED (Lit, Blinking, Off) offers ON, BLINKING and
// OFF; one with only LocationIndicatorActive (the property newer BMCs have instead) ON and OFF.
// An indicator is named by its resource's Id: `<Id>@system`, `<Id>@chassis`.
import { InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import type { IndicatorComponent, IndicatorState, SupportedIndicators } from '../interfaces.ts';
import type { Json } from './client.ts';
import { isObject, linkOf, type RedfishNode } from './system.ts';

const LED_STATES: Record<string, IndicatorState> = { Lit: 'ON', Blinking: 'BLINKING', Off: 'OFF' };
const LED_VALUES: Partial<Record<IndicatorState, string>> = { ON: 'Lit', BLINKING: 'Blinking', OFF: 'Off' };

interface IndicatorResource { component: IndicatorComponent; path: string; doc: Json }

/** The system and its first chassis, as the BMC shows them now. */
async function resources(rn: RedfishNode): Promise<IndicatorResource[]> {
  const system = await rn.system();
  const out: IndicatorResource[] = [{ component: 'system', path: rn.systemPath, doc: system }];
  const chassis = isObject(system.Links) && Array.isArray(system.Links.Chassis) ? linkOf(system.Links.Chassis[0]) : null;
  if (chassis) out.push({ component: 'chassis', path: chassis, doc: await rn.client.getJson(chassis) });
  return out;
}

function statesOf(doc: Json): IndicatorState[] | null {
  if (typeof doc.IndicatorLED === 'string') return ['BLINKING', 'OFF', 'ON'];
  if (typeof doc.LocationIndicatorActive === 'boolean') return ['OFF', 'ON'];
  return null;
}

function stateOf(doc: Json): IndicatorState {
  if (typeof doc.IndicatorLED === 'string') return LED_STATES[doc.IndicatorLED] ?? 'UNKNOWN';
  if (typeof doc.LocationIndicatorActive === 'boolean') return doc.LocationIndicatorActive ? 'ON' : 'OFF';
  return 'UNKNOWN';
}

export async function supportedIndicators(rn: RedfishNode): Promise<SupportedIndicators> {
  const out: SupportedIndicators = {};
  for (const r of await resources(rn)) {
    const states = statesOf(r.doc);
    if (states) out[r.component] = { [String(r.doc.Id)]: { readonly: false, states } };
  }
  return out;
}

async function resourceOf(rn: RedfishNode, component: IndicatorComponent, name: string): Promise<IndicatorResource> {
  const found = (await resources(rn)).find((r) => r.component === component && String(r.doc.Id) === name && statesOf(r.doc));
  if (!found) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} has no indicator ${name}@${component} (a ${component} with Id ${name} and an IndicatorLED or LocationIndicatorActive)`);
  return found;
}

export async function indicatorState(rn: RedfishNode, component: IndicatorComponent, name: string): Promise<IndicatorState> {
  return stateOf((await resourceOf(rn, component, name)).doc);
}

export async function setIndicatorState(rn: RedfishNode, component: IndicatorComponent, name: string, state: IndicatorState): Promise<void> {
  const r = await resourceOf(rn, component, name);
  const states = statesOf(r.doc)!;
  if (!states.includes(state)) throw new InvalidInput(`Indicator ${name}@${component} of node ${rn.node.uuid} cannot be ${state}; it can be ${states.join(', ')}`);
  await rn.client.patch(r.path, typeof r.doc.IndicatorLED === 'string' ? { IndicatorLED: LED_VALUES[state] } : { LocationIndicatorActive: state === 'ON' });
}
