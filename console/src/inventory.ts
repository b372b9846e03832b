// Enrollment records, from the form or an uploaded inventory (CSV with a header line, or YAML: a
// list, or a mapping with `nodes:`), and how one becomes Ironic's POST /v1/nodes and /v1/ports.
import { parse as parseYaml } from 'yaml';
import { ApiError, api } from './api.ts';

export interface Enrollment {
  name: string;
  driver: string;
  bmc_address?: string;
  bmc_username?: string;
  bmc_password?: string;
  /** Redfish: the system's path, e.g. /redfish/v1/Systems/1. */
  system_id?: string;
  macs: string[];
  resource_class?: string;
  owner?: string;
}

/** driver_info key prefix per hardware type (drivers/registry.ts names them). */
const PREFIX: Record<string, string> = { redfish: 'redfish', idrac: 'redfish', ilo: 'redfish', ipmi: 'ipmi' };
export const DRIVERS = ['redfish', 'ipmi', 'idrac', 'ilo', 'fake-hardware', 'manual-management'];

export function driverInfo(e: Enrollment): Record<string, string> {
  const p = PREFIX[e.driver];
  if (!p) return {};
  const info: Record<string, string> = {};
  if (e.bmc_address) info[`${p}_address`] = e.bmc_address;
  if (e.bmc_username) info[`${p}_username`] = e.bmc_username;
  if (e.bmc_password) info[`${p}_password`] = e.bmc_password;
  if (p === 'redfish' && e.system_id) info.redfish_system_id = e.system_id;
  return info;
}

function splitMacs(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return String(v ?? '').split(/[\s,;]+/).filter(Boolean);
}

function record(r: Record<string, unknown>, where: string): Enrollment {
  const s = (k: string) => (r[k] === undefined || r[k] === null || r[k] === '' ? undefined : String(r[k]));
  const name = s('name');
  if (!name) throw new Error(`${where}: a node needs a name`);
  return {
    name,
    driver: s('driver') ?? 'redfish',
    bmc_address: s('bmc_address') ?? s('address'),
    bmc_username: s('bmc_username') ?? s('username'),
    bmc_password: s('bmc_password') ?? s('password'),
    system_id: s('system_id'),
    macs: splitMacs(r.macs ?? r.mac),
    resource_class: s('resource_class'),
    owner: s('owner'),
  };
}

/** CSV fields: commas separate, double quotes may hold commas, "" is a quote. */
function csvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur.trim()); cur = ''; } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export function parseInventory(fileName: string, text: string): Enrollment[] {
  if (/\.ya?ml$/i.test(fileName) || /^\s*(-|nodes:)/.test(text)) {
    const doc = parseYaml(text);
    const list = Array.isArray(doc) ? doc : doc?.nodes;
    if (!Array.isArray(list)) throw new Error('The YAML inventory must be a list of nodes, or a mapping with a `nodes:` list');
    return list.map((r, i) => record(r ?? {}, `node ${i + 1}`));
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  if (lines.length < 2) throw new Error('The CSV inventory needs a header line and one line per node');
  const head = csvLine(lines[0]).map((h) => h.toLowerCase());
  if (!head.includes('name')) throw new Error('The CSV header must name a `name` column');
  return lines.slice(1).map((l, i) => record(Object.fromEntries(csvLine(l).map((v, c) => [head[c], v])), `line ${i + 2}`));
}

/** Creates the node and its ports; a node whose name exists already is left as it is. */
export async function enroll(e: Enrollment): Promise<{ uuid: string; existed: boolean }> {
  try {
    const found = await api<{ uuid: string }>('GET', `/v1/nodes/${encodeURIComponent(e.name)}`);
    return { uuid: found.uuid, existed: true };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  const body: Record<string, unknown> = { name: e.name, driver: e.driver, driver_info: driverInfo(e) };
  if (e.resource_class) body.resource_class = e.resource_class;
  if (e.owner) body.owner = e.owner;
  const node = await api<{ uuid: string }>('POST', '/v1/nodes', body);
  for (const address of e.macs) await api('POST', '/v1/ports', { address, node_uuid: node.uuid });
  return { uuid: node.uuid, existed: false };
}
