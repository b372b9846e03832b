// driver_info keys as Ironic's irmc driver names them (drivers/modules/irmc/common.py), read into
// the Redfish family's connection: every Redfish interface of an `irmc` node reaches its iRMC
// through these keys. Anvil adds the switch to IPMI for iRMC S4 and older, and its port.
import { existsSync } from 'node:fs';
import { InvalidInput, MissingParameter } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { FALSE, TRUE, type RedfishInfo } from '../redfish/driver-info.ts';
import { addressUrl } from '../../common/url-host.ts';

/** redfish: iRMC S5/S6 (Redfish with Fujitsu OEM); ipmi: power and boot device over IPMI, as Ironic did for iRMC S4. */
export type ManagementProtocol = 'redfish' | 'ipmi';

export const IRMC_PROPERTIES: Readonly<Record<string, string>> = {
  irmc_address: 'IP address or host name of the iRMC (Anvil also accepts a URL, scheme://host:port). Required.',
  irmc_username: 'User name for the iRMC with administrator privileges. Required.',
  irmc_password: 'Password for irmc_username. Required.',
  irmc_port: 'Port of the iRMC web server: 443 (https, the default) or 80 (http); Anvil accepts any TCP port. Optional.',
  irmc_auth_method: 'basic (HTTP Basic on every call, the default) or digest (no digest in Redfish: a Redfish session instead). Optional.',
  irmc_client_timeout: 'Seconds one iRMC call may take. Optional, default 60.',
  irmc_verify_ca: 'true (verify against the system CAs), false, or the path of a CA bundle. Optional, default true.',
  irmc_management_protocol: 'redfish (iRMC S5/S6, the default) or ipmi: power and boot device over IPMI 2.0 with the same address and credentials, for iRMC S4 and older (Anvil). Optional.',
  irmc_ipmi_port: 'UDP port of the iRMC\'s IPMI when irmc_management_protocol is ipmi (Anvil). Optional, default 623.',
};

const REQUIRED = ['irmc_address', 'irmc_username', 'irmc_password'] as const;

function invalid(node: NodeRecord, key: string, raw: unknown, why: string): InvalidInput {
  return new InvalidInput(`Invalid value "${String(raw)}" set in driver_info/${key} on node ${node.uuid}: ${why}`);
}

const given = (v: unknown) => v !== undefined && v !== null && v !== '';

function port(node: NodeRecord, key: string, fallback: number): number {
  const raw = node.driver_info[key];
  if (!given(raw)) return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(node, key, raw, 'it must be a TCP/UDP port (1-65535)');
  return n;
}

/** The scheme://host:port of the iRMC's web server. */
function origin(node: NodeRecord): string {
  const address = node.driver_info.irmc_address;
  if (typeof address !== 'string') throw invalid(node, 'irmc_address', address, 'it must be a string');
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address);
  let url: URL;
  try {
    url = addressUrl(address, 'https');
  } catch {
    throw invalid(node, 'irmc_address', address, 'it must be a host name, an IP address or a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(node, 'irmc_address', address, 'the scheme must be http or https');
  if (!url.hostname) throw invalid(node, 'irmc_address', address, 'no host');
  const p = port(node, 'irmc_port', url.port ? Number(url.port) : hasScheme ? (url.protocol === 'http:' ? 80 : 443) : 443);
  // Ironic: port 80 is http, 443 https; a URL's own scheme wins.
  const scheme = hasScheme ? url.protocol.slice(0, -1) : p === 80 ? 'http' : 'https';
  return `${scheme}://${url.hostname}:${p}`;
}

function verifyCa(node: NodeRecord): boolean | string {
  const raw = node.driver_info.irmc_verify_ca;
  if (!given(raw)) return true;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && TRUE.has(raw.toLowerCase())) return true;
  if (typeof raw === 'string' && FALSE.has(raw.toLowerCase())) return false;
  if (typeof raw === 'string' && existsSync(raw)) return raw;
  throw invalid(node, 'irmc_verify_ca', raw, 'it must be a Boolean or the path of an existing CA bundle file or directory');
}

export function managementProtocol(node: NodeRecord): ManagementProtocol {
  const raw = node.driver_info.irmc_management_protocol;
  if (!given(raw)) return 'redfish';
  if (raw === 'redfish' || raw === 'ipmi') return raw;
  throw invalid(node, 'irmc_management_protocol', raw, 'it must be redfish or ipmi');
}

/** The node's iRMC as the Redfish family's connection. */
export function parseIrmcInfo(node: NodeRecord): RedfishInfo {
  const info = node.driver_info;
  const missing = REQUIRED.filter((k) => !given(info[k]));
  if (missing.length) throw new MissingParameter(`Missing the following iRMC parameters in node ${node.uuid} driver_info: ${missing.join(', ')}`);
  for (const key of ['irmc_username', 'irmc_password']) if (typeof info[key] !== 'string') throw invalid(node, key, '******', 'it must be a string');
  const method = given(info.irmc_auth_method) ? String(info.irmc_auth_method).toLowerCase() : 'basic';
  if (method !== 'basic' && method !== 'digest') throw invalid(node, 'irmc_auth_method', info.irmc_auth_method, 'it must be basic or digest');
  const rawTimeout = info.irmc_client_timeout;
  const timeout = given(rawTimeout) ? Number(rawTimeout) : 60;
  if (!Number.isInteger(timeout) || timeout <= 0) throw invalid(node, 'irmc_client_timeout', rawTimeout, 'it must be a positive integer (seconds)');
  managementProtocol(node);
  port(node, 'irmc_ipmi_port', 623);
  return {
    origin: origin(node),
    root: '/redfish/v1',
    // An iRMC manages one system (Systems/0): the collection's only member.
    systemId: null,
    username: info.irmc_username as string,
    password: info.irmc_password as string,
    verifyCa: verifyCa(node),
    authType: method === 'basic' ? 'basic' : 'session',
    timeoutSec: timeout,
    attempts: 3,
    retryIntervalSec: 1,
    cacheTtlSec: 30,
  };
}

/** The driver_info Ironic's update_ipmi_properties derives for IPMI: the iRMC's host and credentials. */
export function ipmiDriverInfo(node: NodeRecord): Record<string, unknown> {
  const { origin: o, username, password } = parseIrmcInfo(node);
  return { ...node.driver_info, ipmi_address: new URL(o).hostname.replace(/^\[(.*)\]$/, '$1'), ipmi_port: port(node, 'irmc_ipmi_port', 623), ipmi_username: username, ipmi_password: password };
}
