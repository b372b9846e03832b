// A BMC fault proxy for tests: an HTTP proxy on loopback in front of a (simulated) Redfish BMC.
// It passes requests through, or, switched at any moment, is slow, answers 5xx, resets
// connections, hangs, or goes dark (its port refuses connections) and comes back on the same port.
// It counts what reached it, so a test can tell whether a client contacted the BMC at all.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type HttpFault =
  | { kind: 'delay'; ms: number }
  /** Answers `status` with a Redfish error body, `count` times (for ever without a count). */
  | { kind: 'status'; status: number; count?: number }
  /** Closes the connection without an answer once the request arrived. */
  | { kind: 'reset' }
  /** Reads the request and never answers. */
  | { kind: 'hang' };

export interface FaultRule {
  fault: HttpFault;
  /** Only requests whose path matches (every request without). */
  path?: RegExp;
}

export interface BmcFaultProxy {
  /** http://127.0.0.1:PORT: the address to give the driver instead of the BMC's. */
  url: string;
  /** Requests that reached the proxy, as "METHOD /path", oldest first (including faulted ones). */
  readonly seen: string[];
  /** Replaces the fault rules (the first matching rule applies); no rule passes everything through. */
  set(...rules: FaultRule[]): void;
  clear(): void;
  /** Closes the port and every open connection: connections are refused until comeBack(). */
  goDark(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export async function startBmcFaultProxy(target: string): Promise<BmcFaultProxy> {
  const upstream = new URL(target);
  const client = upstream.protocol === 'https:' ? await import('node:https') : http;
  let rules: FaultRule[] = [];
  const seen: string[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer(async (req, res) => {
    const where = `${req.method} ${req.url}`;
    seen.push(where);
    const rule = rules.find((r) => !r.path || r.path.test(new URL(req.url!, 'http://x').pathname));
    const fault = rule?.fault;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status' && (fault.count === undefined || fault.count > 0)) {
      if (fault.count !== undefined) fault.count--;
      req.resume();
      res.writeHead(fault.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'Base.1.8.GeneralError', message: `Fault proxy: HTTP ${fault.status} for ${where}` } }));
      return;
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);
    const out = client.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, rejectUnauthorized: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const shut = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    set: (...r) => { rules = r; },
    clear: () => { rules = []; },
    goDark: shut,
    comeBack: () => listen(port),
    close: () => (server.listening ? shut() : Promise.resolve()),
  };
}

export interface UdpFaultProxy {
  /** The UDP port to give the driver instead of the BMC's. */
  port: number;
  /** Datagrams seen from consoles. */
  readonly received: number;
  /** Delay of every datagram, each way (a link with this much latency); 0 passes them at once. */
  delayMs: number;
  /** Drops every datagram (the BMC goes dark) while true. */
  dark: boolean;
  close(): Promise<void>;
}

/**
 * A UDP proxy on loopback in front of an IPMI BMC: each console address gets its own upstream
 * socket so answers find their way back; datagrams can be delayed or dropped.
 */
export async function startUdpFaultProxy(target: { host: string; port: number }): Promise<UdpFaultProxy> {
  const dgram = await import('node:dgram');
  const front = dgram.createSocket('udp4');
  const upstreams = new Map<string, import('node:dgram').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void) => {
    if (state.delayMs <= 0) return fn();
    const t = setTimeout(() => { timers.delete(t); fn(); }, state.delayMs);
    timers.add(t);
  };
  const state = { delayMs: 0, dark: false, received: 0 };
  front.on('message', (msg, from) => {
    state.received++;
    if (state.dark) return;
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.on('message', (answer) => {
        if (!state.dark) later(() => { if (!state.dark) front.send(answer, from.port, from.address); });
      });
      up.on('error', () => {});
      upstreams.set(key, up);
    }
    const socket = up;
    later(() => socket.send(msg, target.port, target.host));
  });
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()));
  return {
    port: front.address().port,
    get received() { return state.received; },
    get delayMs() { return state.delayMs; },
    set delayMs(v: number) { state.delayMs = v; },
    get dark() { return state.dark; },
    set dark(v: boolean) { state.dark = v; },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of upstreams.values()) s.close();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
