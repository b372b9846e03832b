// An inventory of servers to enroll, from CSV or YAML, read into one shape. A server is named by
// its BMC address as Metal3 writes it (ipmi://host:623, redfish+https://host/redfish/v1/Systems/1,
// idrac-redfish://…, ilo5-redfish://…, irmc-redfish://…): the scheme picks the hardware type and
// the driver_info keys, as one table.
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { InvalidInput } from '../../common/errors.ts';

export interface InventoryEntry {
  name: string;
  driver: string;
  driver_info: Record<string, unknown>;
  macs: string[];
  resource_class?: string;
  traits: string[];
  properties?: Record<string, unknown>;
}

interface BmcScheme {
  driver: string;
  family: 'ipmi' | 'redfish';
  /** http or https for Redfish; null: the scheme says none (https). */
  secure?: boolean;
}

/** BMC address scheme → hardware type (Metal3's baremetal-operator spellings). */
const BMC_SCHEMES: Record<string, BmcScheme> = {
  ipmi: { driver: 'ipmi', family: 'ipmi' },
  redfish: { driver: 'redfish', family: 'redfish', secure: true },
  'redfish+http': { driver: 'redfish', family: 'redfish', secure: false },
  'redfish+https': { driver: 'redfish', family: 'redfish', secure: true },
  'redfish-virtualmedia': { driver: 'redfish', family: 'redfish', secure: true },
  'idrac-redfish': { driver: 'idrac', family: 'redfish', secure: true },
  'idrac-redfish+http': { driver: 'idrac', family: 'redfish', secure: false },
  'ilo5-redfish': { driver: 'ilo', family: 'redfish', secure: true },
  'ilo-redfish': { driver: 'ilo', family: 'redfish', secure: true },
  'irmc-redfish': { driver: 'irmc', family: 'redfish', secure: true },
};

/** driver and driver_info for a BMC address and its credentials. */
export function bmcDriver(address: string, username?: string, password?: string): { driver: string; driver_info: Record<string, unknown> } {
  const m = /^([a-z0-9+-]+):\/\/(.+)$/i.exec(address.trim());
  const scheme = m ? BMC_SCHEMES[m[1].toLowerCase()] : undefined;
  if (!m || !scheme) throw new InvalidInput(`BMC address "${address}" must start with one of ${Object.keys(BMC_SCHEMES).map((s) => `${s}://`).join(', ')}`);
  const url = new URL(`http://${m[2]}`);
  const creds = (prefix: string) => ({ ...(username ? { [`${prefix}_username`]: username } : {}), ...(password ? { [`${prefix}_password`]: password } : {}) });
  if (scheme.family === 'ipmi') {
    return { driver: scheme.driver, driver_info: { ipmi_address: url.hostname.replace(/^\[|\]$/g, ''), ...(url.port ? { ipmi_port: Number(url.port) } : {}), ...creds('ipmi') } };
  }
  const info: Record<string, unknown> = { redfish_address: `${scheme.secure ? 'https' : 'http'}://${url.host}`, ...creds('redfish') };
  if (url.pathname && url.pathname !== '/') info.redfish_system_id = url.pathname;
  return { driver: scheme.driver, driver_info: info };
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter(Boolean);
  if (typeof value === 'string') return value.split(/[\s,;|]+/).map((s) => s.trim()).filter(Boolean);
  return [];
}

function entryOf(raw: Record<string, unknown>, where: string): InventoryEntry {
  const name = typeof raw.name === 'string' ? raw.name.trim() : '';
  if (!name) throw new InvalidInput(`${where}: every server needs a name`);
  const bmc = (raw.bmc && typeof raw.bmc === 'object' ? raw.bmc : {}) as Record<string, unknown>;
  const address = (bmc.address ?? raw.bmc_address) as string | undefined;
  const username = (bmc.username ?? raw.bmc_username) as string | undefined;
  const password = (bmc.password ?? raw.bmc_password) as string | undefined;
  let driver: string;
  let driver_info: Record<string, unknown>;
  if (address) ({ driver, driver_info } = bmcDriver(String(address), username ? String(username) : undefined, password ? String(password) : undefined));
  else if (typeof raw.driver === 'string') ({ driver, driver_info } = { driver: raw.driver, driver_info: {} });
  else throw new InvalidInput(`${where} (${name}): give bmc_address (or bmc.address), or a driver`);
  if (typeof raw.driver === 'string') driver = raw.driver;
  if (raw.driver_info && typeof raw.driver_info === 'object') Object.assign(driver_info, raw.driver_info);
  const macs = list(raw.macs ?? raw.mac ?? raw.boot_mac).map((m) => m.toLowerCase());
  for (const mac of macs) if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) throw new InvalidInput(`${where} (${name}): "${mac}" is not a MAC address`);
  return {
    name,
    driver,
    driver_info,
    macs,
    resource_class: typeof raw.resource_class === 'string' && raw.resource_class ? raw.resource_class : undefined,
    traits: list(raw.traits),
    properties: raw.properties && typeof raw.properties === 'object' ? (raw.properties as Record<string, unknown>) : undefined,
  };
}

/** Reads an inventory: CSV with a header line (by the .csv extension), else YAML (a list, or {nodes: [...]}). */
export function readInventory(text: string, fileName: string): InventoryEntry[] {
  let rows: Record<string, unknown>[];
  if (/\.csv$/i.test(fileName)) {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, comment: '#' }) as Record<string, unknown>[];
  } else {
    const doc = parseYaml(text) as unknown;
    const items = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? (doc as Record<string, unknown>).nodes : undefined;
    if (!Array.isArray(items)) throw new InvalidInput(`${fileName}: a YAML inventory is a list of servers, or a mapping with a "nodes" list`);
    rows = items as Record<string, unknown>[];
  }
  const entries = rows.map((r, i) => entryOf(r, `${fileName}, server ${i + 1}`));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new InvalidInput(`${fileName}: the name ${e.name} appears twice`);
    seen.add(e.name);
  }
  return entries;
}
