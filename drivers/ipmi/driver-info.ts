// driver_info keys as Ironic names them (drivers/modules/ipmitool.py), parsed and validated with
// messages that name the key; Anvil adds the transport choice and a few tuning keys.
import { isIP } from 'node:net';
import { InvalidInput, MissingParameter } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { Privilege } from './protocol/constants.ts';
import type { ScheduleLimits } from './bmc-scheduler.ts';
import type { Bridging, IpmiTarget } from './transport.ts';
import { bareHost } from '../../common/url-host.ts';

/** `auto`: the native client for power-state reads (periodic sync), ipmitool for everything else. */
export type TransportChoice = 'ipmitool' | 'native' | 'auto';

export interface IpmiInfo {
  target: IpmiTarget;
  transport: TransportChoice;
  limits: ScheduleLimits;
  /** Seconds between power-state reads while waiting for a change. */
  pollIntervalSec: number;
  /** Seconds between two reads of the threshold sensors for the node's health (0: never read). */
  healthSensorIntervalSec: number;
  /** Disable the BMC's 60-second clearing of the boot flags before setting them (Ironic's ipmi_disable_boot_timeout). */
  disableBootTimeout: boolean;
  /** Send the boot device again before every power-on, for BMCs that forget it (Ironic's ipmi_force_boot_device). */
  forceBootDevice: boolean;
}

export const IPMI_PROPERTIES: Readonly<Record<string, string>> = {
  ipmi_address: 'IP address (IPv4, or IPv6 bare or in brackets, with a %zone for a link-local one) or host name of the BMC. Required.',
  ipmi_port: 'UDP port of the BMC. Optional, default 623.',
  ipmi_username: 'User name; empty for the null user. Optional.',
  ipmi_password: 'Password (at most 20 bytes). Optional.',
  ipmi_priv_level: 'ADMINISTRATOR, OPERATOR, USER or CALLBACK. Optional, default ADMINISTRATOR.',
  ipmi_protocol_version: '"2.0" (lanplus) or "1.5" (lan, ipmitool only). Optional, default 2.0.',
  ipmi_cipher_suite: 'Cipher suite, 3 or 17. Optional: 3 is tried first, then 17.',
  ipmi_terminal_port: 'Port of the serial console proxy. Optional.',
  ipmi_bridging: 'no, single or dual (ipmitool only). Optional, default no.',
  ipmi_target_channel: 'Destination channel for bridged requests. Required when bridging.',
  ipmi_target_address: 'Destination address for bridged requests. Required when bridging.',
  ipmi_transit_channel: 'Transit channel for dual bridging. Required for dual bridging.',
  ipmi_transit_address: 'Transit address for dual bridging. Required for dual bridging.',
  ipmi_local_address: 'Local IPMB address for bridged requests. Optional.',
  ipmi_disable_boot_timeout: 'Stop the BMC clearing the boot flags after 60 s. Optional, default true.',
  ipmi_force_boot_device: 'Send the boot device again before every power-on. Optional, default false.',
  ipmi_transport: 'ipmitool or native (Anvil). Optional: the native client reads the power state, ipmitool does the rest.',
  ipmi_min_command_interval: 'Seconds between two commands to this BMC (Anvil). Optional, default 0.5.',
  ipmi_max_in_flight: 'Commands to this BMC at once (Anvil). Optional, default 1.',
  ipmi_command_timeout: 'Seconds to wait for one answer before the first retransmission; each next wait doubles (Anvil). Optional, default 1.',
  ipmi_retries: 'Retransmissions when the BMC stays silent (Anvil). Optional, default 3.',
  ipmi_power_poll_interval: 'Seconds between power-state reads while waiting for a change (Anvil). Optional, default 1.',
  ipmi_health_sensor_interval: 'Seconds between reads of the threshold sensors for the node\'s health; 0 reads none (Anvil). Optional, default 600.',
};

const PRIVILEGES: Readonly<Record<string, number>> = {
  ADMINISTRATOR: Privilege.administrator, OPERATOR: Privilege.operator, USER: Privilege.user, CALLBACK: Privilege.callback,
};
const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

function invalid(node: NodeRecord, key: string, raw: unknown, why: string): InvalidInput {
  return new InvalidInput(`Invalid value "${String(raw)}" set in driver_info/${key} on node ${node.uuid}: ${why}`);
}

function present(raw: unknown): boolean {
  return raw !== undefined && raw !== null && raw !== '';
}

function number(node: NodeRecord, key: string, fallback: number, opts: { min: number; max?: number; integer?: boolean }): number {
  const raw = node.driver_info[key];
  if (!present(raw)) return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < opts.min || (opts.max !== undefined && n > opts.max) || (opts.integer && !Number.isInteger(n))) {
    throw invalid(node, key, raw, `it must be ${opts.integer ? 'an integer' : 'a number'} from ${opts.min}${opts.max !== undefined ? ` to ${opts.max}` : ' up'}`);
  }
  return n;
}

function text(node: NodeRecord, key: string): string {
  const raw = node.driver_info[key];
  if (!present(raw)) return '';
  if (typeof raw !== 'string' && typeof raw !== 'number') throw invalid(node, key, raw, 'it must be a string');
  return String(raw);
}

function bool(node: NodeRecord, key: string, fallback: boolean): boolean {
  const raw = node.driver_info[key];
  if (!present(raw)) return fallback;
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw invalid(node, key, raw, 'it must be true or false');
}

function address(node: NodeRecord, key: string, required: boolean): number | undefined {
  const raw = node.driver_info[key];
  if (!present(raw)) {
    if (required) throw new MissingParameter(`Missing the following IPMI properties in node ${node.uuid} driver_info: ${key}`);
    return undefined;
  }
  const n = typeof raw === 'number' ? raw : Number(String(raw));
  if (!Number.isInteger(n) || n < 0 || n > 255) throw invalid(node, key, raw, 'it must be a byte (0-255, decimal or 0x hex)');
  return n;
}

function bridging(node: NodeRecord): Bridging | null {
  const raw = node.driver_info.ipmi_bridging;
  const mode = present(raw) ? String(raw) : 'no';
  if (mode === 'no') return null;
  if (mode !== 'single' && mode !== 'dual') throw invalid(node, 'ipmi_bridging', raw, 'it must be no, single or dual');
  return {
    mode,
    targetChannel: address(node, 'ipmi_target_channel', true)!,
    targetAddress: address(node, 'ipmi_target_address', true)!,
    transitChannel: address(node, 'ipmi_transit_channel', mode === 'dual'),
    transitAddress: address(node, 'ipmi_transit_address', mode === 'dual'),
    localAddress: address(node, 'ipmi_local_address', false),
  };
}

export function parseIpmiInfo(node: NodeRecord): IpmiInfo {
  const info = node.driver_info;
  // An IPv6 literal may come bracketed, as in a URL: ipmitool's -H and the UDP socket take it bare.
  const host = typeof info.ipmi_address === 'string' ? bareHost(info.ipmi_address) : info.ipmi_address;
  if (!present(host)) throw new MissingParameter(`Missing the following IPMI properties in node ${node.uuid} driver_info: ipmi_address`);
  if (typeof host !== 'string' || !(isIP(host) || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host))) {
    throw invalid(node, 'ipmi_address', host, 'it must be an IP address or a host name');
  }
  const username = text(node, 'ipmi_username');
  const password = text(node, 'ipmi_password');
  if (Buffer.byteLength(username) > 16) throw invalid(node, 'ipmi_username', username, 'IPMI user names have at most 16 bytes');
  if (Buffer.byteLength(password) > 20) throw new InvalidInput(`Invalid value set in driver_info/ipmi_password on node ${node.uuid}: IPMI 2.0 passwords have at most 20 bytes`);
  const privRaw = present(info.ipmi_priv_level) ? String(info.ipmi_priv_level).toUpperCase() : 'ADMINISTRATOR';
  const privilege = PRIVILEGES[privRaw];
  if (!privilege) throw invalid(node, 'ipmi_priv_level', info.ipmi_priv_level, `it must be one of ${Object.keys(PRIVILEGES).join(', ')}`);
  const version = present(info.ipmi_protocol_version) ? String(info.ipmi_protocol_version) : '2.0';
  if (version !== '2.0' && version !== '1.5') throw invalid(node, 'ipmi_protocol_version', info.ipmi_protocol_version, 'it must be "2.0" or "1.5"');
  const suite = present(info.ipmi_cipher_suite) ? number(node, 'ipmi_cipher_suite', 3, { min: 0, max: 17, integer: true }) : null;
  number(node, 'ipmi_terminal_port', 0, { min: 1, max: 65535, integer: true });
  const transportRaw = present(info.ipmi_transport) ? String(info.ipmi_transport) : 'auto';
  if (transportRaw !== 'ipmitool' && transportRaw !== 'native' && transportRaw !== 'auto') throw invalid(node, 'ipmi_transport', info.ipmi_transport, 'it must be ipmitool or native');
  const bridge = bridging(node);
  let transport: TransportChoice = transportRaw;
  if (transport === 'native' && (version === '1.5' || bridge)) {
    throw new InvalidInput(`driver_info/ipmi_transport "native" on node ${node.uuid} speaks IPMI 2.0 without bridging; use "ipmitool" for ${version === '1.5' ? 'IPMI 1.5' : 'bridged BMCs'}`);
  }
  if (transport === 'native' && suite !== null && suite !== 3 && suite !== 17) throw invalid(node, 'ipmi_cipher_suite', suite, 'the native transport speaks cipher suites 3 and 17');
  if (transport === 'auto' && (version === '1.5' || bridge || (suite !== null && suite !== 3 && suite !== 17))) transport = 'ipmitool';
  return {
    target: {
      address: host, port: number(node, 'ipmi_port', 623, { min: 1, max: 65535, integer: true }), username, password, privilege,
      cipherSuite: suite, protocolVersion: version, bridging: bridge,
      timeoutMs: number(node, 'ipmi_command_timeout', 1, { min: 0.05, max: 60 }) * 1000,
      retries: number(node, 'ipmi_retries', 3, { min: 0, max: 10, integer: true }),
    },
    transport,
    limits: {
      minIntervalMs: number(node, 'ipmi_min_command_interval', 0.5, { min: 0, max: 60 }) * 1000,
      maxInFlight: number(node, 'ipmi_max_in_flight', 1, { min: 1, max: 16, integer: true }),
    },
    pollIntervalSec: number(node, 'ipmi_power_poll_interval', 1, { min: 0.01, max: 60 }),
    healthSensorIntervalSec: number(node, 'ipmi_health_sensor_interval', 600, { min: 0 }),
    disableBootTimeout: bool(node, 'ipmi_disable_boot_timeout', true),
    forceBootDevice: bool(node, 'ipmi_force_boot_device', false),
  };
}
