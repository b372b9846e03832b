// Every hardware type and interface implementation Anvil knows, and the composition of a node's
// driver from its `driver` and `*_interface` fields. Each family adds itself to FAMILIES.
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

export function listHardwareTypes(): HardwareType[] {
  return [...hardwareTypes.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function getHardwareType(name: string): HardwareType {
  const hw = hardwareTypes.get(name);
  if (!hw) throw new InvalidInput(`Cannot load specified driver: ${name}. Known hardware types: ${[...hardwareTypes.keys()].sort().join(', ')}`, 'DriverNotFound');
  return hw;
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

/** Checks that `name` is an implementation the hardware type supports for `iface`. */
export function checkInterface(hw: HardwareType, iface: InterfaceName, name: string): void {
  if (!hw.interfaces[iface].includes(name)) {
    throw new InvalidInput(
      `Could not find a suitable ${iface} interface "${name}" for hardware type "${hw.name}": it supports ${hw.interfaces[iface].join(', ')}`,
      'InterfaceNotFoundInEntrypoint',
    );
  }
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
