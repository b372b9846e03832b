// Every hardware type and interface implementation Anvil knows, and the composition of a node's
// driver from its `driver` and `*_interface` fields. Each family adds itself to FAMILIES.
import type { AnvilConfig } from '../common/config.ts';
import { InvalidInput } from '../common/errors.ts';
import { INTERFACE_NAMES, type InterfaceName, type NodeRecord } from '../db/nodes.ts';
import { inBandFamily } from './in-band/index.ts';
import { fakeFamily } from './fake/index.ts';
import { ipmiFamily } from './ipmi/index.ts';
import { noopFamily } from './noop/index.ts';
import { pxeFamily } from './pxe/index.ts';
import { redfishFamily } from './redfish/index.ts';
import { idracFamily } from './idrac/index.ts';
import { iloFamily } from './ilo/index.ts';
import { irmcFamily } from './irmc/index.ts';
import { switchFamily } from './switch/index.ts';
import { ovirtFamily } from './ovirt/index.ts';
import { storageFamily } from './storage/index.ts';
import type { DriverFamily, DriverInterface, HardwareType, InterfaceTypes, ResolvedDriver } from './interfaces.ts';

const FAMILIES: DriverFamily[] = [noopFamily, fakeFamily, pxeFamily, inBandFamily, redfishFamily, idracFamily, iloFamily, irmcFamily, ipmiFamily, switchFamily, ovirtFamily, storageFamily];

const implementations = new Map<InterfaceName, Map<string, DriverInterface>>(INTERFACE_NAMES.map((i) => [i, new Map()]));
const hardwareTypes = new Map<string, HardwareType>();

for (const family of FAMILIES) {
  for (const iface of INTERFACE_NAMES) {
    for (const impl of family.implementations[iface] ?? []) implementations.get(iface)!.set(impl.name, impl);
  }
}
for (const family of FAMILIES) {
  for (const hw of family.hardwareTypes) hardwareTypes.set(hw.name, hw.acceptsEveryImplementation ? withEveryImplementation(hw) : hw);
}

/** The hardware type's lists, each followed by every other implementation of that interface. */
function withEveryImplementation(hw: HardwareType): HardwareType {
  const interfaces = Object.fromEntries(INTERFACE_NAMES.map((i) => [i, [...new Set([...hw.interfaces[i], ...implementations.get(i)!.keys()])]]));
  return { ...hw, interfaces: interfaces as unknown as HardwareType['interfaces'] };
}

let holders = 0;

/**
 * Marks the families as in use (a conductor runs); the returned function lets go, and the last
 * one to let go closes every family: sessions are logged out on the BMCs, sockets and servers
 * closed. Several conductors may share one process (tests, benches): the families stay open
 * while any of them runs.
 */
export function holdDriverFamilies(): () => Promise<void> {
  holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--holders > 0) return;
    const results = await Promise.allSettled(FAMILIES.map((f) => f.close?.()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}

/** The choice of enabled and default implementations (AnvilConfig.interfaces); without one, every implementation, the hardware type's order. */
export type InterfaceChoice = AnvilConfig['interfaces'];

const configured = new WeakMap<InterfaceChoice, Map<string, HardwareType>>();

/**
 * The hardware type as a configuration serves it (Ironic's driver_factory): each interface's list
 * narrowed to the enabled implementations, in the hardware type's order, with the configured
 * default first where the hardware type supports it. Unlike Ironic, which refuses to start a
 * conductor whose default_<iface>_interface an enabled hardware type lacks, a default applies to
 * the hardware types that have it, and the others keep their own first enabled implementation.
 */
function asConfigured(hw: HardwareType, choice: InterfaceChoice | undefined): HardwareType {
  if (!choice) return hw;
  let types = configured.get(choice);
  if (!types) configured.set(choice, (types = new Map()));
  let view = types.get(hw.name);
  if (!view) {
    const interfaces = Object.fromEntries(INTERFACE_NAMES.map((i) => {
      const enabled = choice.enabled[i];
      const names = hw.interfaces[i].filter((n) => !enabled || enabled.includes(n));
      const wanted = choice.default[i];
      return [i, wanted && names.includes(wanted) ? [wanted, ...names.filter((n) => n !== wanted)] : names];
    }));
    view = { ...hw, interfaces: interfaces as unknown as HardwareType['interfaces'] };
    types.set(hw.name, view);
  }
  return view;
}

/** Throws when the configuration names an interface or implementation Anvil does not have, or a default it does not enable. */
export function checkInterfaceConfig(choice: InterfaceChoice): void {
  for (const [key, where] of [[choice.enabled, 'interfaces.enabled'], [choice.default, 'interfaces.default']] as const) {
    for (const i of Object.keys(key)) {
      if (!(INTERFACE_NAMES as readonly string[]).includes(i)) throw new InvalidInput(`${where}.${i}: no such interface; the interfaces are ${INTERFACE_NAMES.join(', ')}`);
    }
  }
  for (const i of INTERFACE_NAMES) {
    const known = [...implementations.get(i)!.keys()];
    const enabled = choice.enabled[i];
    if (enabled !== undefined) {
      if (!Array.isArray(enabled) || enabled.length === 0 || enabled.some((n) => typeof n !== 'string')) throw new InvalidInput(`interfaces.enabled.${i} must be a non-empty list of ${i} interface names`);
      const unknown = enabled.filter((n) => !known.includes(n));
      if (unknown.length) throw new InvalidInput(`interfaces.enabled.${i}: no ${i} interface named ${unknown.join(', ')}; Anvil has ${known.join(', ')}`);
    }
    const wanted = choice.default[i];
    if (wanted === undefined) continue;
    if (typeof wanted !== 'string' || !known.includes(wanted)) throw new InvalidInput(`interfaces.default.${i}: no ${i} interface named ${String(wanted)}; Anvil has ${known.join(', ')}`);
    if (enabled && !enabled.includes(wanted)) throw new InvalidInput(`interfaces.default.${i} is ${wanted}, which interfaces.enabled.${i} (${enabled.join(', ')}) does not enable`);
  }
}

/**
 * The hardware types, as `choice` configures them; a hardware type left with no enabled
 * implementation of some interface cannot drive a node and is not served (Ironic's conductor would
 * not start).
 */
export function listHardwareTypes(choice?: InterfaceChoice): HardwareType[] {
  return [...hardwareTypes.values()]
    .map((hw) => asConfigured(hw, choice))
    .filter((hw) => INTERFACE_NAMES.every((i) => hw.interfaces[i].length > 0))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The hardware types `choice` leaves without an enabled implementation of some interface, each with that interface. */
export function unservedHardwareTypes(choice: InterfaceChoice): { name: string; iface: InterfaceName }[] {
  return [...hardwareTypes.values()].flatMap((hw) => {
    const iface = INTERFACE_NAMES.find((i) => asConfigured(hw, choice).interfaces[i].length === 0);
    return iface ? [{ name: hw.name, iface }] : [];
  });
}

export function getHardwareType(name: string, choice?: InterfaceChoice): HardwareType {
  const hw = hardwareTypes.get(name);
  if (!hw) throw new InvalidInput(`Cannot load specified driver: ${name}. Known hardware types: ${[...hardwareTypes.keys()].sort().join(', ')}`, 'DriverNotFound');
  return asConfigured(hw, choice);
}

export function getImplementation<K extends InterfaceName>(iface: K, name: string): InterfaceTypes[K] {
  const impl = implementations.get(iface)!.get(name);
  if (!impl) throw new InvalidInput(`No ${iface} interface named "${name}"`, 'InterfaceNotFoundInEntrypoint');
  return impl as InterfaceTypes[K];
}

/** The default implementation name of each interface for a hardware type. */
export function defaultInterfaces(hw: HardwareType): Record<`${InterfaceName}_interface`, string> {
  const out = {} as Record<`${InterfaceName}_interface`, string>;
  for (const iface of INTERFACE_NAMES) out[`${iface}_interface`] = hw.interfaces[iface][0];
  return out;
}

/** Checks that `name` is an implementation the hardware type (as configured) supports and enables for `iface`. */
export function checkInterface(hw: HardwareType, iface: InterfaceName, name: string): void {
  if (hw.interfaces[iface].includes(name)) return;
  // Ironic loads only the enabled implementations: a disabled one is as unknown as a misspelt one.
  if (hardwareTypes.get(hw.name)?.interfaces[iface].includes(name)) {
    throw new InvalidInput(
      `The ${iface} interface "${name}" is not enabled (interfaces.enabled.${iface}); enabled for hardware type "${hw.name}": ${hw.interfaces[iface].join(', ') || 'none'}`,
      'InterfaceNotFoundInEntrypoint',
    );
  }
  throw new InvalidInput(
    `Could not find a suitable ${iface} interface "${name}" for hardware type "${hw.name}": it supports ${hw.interfaces[iface].join(', ')}`,
    'InterfaceNotFoundInEntrypoint',
  );
}

/** The node's driver: its hardware type's implementations, as chosen by its `*_interface` fields. */
export function resolveDriver(node: Pick<NodeRecord, 'driver'> & Partial<Record<`${InterfaceName}_interface`, string | null>>): ResolvedDriver {
  const hw = getHardwareType(node.driver);
  const resolved: Record<string, unknown> = { hardwareType: hw };
  for (const iface of INTERFACE_NAMES) {
    const name = node[`${iface}_interface`] ?? hw.interfaces[iface][0];
    resolved[iface] = getImplementation(iface, name);
  }
  return resolved as ResolvedDriver;
}
