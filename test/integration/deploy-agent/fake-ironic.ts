// A stand-in for the Ironic API's ramdisk endpoints, recording what agents send, so the agent can
// be tested alone (the real routes are tested in test/integration/deploy).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { origin } from '../../../common/url-host.ts';

type Json = Record<string, unknown>;

export interface FakeIronic {
  url: string;
  lookups: { addresses: string[]; version: string | undefined }[];
  heartbeats: Json[];
  inspections: Json[];
  /** MAC → node uuid the lookup answers for. */
  nodes: Map<string, string>;
  token: string;
  /** Resolves at the n-th heartbeat. */
  heartbeat(n: number): Promise<Json>;
  /** Resolves at the first heartbeat of `node` among those after the first `after` (another agent may heart-beat meanwhile). */
  heartbeatOf(node: string, after: number): Promise<Json>;
  /** Resolves at the n-th inspection post. */
  inspection(n: number): Promise<Json>;
  close(): Promise<void>;
}

/** With `tls` (PEM files), the stand-in serves HTTPS; `host`: where it listens (default 127.0.0.1). */
export async function startFakeIronic(tls?: { cert: string; key: string }, host = '127.0.0.1'): Promise<FakeIronic> {
  const waiters: { n: number; resolve: (hb: Json) => void }[] = [];
  const nodeWaiters: { node: string; after: number; resolve: (hb: Json) => void }[] = [];
  const fromNode = (node: string, after: number) => fake.heartbeats.slice(after).find((b) => b.node === node);
  const inspectionWaiters: { n: number; resolve: (data: Json) => void }[] = [];
  const fake = { lookups: [], heartbeats: [], inspections: [], nodes: new Map(), token: 'tok-123' } as unknown as FakeIronic;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, body?: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
      if (req.method === 'GET' && url.pathname === '/') return send(200, { default_version: { id: 'v1', version: '1.99' } });
      if (req.method === 'GET' && url.pathname === '/v1/lookup') {
        const addresses = (url.searchParams.get('addresses') ?? '').split(',').filter(Boolean);
        fake.lookups.push({ addresses, version: req.headers['x-openstack-ironic-api-version'] as string | undefined });
        const byUuid = url.searchParams.get('node_uuid');
        const uuid = addresses.map((a) => fake.nodes.get(a)).find(Boolean) ?? ([...fake.nodes.values()].includes(byUuid ?? '') ? byUuid : undefined);
        if (!uuid) return send(404, { error_message: JSON.stringify({ faultstring: 'Node not found' }) });
        return send(200, { node: { uuid, properties: {}, instance_info: {}, driver_internal_info: {} }, config: { heartbeat_timeout: 300, agent_token: fake.token, agent_token_required: true } });
      }
      const hb = /^\/v1\/heartbeat\/(.+)$/.exec(url.pathname);
      if (req.method === 'POST' && hb) {
        const body = { node: hb[1], version: req.headers['x-openstack-ironic-api-version'], ...JSON.parse(Buffer.concat(chunks).toString() || '{}') };
        fake.heartbeats.push(body);
        for (const w of waiters.filter((w) => fake.heartbeats.length >= w.n)) w.resolve(fake.heartbeats[w.n - 1]);
        for (const w of nodeWaiters) if (fromNode(w.node, w.after)) w.resolve(fromNode(w.node, w.after)!);
        return send(202);
      }
      if (req.method === 'POST' && url.pathname === '/v1/continue_inspection') {
        fake.inspections.push(JSON.parse(Buffer.concat(chunks).toString()));
        for (const w of inspectionWaiters.filter((w) => fake.inspections.length >= w.n)) w.resolve(fake.inspections[w.n - 1]);
        return send(202, { uuid: 'x' });
      }
      send(404, {});
    });
  };
  const server: Server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler) : createServer(handler);
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  fake.url = origin(tls ? 'https' : 'http', host, (server.address() as AddressInfo).port);
  fake.heartbeat = (n) => new Promise((resolve) => {
    if (fake.heartbeats.length >= n) resolve(fake.heartbeats[n - 1]);
    else waiters.push({ n, resolve });
  });
  fake.heartbeatOf = (node, after) => new Promise((resolve) => {
    const found = fromNode(node, after);
    if (found) resolve(found);
    else nodeWaiters.push({ node, after, resolve });
  });
  fake.inspection = (n) => new Promise((resolve) => {
    if (fake.inspections.length >= n) resolve(fake.inspections[n - 1]);
    else inspectionWaiters.push({ n, resolve });
  });
  fake.close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return fake;
}
