// One client per BMC and credentials, reused across calls: it keeps the session (BMCs cap them) and
// the keep-alive connections. The least recently used ones are closed beyond a bound.
import { createHash } from 'node:crypto';
import type { NodeRecord } from '../../db/nodes.ts';
import { RedfishClient } from './client.ts';
import { parseRedfishInfo } from './driver-info.ts';

const MAX_CLIENTS = 4096;
const clients = new Map<string, RedfishClient>();

export function clientFor(node: NodeRecord): RedfishClient {
  const info = parseRedfishInfo(node);
  const { systemId: _ignored, ...connection } = info;
  const key = createHash('sha256').update(JSON.stringify(connection)).digest('hex');
  let client = clients.get(key);
  if (client) {
    clients.delete(key);
    clients.set(key, client);
    return client;
  }
  client = new RedfishClient(info);
  clients.set(key, client);
  if (clients.size > MAX_CLIENTS) {
    const [oldKey, old] = clients.entries().next().value as [string, RedfishClient];
    clients.delete(oldKey);
    void old.close();
  }
  return client;
}

/** Closes every cached client, deleting its session on the BMC (the redfish family's close). */
export async function closeAllClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.close()));
}
