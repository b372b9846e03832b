// Serial console proxies, as Ironic's socat console does: one socat per node, listening on a TCP
// port of the conductor's host ([conductor.serialConsole] address and port range) and running the
// console command (ipmitool's `sol activate`) for the one client connected at a time. The
// proxies belong to this process: a conductor that restarts starts them again (services/conductor/console.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AnvilConfig } from '../common/config.ts';
import { DriverError } from '../common/errors.ts';
import type { ConsoleInfo } from './interfaces.ts';

interface Proxy {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

const proxies = new Map<string, Proxy>();

async function portIsFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: address, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** The first port of the range that no proxy of this process holds and nothing else listens on. */
async function freePort(config: AnvilConfig, wanted?: number): Promise<number> {
  const { address, portRange: [first, last] } = config.conductor.serialConsole;
  const taken = new Set([...proxies.values()].map((p) => p.port));
  const candidates = wanted !== undefined ? [wanted] : Array.from({ length: last - first + 1 }, (_, i) => first + i);
  for (const port of candidates) {
    if (!taken.has(port) && (await portIsFree(address, port))) return port;
  }
  throw new DriverError(wanted !== undefined
    ? `Serial console port ${wanted} on ${address} is in use`
    : `No free serial console port in ${first}-${last} on ${address} (conductor.serialConsole.portRange)`);
}

export function proxyRunning(nodeUuid: string): boolean {
  return proxies.has(nodeUuid);
}

/**
 * Starts the node's proxy (stopping one it already has) and waits until socat listens. `command`
 * is a fixed shell command line (socat's SYSTEM, so without `,`, `:` or `!!`) run for each client;
 * what varies (the BMC's address, user and password) goes in `env`, never in argv or socat's syntax.
 */
export async function startProxy(config: AnvilConfig, nodeUuid: string, command: string, env: Record<string, string>, wantedPort?: number): Promise<ConsoleInfo> {
  await stopProxy(nodeUuid);
  const { address } = config.conductor.serialConsole;
  const port = await freePort(config, wantedPort);
  // -d -d: socat says when it listens; max-children=1: one console user at a time, as Ironic's.
  const child = spawn('socat', ['-d', '-d', `TCP4-LISTEN:${port},bind=${address},reuseaddr,fork,max-children=1`, `SYSTEM:${command},pty,stderr,setsid,sigint,sane`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      if (/listening on/.test(stderr)) resolve();
    });
    child.once('error', (err) => reject(new DriverError(`Cannot run socat for the serial console: ${err.message}`)));
    void exited.then(() => reject(new DriverError(`socat exited before listening on ${address}:${port}: ${stderr.trim().split('\n').pop() ?? ''}`)));
  });
  await listening;
  // Keep draining socat's log so it never blocks on a full pipe; only its tail is kept.
  const proxy: Proxy = { child, port, exited };
  proxies.set(nodeUuid, proxy);
  void exited.then(() => { if (proxies.get(nodeUuid) === proxy) proxies.delete(nodeUuid); });
  return { type: 'tcp', url: `tcp://${address}:${port}` };
}

export async function stopProxy(nodeUuid: string): Promise<void> {
  const proxy = proxies.get(nodeUuid);
  if (!proxy) return;
  proxies.delete(nodeUuid);
  // socat passes SIGTERM on to the console command of a connected client.
  proxy.child.kill('SIGTERM');
  const timer = setTimeout(() => proxy.child.kill('SIGKILL'), 5000);
  await proxy.exited;
  clearTimeout(timer);
}

/** Stops every proxy of this process (the last conductor stopping). */
export async function stopAllProxies(): Promise<void> {
  await Promise.all([...proxies.keys()].map(stopProxy));
}
