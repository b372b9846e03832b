// The `network` section of Anvil's configuration, for the switch network interface:
//   network:
//     provisioningNetwork: prov        # a network's name or UUID (/v1/networks); per node: driver_info.provisioning_network
//     cleaningNetwork: clean           # also rescuingNetwork, inspectionNetwork, servicingNetwork
//     isolationVlan: 4094              # where a deployed node's ports without a VIF are parked
//     traitBasedNetworking: /etc/anvil/tbn.yaml   # Ironic's TBN traits (docs/networking.md); optional
//     switches:
//       leaf1: { driver: ovs, switchId: "52:54:00:00:00:01", socket: /run/openvswitch/db.sock, bridge: br0 }
//       leaf2: { driver: ssh, dialect: arista_eos, host: 10.0.0.2, username: anvil, privateKeyFile: /etc/anvil/leaf2.key }
// A port's switch is the one its local_link_connection.switch_info names, else the one whose
// switchId is its switch_id.
import { readFileSync } from 'node:fs';
import { InvalidInput } from '../../common/errors.ts';
import { parseTraitsConfig, type NetworkTrait } from '../../common/trait-networking/traits-config.ts';
import type { AnvilConfig } from '../../common/config.ts';

export const PURPOSES = ['provisioning', 'cleaning', 'rescuing', 'inspection', 'servicing', 'tenant'] as const;
export type Purpose = (typeof PURPOSES)[number];
export type NodePurpose = Exclude<Purpose, 'tenant'>;

export interface SwitchConfig {
  name: string;
  driver: string;
  switchId?: string;
  /** The driver's own keys (socket, bridge, host, dialect...). */
  options: Record<string, unknown>;
}

export interface NetworkConfig {
  networks: Partial<Record<NodePurpose, string>>;
  isolationVlan: number;
  switches: readonly SwitchConfig[];
  /** Trait-based networking's traits, from the file network.traitBasedNetworking names ([]: none). */
  traits: readonly NetworkTrait[];
}

function traitsFile(file: unknown): NetworkTrait[] {
  if (file === undefined) return [];
  if (typeof file !== 'string' || !file) throw new InvalidInput('network.traitBasedNetworking must name a file (the trait-based networking traits, YAML)');
  let text: string;
  try { text = readFileSync(file, 'utf8'); }
  catch (err) { throw new InvalidInput(`network.traitBasedNetworking: cannot read ${file}: ${(err as Error).message}`); }
  return parseTraitsConfig(text, file);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const parsed = new WeakMap<object, NetworkConfig>();

export function networkConfig(config: AnvilConfig): NetworkConfig {
  const raw = config.network ?? {};
  const cached = parsed.get(raw);
  if (cached) return cached;
  if (!isObject(raw)) throw new InvalidInput('network (configuration) must be a mapping');
  const known = new Set(['isolationVlan', 'switches', 'traitBasedNetworking', ...PURPOSES.filter((p) => p !== 'tenant').map((p) => `${p}Network`)]);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new InvalidInput(`Unknown configuration key "network.${key}"`);
  const networks: NetworkConfig['networks'] = {};
  for (const p of PURPOSES) {
    if (p === 'tenant') continue;
    const v = raw[`${p}Network`];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !v) throw new InvalidInput(`network.${p}Network must name a network (its name or UUID)`);
    networks[p] = v;
  }
  const isolationVlan = raw.isolationVlan ?? 4094;
  if (!Number.isInteger(isolationVlan) || (isolationVlan as number) < 1 || (isolationVlan as number) > 4094) throw new InvalidInput('network.isolationVlan must be a VLAN id from 1 to 4094');
  const switchesRaw = raw.switches ?? {};
  if (!isObject(switchesRaw)) throw new InvalidInput('network.switches must be a mapping of switch names to their settings');
  const switches = Object.entries(switchesRaw).map(([name, s]): SwitchConfig => {
    if (!isObject(s) || typeof s.driver !== 'string') throw new InvalidInput(`network.switches.${name} needs a driver (ovs, ssh or fake)`);
    const { driver, switchId, ...options } = s;
    if (switchId !== undefined && typeof switchId !== 'string') throw new InvalidInput(`network.switches.${name}.switchId must be a string (the switch_id ports name in local_link_connection)`);
    return { name, driver, switchId: switchId?.toLowerCase(), options };
  });
  const result = { networks, isolationVlan: isolationVlan as number, switches, traits: traitsFile(raw.traitBasedNetworking) };
  parsed.set(raw, result);
  return result;
}

/** The switch a port's local_link_connection names: switch_info is a configured name, else switch_id a configured switchId. */
export function switchOfPort(cfg: NetworkConfig, llc: Record<string, unknown>): SwitchConfig | undefined {
  const info = typeof llc.switch_info === 'string' ? llc.switch_info : undefined;
  const id = typeof llc.switch_id === 'string' ? llc.switch_id.toLowerCase() : undefined;
  return cfg.switches.find((s) => s.name === info) ?? (id ? cfg.switches.find((s) => s.switchId === id) : undefined);
}
