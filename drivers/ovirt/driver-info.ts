// driver_info keys as Ironic's staging-ovirt names them (ironic_staging_drivers/ovirt/ovirt.py),
// parsed and validated with messages that name the key. Anvil adds the auth choice and two tuning keys.
import { existsSync } from 'node:fs';
import { InvalidInput, MissingParameter } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { addressUrl } from '../../common/url-host.ts';

export type OvirtAuth = 'oauth' | 'basic';

export interface OvirtInfo {
  /** scheme://host[:port] of the Engine. */
  origin: string;
  username: string;
  password: string;
  vmName: string;
  /** Skip the check of the Engine's certificate. */
  insecure: boolean;
  /** PEM file of the CA that signed the Engine's certificate; null with insecure or plain HTTP. */
  caFile: string | null;
  auth: OvirtAuth;
  /** Seconds one HTTP call may take. */
  timeoutSec: number;
  /** Seconds between status reads while waiting for a power change. */
  pollIntervalSec: number;
}

export const OVIRT_PROPERTIES: Readonly<Record<string, string>> = {
  ovirt_address: 'Address of the oVirt Engine: a host name or IP, with :port if not 443 (https); an http(s):// URL is taken as it is. Required.',
  ovirt_username: 'oVirt user, user@domain. Optional, default admin@internal.',
  ovirt_password: 'oVirt password. Required.',
  ovirt_vm_name: 'Name of the VM in oVirt. Required.',
  ovirt_insecure: 'Skip the verification of the Engine\'s certificate. Optional, default false.',
  ovirt_ca_file: 'Path of the CA certificate (PEM) the Engine\'s certificate is checked against. Required unless ovirt_insecure is true.',
  ovirt_auth: 'oauth (a token from the Engine\'s SSO service, /ovirt-engine/sso/oauth/token) or basic (deprecated by oVirt 4.0) (Anvil). Optional, default oauth.',
  ovirt_timeout: 'Seconds one Engine call may take (Anvil). Optional, default 30.',
  ovirt_power_poll_interval: 'Seconds between VM status reads while waiting for a power change (Anvil). Optional, default 1.',
};

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

function present(raw: unknown): boolean {
  return raw !== undefined && raw !== null && raw !== '';
}

function missing(node: NodeRecord, key: string): MissingParameter {
  return new MissingParameter(`Missing the following oVirt properties in node ${node.uuid} driver_info: ${key}`);
}

function invalid(node: NodeRecord, key: string, raw: unknown, why: string): InvalidInput {
  return new InvalidInput(`Invalid value "${String(raw)}" set in driver_info/${key} on node ${node.uuid}: ${why}`);
}

function text(node: NodeRecord, key: string, fallback?: string): string {
  const raw = node.driver_info[key];
  if (!present(raw)) {
    if (fallback === undefined) throw missing(node, key);
    return fallback;
  }
  if (typeof raw !== 'string') throw new InvalidInput(`Invalid value set in driver_info/${key} on node ${node.uuid}: it must be a string`);
  return raw;
}

function bool(node: NodeRecord, key: string): boolean {
  const raw = node.driver_info[key];
  if (!present(raw)) return false;
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw invalid(node, key, raw, 'it must be true or false');
}

function seconds(node: NodeRecord, key: string, fallback: number): number {
  const raw = node.driver_info[key];
  if (!present(raw)) return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw invalid(node, key, raw, 'it must be a number of seconds above 0, at most 3600');
  return n;
}

function origin(node: NodeRecord): string {
  const address = text(node, 'ovirt_address');
  let url: URL;
  try {
    // staging-ovirt builds https://ADDRESS/ovirt-engine/api; a full URL also names the scheme (a lab's plain-HTTP Engine).
    url = addressUrl(address, 'https');
  } catch {
    throw invalid(node, 'ovirt_address', address, 'it must be a host name or IP address (with :port), or an http(s):// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(node, 'ovirt_address', address, 'the scheme must be http or https');
  if (!url.hostname || url.username || url.password) throw invalid(node, 'ovirt_address', address, 'it must name a host, with no credentials in it');
  return url.origin;
}

export function parseOvirtInfo(node: NodeRecord): OvirtInfo {
  const engine = origin(node);
  const vmName = text(node, 'ovirt_vm_name');
  // oVirt VM names are letters, digits, '-', '_' and '.'; anything else could not be searched for as name=...
  if (!/^[\w.-]{1,255}$/u.test(vmName)) throw invalid(node, 'ovirt_vm_name', vmName, 'oVirt VM names hold letters, digits, "-", "_" and "." only');
  const insecure = bool(node, 'ovirt_insecure');
  const caFile = present(node.driver_info.ovirt_ca_file) ? text(node, 'ovirt_ca_file') : null;
  if (caFile !== null && !existsSync(caFile)) throw invalid(node, 'ovirt_ca_file', caFile, 'no such file');
  if (engine.startsWith('https:') && !insecure && caFile === null) {
    throw new MissingParameter(`Missing ovirt_ca_file in node ${node.uuid} driver_info: it is required unless ovirt_insecure is true`);
  }
  const auth = present(node.driver_info.ovirt_auth) ? String(node.driver_info.ovirt_auth) : 'oauth';
  if (auth !== 'oauth' && auth !== 'basic') throw invalid(node, 'ovirt_auth', auth, 'it must be oauth or basic');
  return {
    origin: engine,
    username: text(node, 'ovirt_username', 'admin@internal'),
    password: text(node, 'ovirt_password'),
    vmName,
    insecure,
    caFile,
    auth,
    timeoutSec: seconds(node, 'ovirt_timeout', 30),
    pollIntervalSec: seconds(node, 'ovirt_power_poll_interval', 1),
  };
}
