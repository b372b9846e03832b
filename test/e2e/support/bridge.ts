// A byte-for-byte forwarder between a TCP port and a unix socket. Unix sockets live in the file
// system, which every network namespace shares: a bridge run inside a namespace (as a child
// process, `node --import tsx bridge.ts FROM TO`) lets the test process reach a server in that
// namespace, or a server of the test process be reached from it, with no address on the host.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `tcp:HOST:PORT` or `unix:PATH`. */
export type Endpoint = string;

function parse(endpoint: Endpoint): { path: string } | { host: string; port: number } {
  if (endpoint.startsWith('unix:')) return { path: endpoint.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`bridge endpoint must be tcp:HOST:PORT or unix:PATH, got "${endpoint}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

function dial(target: Endpoint): Socket {
  const t = parse(target);
  return 'path' in t ? connect(t.path) : connect(t.port, t.host);
}

/** Listens on `from` and pipes every connection to `to`. */
export async function startBridge(from: Endpoint, to: Endpoint): Promise<Server> {
  const server = createServer((client) => {
    const upstream = dial(to);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  const f = parse(from);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    if ('path' in f) server.listen(f.path, ok);
    else server.listen(f.port, f.host, ok);
  });
  return server;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [from, to] = process.argv.slice(2);
  if (!from || !to) {
    process.stderr.write('usage: bridge.ts FROM TO (tcp:HOST:PORT or unix:PATH)\n');
    process.exit(2);
  }
  startBridge(from, to).then(
    () => process.stdout.write(`bridge ready ${from} -> ${to}\n`),
    (err: Error) => {
      process.stderr.write(`bridge: ${err.message}\n`);
      process.exit(1);
    },
  );
}
