// The ipmitool-socat console against two BMCs whose Serial over LAN serves a serial line this test
// plays (a TCP server the BMC connects to): OpenIPMI's ipmi_sim, and Anvil's own IPMI simulator (a
// machine whose serial port is that line). Enabled through the API, a client on the console's TCP
// port sees what the line prints and its keys reach the line; a conductor restart serves it again;
// the API's WebSocket relays it too; disabled, the port closes (and the simulator's SOL link with it).
// Bad requests and a silent BMC fail clearly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { execa } from 'execa';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { startIpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { getNodeById } from '../../../db/nodes.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { closeIpmiClients } from '../../../drivers/ipmi/client.ts';
import { startHarness, fault, type ApiHarness } from '../api/harness.ts';
import { eventually, startConductor } from '../conductor/helpers.ts';
import { freeUdpPort, PEER_PASSWORD, PEER_USER, startIpmiSim, type Peer } from './peers.ts';

let h: ApiHarness;
let conductor: Conductor;
let line: Server;
let linePort: number;
/** The serial line's side: what it received, and its connections from ipmi_sim (it opens one per SOL session). */
let fromConsole = '';
const lineSockets = new Set<Socket>();
const conductorOptions = { serialConsole: { address: '127.0.0.1', portRange: [24100, 24120] as [number, number] } };

beforeAll(async () => {
  line = createServer((socket) => {
    lineSockets.add(socket);
    socket.on('data', (d) => { fromConsole += d.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => lineSockets.delete(socket));
  });
  await new Promise<void>((resolve) => line.listen(0, '127.0.0.1', resolve));
  linePort = (line.address() as { port: number }).port;
  h = await startHarness('sqlite', { conductorRow: false });
  conductor = await startConductor(h.t.db, 'console-c1', conductorOptions);
});
afterAll(async () => {
  await conductor?.stop();
  await h?.close();
  await closeIpmiClients();
  line?.close();
});

/** The BMCs under test, each serving the test's serial line over SOL; ipmi_sim holds the line for its life, Anvil's simulator while SOL is active. */
const BMCS: { name: string; releasesLine: boolean; start: () => Promise<Peer> }[] = [
  { name: "OpenIPMI's ipmi_sim", releasesLine: false, start: () => startIpmiSim({ sol: `127.0.0.1:${linePort}` }) },
  {
    name: "Anvil's IPMI simulator",
    releasesLine: true,
    async start() {
      const machine = Object.assign(new MemoryMachine('sol-0', randomUUID(), 'sol-node-0', sampleHardware(0)), {
        openSerial: () => new Promise<Socket>((resolve, reject) => {
          const socket = connect(linePort, '127.0.0.1');
          socket.once('connect', () => resolve(socket)).once('error', reject);
        }),
      });
      const sim = await startIpmiSimulator({ machines: [machine], firstPort: 0, username: PEER_USER, password: PEER_PASSWORD });
      return { port: sim.ports[0]!, close: () => sim.close() };
    },
  },
];

let sim: Peer;

async function enrolled(extra: Record<string, unknown> = {}): Promise<{ uuid: string; id: number }> {
  const r = await h.call('POST', '/v1/nodes', {
    driver: 'ipmi', console_interface: 'ipmitool-socat', boot_interface: 'fake', deploy_interface: 'fake',
    driver_info: { ipmi_address: '127.0.0.1', ipmi_port: sim.port, ipmi_username: PEER_USER, ipmi_password: PEER_PASSWORD, ipmi_min_command_interval: 0, ...extra },
  });
  expect(r.status, r.raw).toBe(201);
  const row = await getNodeById(h.t.db.knex, (await h.t.db.knex('nodes').where({ uuid: r.body.uuid }).first()).id);
  return { uuid: r.body.uuid, id: row!.id };
}

async function consoleState(uuid: string, enabled: boolean): Promise<any> {
  return eventually(async () => {
    const r = await h.call('GET', `/v1/nodes/${uuid}/states/console`);
    expect(r.status, r.raw).toBe(200);
    return r.body.console_enabled === enabled && (!enabled || r.body.console_info) ? r.body : undefined;
  }, 20_000, `console_enabled ${enabled}`);
}

/** A client of the console's TCP port; `seen` grows with what the console sends. */
async function client(url: string): Promise<{ socket: Socket; seen: () => string }> {
  const { hostname, port } = new URL(url.replace(/^tcp:/, 'http:'));
  const socket = connect(Number(port), hostname);
  let seen = '';
  socket.on('data', (d) => { seen += d.toString('latin1'); });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, seen: () => seen };
}

/** The console client types `keys` until the serial line has received them (keys typed before the SOL session is up are lost). */
async function typeUntilReceived(keys: string, type: (k: string) => void): Promise<void> {
  await eventually(async () => {
    type(`${keys}\r`);
    await new Promise((r) => setTimeout(r, 500));
    return fromConsole.includes(keys);
  }, 20_000, `"${keys}" reaching the serial line`);
}

/** The serial line prints `text` until the console client has seen it (the SOL session takes a moment to open). */
async function lineSays(text: string, seen: () => string): Promise<void> {
  await eventually(async () => {
    for (const socket of lineSockets) socket.write(`${text}\r\n`);
    await new Promise((r) => setTimeout(r, 300));
    return seen().includes(text);
  }, 20_000, `"${text}" through the console`);
}

describe.each(BMCS)('the ipmitool-socat console over the Serial over LAN of $name', (bmc) => {
  beforeAll(async () => {
    sim = await bmc.start();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('is enabled, relays both ways, comes back after a conductor restart, and is disabled', async () => {
    const node = await enrolled();
    let r = await h.call('GET', `/v1/nodes/${node.uuid}/states/console`);
    expect(r.body).toEqual({ console_enabled: false, console_info: null });

    r = await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, { enabled: true });
    expect(r.status, r.raw).toBe(202);
    const on = await consoleState(node.uuid, true);
    expect(on.console_info.type).toBe('tcp');
    expect(on.console_info.url).toMatch(/^tcp:\/\/127\.0\.0\.1:241[0-2]\d$/);

    // The BMC password is in no process's arguments (ipmitool -E reads it from its environment).
    // (Only the console's own processes: other processes on the machine may say "password".)
    const ps = (await execa('ps', ['-eo', 'args'])).stdout.split('\n').filter((l) => /socat|ipmitool/.test(l));
    expect(ps.join('\n')).toContain('sol activate');
    expect(ps.join('\n')).not.toContain(PEER_PASSWORD);

    const first = await client(on.console_info.url);
    await lineSays('login: from the serial line', first.seen);
    await typeUntilReceived('typed-on-the-console', (k) => first.socket.write(k));
    first.socket.destroy();

    // The browser's way in: a WebSocket on the API relaying the same console.
    const ws = await h.app.injectWS(`/v1/nodes/${node.uuid}/console/ws`);
    let fromWs = '';
    ws.on('message', (d: Buffer) => { fromWs += d.toString('latin1'); });
    await lineSays('through the websocket', () => fromWs);
    await typeUntilReceived('keys-from-the-browser', (k) => ws.send(k));
    ws.terminate();

    // A conductor restart: its proxies stop with it; the next one serves the console again.
    await conductor.stop();
    conductor = await startConductor(h.t.db, 'console-c1', conductorOptions);
    const again = await eventually(async () => {
      const n = await getNodeById(h.t.db.knex, node.id);
      const url = (n?.driver_internal_info.console_info as { url?: string } | undefined)?.url;
      if (!n?.console_enabled || !url) return undefined;
      try {
        return await client(url);
      } catch {
        return undefined;
      }
    }, 20_000, 'the console served again after the restart');
    await lineSays('after the restart', again.seen);
    again.socket.destroy();

    r = await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, { enabled: 'false' });
    expect(r.status, r.raw).toBe(202);
    const off = await consoleState(node.uuid, false);
    expect(off.console_info).toBeNull();
    await expect(client(on.console_info.url)).rejects.toThrow(/ECONNREFUSED/);
    // The WebSocket of a console that is off is refused before the upgrade (Ironic's NodeConsoleNotEnabled).
    await expect(h.app.injectWS(`/v1/nodes/${node.uuid}/console/ws`)).rejects.toThrow(/409/);
    const events = (await h.call('GET', `/v1/nodes/${node.uuid}/history`)).raw;
    expect(events).toContain('Console enabled (ipmitool-socat)');
    expect(events).not.toContain(PEER_PASSWORD);
    // The console's SOL session is over: the BMC let go of the serial line.
    if (bmc.releasesLine) await eventually(async () => lineSockets.size === 0, 20_000, 'the serial line released');
  });
});

describe('console failures', () => {
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('fails with last_error naming the BMC when the BMC does not answer', async () => {
    const silent = await freeUdpPort();
    const node = await enrolled({ ipmi_port: silent, ipmi_command_timeout: 0.2, ipmi_retries: 1 });
    const r = await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, { enabled: true });
    expect(r.status).toBe(202);
    const failed = await eventually(async () => {
      const n = await getNodeById(h.t.db.knex, node.id);
      return n?.last_error ? n : undefined;
    }, 30_000, 'the console failure');
    expect(failed.console_enabled).toBe(false);
    expect(failed.last_error).toContain(`Failed to start the console of node ${node.uuid}`);
    expect(failed.last_error).toContain(`BMC 127.0.0.1:${silent}`);
    expect(failed.last_error).not.toContain(PEER_PASSWORD);
  });

  it('refuses nodes without a console interface and bad bodies', async () => {
    const r = await h.call('POST', '/v1/nodes', { driver: 'ipmi', driver_info: { ipmi_address: '127.0.0.1' } });
    expect(r.status, r.raw).toBe(201);
    for (const [method, body] of [['GET', undefined], ['PUT', { enabled: true }]] as const) {
      const refused = await h.call(method, `/v1/nodes/${r.body.uuid}/states/console`, body);
      expect(refused.status).toBe(400);
      expect(fault(refused)).toContain('console interface "no-console"');
    }
    const node = await enrolled();
    expect((await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, { enabled: 'maybe' })).status).toBe(400);
    expect((await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, {})).status).toBe(400);
    expect((await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, { enabled: true, extra: 1 })).status).toBe(400);
    expect((await h.call('GET', '/v1/nodes/no-such-node/states/console')).status).toBe(404);
    await expect(h.app.injectWS('/v1/nodes/no-such-node/console/ws')).rejects.toThrow(/404/);
    await expect(h.app.injectWS(`/v1/nodes/${r.body.uuid}/console/ws`)).rejects.toThrow(/400/);
  });
});
