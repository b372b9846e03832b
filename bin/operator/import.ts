// `anvil nodes import FILE`: enrolls the servers of an inventory through the API, idempotently. A
// server already enrolled (by name) is compared and only what differs is changed: driver, resource
// class, properties, the driver_info keys it shows (secrets it masks are set only when missing),
// traits, and ports for MACs it lacks; a second run changes nothing. --dry-run says what it would do.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isSecretKey } from '../../common/secrets.ts';
import { ApiError, type ApiClient } from './client.ts';
import { readInventory, type InventoryEntry } from './inventory.ts';

export interface ImportResult {
  name: string;
  uuid?: string;
  action: 'create' | 'update' | 'unchanged' | 'error';
  changes: string[];
  error?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function portOwner(api: ApiClient, mac: string): Promise<string | undefined> {
  const { ports } = await api.get<{ ports: { node_uuid: string }[] }>(`/v1/ports?address=${encodeURIComponent(mac)}&fields=node_uuid`);
  return ports[0]?.node_uuid;
}

async function existing(api: ApiClient, name: string): Promise<Record<string, any> | undefined> {
  try {
    return await api.get(`/v1/nodes/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** What differs between the node as enrolled and the entry, as JSON-patch operations with a word each. */
function patchFor(node: Record<string, any>, e: InventoryEntry): { ops: object[]; changes: string[] } {
  const ops: object[] = [];
  const changes: string[] = [];
  if (node.driver !== e.driver) {
    ops.push({ op: 'replace', path: '/driver', value: e.driver });
    changes.push(`driver ${node.driver} -> ${e.driver}`);
  }
  if (e.resource_class !== undefined && node.resource_class !== e.resource_class) {
    ops.push({ op: 'add', path: '/resource_class', value: e.resource_class });
    changes.push(`resource_class ${node.resource_class ?? 'none'} -> ${e.resource_class}`);
  }
  for (const [key, value] of Object.entries(e.driver_info)) {
    const shown = node.driver_info?.[key];
    if (shown !== undefined && (isSecretKey(key) || same(shown, value))) continue;
    ops.push({ op: 'add', path: `/driver_info/${key}`, value });
    changes.push(isSecretKey(key) ? `driver_info.${key} set` : `driver_info.${key} -> ${JSON.stringify(value)}`);
  }
  for (const [key, value] of Object.entries(e.properties ?? {})) {
    if (same(node.properties?.[key], value)) continue;
    ops.push({ op: 'add', path: `/properties/${key}`, value });
    changes.push(`properties.${key} -> ${JSON.stringify(value)}`);
  }
  return { ops, changes };
}

async function importOne(api: ApiClient, e: InventoryEntry, dryRun: boolean): Promise<ImportResult> {
  let node = await existing(api, e.name);
  for (const mac of e.macs) {
    const owner = await portOwner(api, mac);
    if (owner && owner !== node?.uuid) return { name: e.name, action: 'error', changes: [], error: `MAC ${mac} is a port of another node (${owner})` };
  }
  const changes: string[] = [];
  let action: ImportResult['action'] = 'unchanged';
  if (!node) {
    action = 'create';
    changes.push(`create ${e.driver} node`);
    if (!dryRun) {
      node = await api.request('POST', '/v1/nodes', {
        name: e.name, driver: e.driver, driver_info: e.driver_info,
        ...(e.resource_class ? { resource_class: e.resource_class } : {}), ...(e.properties ? { properties: e.properties } : {}),
      });
    }
  } else {
    const { ops, changes: c } = patchFor(node, e);
    if (ops.length > 0) {
      action = 'update';
      changes.push(...c);
      if (!dryRun) node = await api.request('PATCH', `/v1/nodes/${node.uuid}`, ops);
    }
  }
  const have = node ? new Set((await api.all<{ address: string }>(`/v1/nodes/${node.uuid}/ports?fields=address`, 'ports')).map((p) => p.address.toLowerCase())) : new Set<string>();
  for (const mac of e.macs) {
    if (have.has(mac)) continue;
    changes.push(`port ${mac}`);
    if (action === 'unchanged') action = 'update';
    if (!dryRun) await api.request('POST', '/v1/ports', { node_uuid: node!.uuid, address: mac, pxe_enabled: true });
  }
  const traits: string[] = node ? (await api.get<{ traits: string[] }>(`/v1/nodes/${node.uuid}/traits`)).traits : [];
  if (e.traits.length > 0 && !same([...traits].sort(), [...e.traits].sort())) {
    changes.push(`traits ${e.traits.join(' ')}`);
    if (action === 'unchanged') action = 'update';
    if (!dryRun) await api.request('PUT', `/v1/nodes/${node!.uuid}/traits`, { traits: e.traits });
  }
  return { name: e.name, uuid: node?.uuid, action, changes };
}

export async function importInventory(api: ApiClient, file: string, dryRun: boolean): Promise<ImportResult[]> {
  const entries = readInventory(await readFile(file, 'utf8'), path.basename(file));
  const results: ImportResult[] = [];
  for (const e of entries) {
    try {
      results.push(await importOne(api, e, dryRun));
    } catch (err) {
      results.push({ name: e.name, action: 'error', changes: [], error: (err as Error).message });
    }
  }
  return results;
}
