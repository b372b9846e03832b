// A byte-for-byte forwarder between a TCP port and a unix socket. Unix sockets live in the file
// system, which every network namespace shares: a bridge run inside a namespace (as a child
// process, `node --import tsx bridge.ts FROM TO`) lets the test process reach a server in that
// namespace, or a server of the test process be reached from it, with no address on the host.
// UDP (an IPMI BMC) crosses too: `udp:HOST:PORT` to `unix:PATH` carries each datagram behind its
// 2-byte length, one unix connection per UDP peer, and `unix:PATH` to `udp:HOST:PORT` sends each
// connection's datagrams from a UDP socket of its own, so the server still tells the peers apart.
import dgram from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `tcp:HOST:PORT`, `udp:HOST:PORT` or `unix:PATH`. */
export type Endpoint = string;

type Parsed = { path: string } | { host: string; port: number; udp: boolean };

function parse(endpoint: Endpoint): Parsed {
  if (endpoint.startsWith('unix:')) return { path: endpoint.slice(5) };
  const m = /^(tcp|udp):(.+):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`bridge endpoint must be tcp:HOST:PORT, udp:HOST:PORT or unix:PATH, got "${endpoint}"`);
  return { host: m[2]!, port: Number(m[3]), udp: m[1] === 'udp' };
}

function dial(target: Endpoint): Socket {
  const t = parse(target);
  return 'path' in t ? connect(t.path) : connect(t.port, t.host);
}

/** A datagram as it travels on a stream: behind its length. */
function frame(datagram: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(datagram.length);
  return Buffer.concat([length, datagram]);
}

/** Cuts a stream back into the datagrams `frame` wrote. */
function unframer(onDatagram: (datagram: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const length = pending.readUInt16BE(0);
      onDatagram(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
    }
  };
}

/** A UDP peer's unix connection ends after this long without traffic (each ipmitool run is a new peer). */
const UDP_PEER_IDLE_MS = 120_000;

/** Listens on UDP and carries each peer's datagrams over a unix connection of its own to `to`. */
async function startUdpListener(host: string, port: number, to: Endpoint): Promise<{ close(): void }> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const peers = new Map<string, Socket>();
  socket.on('message', (datagram, peer) => {
    const key = `${peer.address}:${peer.port}`;
    let stream = peers.get(key);
    if (!stream) {
      const opened = dial(to);
      peers.set(key, (stream = opened));
      opened.on('data', unframer((reply) => socket.send(reply, peer.port, peer.address)));
      opened.setTimeout(UDP_PEER_IDLE_MS, () => opened.destroy());
      const forget = () => {
        if (peers.get(key) === opened) peers.delete(key);
        opened.destroy();
      };
      opened.on('error', forget).on('close', forget);
    }
    stream.write(frame(datagram));
  });
  await new Promise<void>((ok, fail) => {
    socket.once('error', fail);
    socket.bind(port, host, ok);
  });
  return {
    close() {
      for (const stream of peers.values()) stream.destroy();
      socket.close();
    },
  };
}

/** Carries a framed unix connection's datagrams to a UDP server, and its answers back. */
function relayToUdp(client: Socket, host: string, port: number): void {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (datagram) => client.write(frame(datagram)));
  socket.on('error', () => client.destroy());
  client.on('data', unframer((datagram) => socket.send(datagram, port, host)));
  const close = () => {
    client.destroy();
    try {
      socket.close();
    } catch {
      // already closed
    }
  };
  client.on('error', close).on('close', close);
}

/** Listens on `from` and pipes every connection to `to` (datagrams framed where one side is UDP). */
export async function startBridge(from: Endpoint, to: Endpoint): Promise<{ close(): void }> {
  const f = parse(from);
  const t = parse(to);
  if ('udp' in f && f.udp) return startUdpListener(f.host, f.port, to);
  const server = createServer((client) => {
    if ('udp' in t && t.udp) return relayToUdp(client, t.host, t.port);
    const upstream = dial(to);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
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
    process.stderr.write('usage: bridge.ts FROM TO (tcp:HOST:PORT, udp:HOST:PORT or unix:PATH)\n');
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
