// driver_info keys as Ironic names them (drivers/modules/redfish/utils.py), parsed and validated
// with messages that name the key. Anvil adds four optional tuning keys.
import { existsSync } from 'node:fs';
import { InvalidInput, MissingParameter } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { addressUrl, hostFamily, type UrlPeer } from '../../common/url-host.ts';

export type AuthType = 'basic' | 'session' | 'auto';

export interface RedfishInfo {
  /** scheme://host[:port] */
  origin: string;
  /** The service root path (default /redfish/v1). */
  root: string;
  /** An Id or an @odata.id path; absent: the BMC's only system. */
  systemId: string | null;
  username: string | null;
  password: string | null;
  /** true, false, or a CA bundle path. */
  verifyCa: boolean | string;
  authType: AuthType;
  /** Seconds one HTTP call may take. */
  timeoutSec: number;
  /** Attempts for connection errors and 5xx answers. */
  attempts: number;
  /** Seconds before the first retry (doubled at each next one). */
  retryIntervalSec: number;
  /** Seconds the driver keeps what the BMC said of its layout (service root, systems). */
  cacheTtlSec: number;
}

export const REDFISH_PROPERTIES: Readonly<Record<string, string>> = {
  redfish_address: 'The URL of the Redfish controller: scheme optional (https by default), a path is the service root. Required.',
  redfish_system_id: 'The Id or canonical path (/redfish/v1/Systems/1) of the system. Optional when the BMC has one system.',
  redfish_username: 'User name for the BMC. Optional.',
  redfish_password: 'Password for the BMC. Optional.',
  redfish_verify_ca: 'true (verify against the system CAs), false, or the path of a CA bundle. Optional, default true.',
  redfish_auth_type: 'basic, session or auto (session, falling back to basic). Optional, default auto.',
  redfish_timeout: 'Seconds one Redfish call may take (Anvil). Optional, default 30.',
  redfish_connection_attempts: 'Attempts for connection errors and 5xx answers (Anvil). Optional, default 3.',
  redfish_retry_interval: 'Seconds before the first retry, doubled each time (Anvil). Optional, default 1.',
  redfish_cache_ttl: 'Seconds the service root and the system paths the BMC gave are reused before they are read again; only good answers are kept (Anvil). Optional, default 30.',
};

export const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
export const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

function positiveNumber(node: NodeRecord, key: string, fallback: number, integer = false): number {
  const raw = node.driver_info[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new InvalidInput(`Invalid value "${String(raw)}" set in driver_info/${key} on node ${node.uuid}: it must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

/** Hardware types whose driver_info names the Redfish connection with keys of their own (iRMC's irmc_*). */
const ownKeys = new Map<string, (node: NodeRecord) => RedfishInfo>();

/** Every Redfish interface of a node of `hardwareType` reads its connection through `parse`. */
export function registerDriverInfoKeys(hardwareType: string, parse: (node: NodeRecord) => RedfishInfo): void {
  ownKeys.set(hardwareType, parse);
}

/** The node's BMC as the peer a virtual media or UEFI HTTP boot URL is handed to: an IPv6-only BMC gets an IPv6 URL. */
export async function bmcPeer(node: NodeRecord): Promise<UrlPeer> {
  const { origin } = parseRedfishInfo(node);
  return { family: await hostFamily(new URL(origin).hostname), label: `The BMC at ${origin} of node ${node.uuid}` };
}

export function parseRedfishInfo(node: NodeRecord): RedfishInfo {
  const own = ownKeys.get(node.driver);
  if (own) return own(node);
  const info = node.driver_info;
  const address = info.redfish_address;
  if (address === undefined || address === null || address === '') {
    throw new MissingParameter(`Missing the following Redfish properties in node ${node.uuid} driver_info: redfish_address`);
  }
  if (typeof address !== 'string') throw new InvalidInput(`Invalid Redfish address ${JSON.stringify(address)} set in driver_info/redfish_address on node ${node.uuid}: it must be a string`);
  let url: URL;
  try {
    url = addressUrl(address, 'https');
  } catch {
    throw new InvalidInput(`Invalid Redfish address ${address} set in driver_info/redfish_address on node ${node.uuid}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInput(`Invalid Redfish address ${address} set in driver_info/redfish_address on node ${node.uuid}: the scheme must be http or https`);
  }
  if (!url.hostname) throw new InvalidInput(`Invalid Redfish address ${address} set in driver_info/redfish_address on node ${node.uuid}: no host`);
  const path = url.pathname.replace(/\/+$/, '');

  const systemId = info.redfish_system_id;
  if (systemId !== undefined && systemId !== null && (typeof systemId !== 'string' || systemId.trim() === '')) {
    throw new InvalidInput(`Invalid value ${JSON.stringify(systemId)} set in driver_info/redfish_system_id on node ${node.uuid}: it must be a non-empty string`);
  }
  for (const key of ['redfish_username', 'redfish_password']) {
    const v = info[key];
    if (v !== undefined && v !== null && typeof v !== 'string') throw new InvalidInput(`Invalid value set in driver_info/${key} on node ${node.uuid}: it must be a string`);
  }

  let verifyCa: boolean | string = true;
  const rawVerify = info.redfish_verify_ca;
  if (typeof rawVerify === 'boolean') verifyCa = rawVerify;
  else if (typeof rawVerify === 'string' && TRUE.has(rawVerify.toLowerCase())) verifyCa = true;
  else if (typeof rawVerify === 'string' && FALSE.has(rawVerify.toLowerCase())) verifyCa = false;
  else if (typeof rawVerify === 'string' && rawVerify !== '') {
    if (!existsSync(rawVerify)) throw new InvalidInput(`Invalid value set in driver_info/redfish_verify_ca on node ${node.uuid}: the CA bundle ${rawVerify} does not exist`);
    verifyCa = rawVerify;
  } else if (rawVerify !== undefined && rawVerify !== null && rawVerify !== '') {
    throw new InvalidInput(`Invalid value type set in driver_info/redfish_verify_ca on node ${node.uuid}. The value should be a Boolean or the path to a file/directory, not "${String(rawVerify)}"`);
  }

  const rawAuth = info.redfish_auth_type ?? 'auto';
  if (rawAuth !== 'basic' && rawAuth !== 'session' && rawAuth !== 'auto') {
    throw new InvalidInput(`Invalid value "${String(rawAuth)}" set in driver_info/redfish_auth_type on node ${node.uuid}. Valid values are: basic, session, auto`);
  }

  return {
    origin: url.origin,
    root: path === '' ? '/redfish/v1' : path,
    systemId: typeof systemId === 'string' ? systemId.trim() : null,
    username: typeof info.redfish_username === 'string' ? info.redfish_username : null,
    password: typeof info.redfish_password === 'string' ? info.redfish_password : null,
    verifyCa,
    authType: rawAuth,
    timeoutSec: positiveNumber(node, 'redfish_timeout', 30),
    attempts: positiveNumber(node, 'redfish_connection_attempts', 3, true),
    retryIntervalSec: positiveNumber(node, 'redfish_retry_interval', 1),
    cacheTtlSec: positiveNumber(node, 'redfish_cache_ttl', 30),
  };
}
