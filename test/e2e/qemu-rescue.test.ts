// Rescue of a real QEMU machine (TCG) through the agent rescue interface, and its serial console
// through the API: the machine's BMC is Anvil's IPMI simulator, whose Serial over LAN carries the
// VM's serial port (its unix socket chardev). The node (ipmi, ipmitool-socat console) is adopted
// (active without a deploy, the quickest way there), rescued with a password, the rescue ramdisk's
// agent sets the password's hash and ends; the console is enabled with PUT /states/console, and the
// test logs in as `rescue` on console_info's TCP port (a wrong password is refused first) and runs a
// command, then sees the same shell through the WebSocket /v1/nodes/{id}/console/ws. Unrescue
// boots the instance's disk again and the node is active.
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startQemuRig, type QemuRig } from './support/rig.ts';

const RESCUE_PASSWORD = 'e2e-rescue-pw-7f3a';
let rig: QemuRig;
let nodeUuid: string;

beforeAll(async () => {
  rig = await startQemuRig({ name: 'rescue', power: 'ipmi', memoryMb: 768, diskBytes: 1024 ** 3, machine: { serialSocket: true } });
}, 300_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

/** The node's serial console at a unix socket: what it printed since connecting, and a wait for a pattern in it. */
function serialConsole(path: string) {
  const socket: Socket = connect(path);
  let seen = '';
  socket.on('data', (d) => { seen += d.toString('latin1'); });
  socket.on('error', () => undefined);
  return {
    socket,
    type(text: string) { socket.write(text); },
    /** Waits until `pattern` shows after `from` (an offset in what was seen); returns the offset past it. */
    async expect(pattern: RegExp, from: number, limitSec: number, retype?: string): Promise<number> {
      const deadline = Date.now() + limitSec * 1000;
      for (let i = 0; ; i++) {
        const m = pattern.exec(seen.slice(from));
        if (m) return from + m.index + m[0].length;
        if (Date.now() > deadline) throw new Error(`serial console never showed ${pattern}; it showed:\n${seen.slice(-2000)}\n${await rig.diagnostics()}`);
        if (retype !== undefined && i % 10 === 9) socket.write(retype);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

describe('rescue of a QEMU machine', () => {
  it('adopts the machine as an active node with the agent rescue interface', async () => {
    nodeUuid = await rig.timed('enroll and manage', () => rig.enroll({ rescue_interface: 'agent', console_interface: 'ipmitool-socat' }));
    await rig.timed('adopt', async () => {
      await rig.provision(nodeUuid, 'adopt');
      await rig.waitForState(nodeUuid, 'active', 60);
    });
  }, 120_000);

  it('rescues it: the rescue user logs in on the serial console, through the API, with the password', async () => {
    const refused = await rig.api.put(`/v1/nodes/${nodeUuid}/states/provision`, { target: 'rescue' });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.data)).toContain('rescue_password');

    const node = await rig.timed('rescue (PXE boot of the rescue ramdisk, finalize_rescue)', async () => {
      await rig.provision(nodeUuid, 'rescue', { rescue_password: RESCUE_PASSWORD });
      return rig.waitForState(nodeUuid, 'rescue', 300);
    });
    expect((node.instance_info as Record<string, unknown>).hashed_rescue_password).toBe('******');
    expect(JSON.stringify(node)).not.toContain(RESCUE_PASSWORD);

    const consoleUrl = await rig.timed('enable the console (ipmitool-socat over the BMC\'s SOL)', async () => {
      const put = await rig.api.put(`/v1/nodes/${nodeUuid}/states/console`, { enabled: true });
      expect(put.status, JSON.stringify(put.data)).toBe(202);
      for (let i = 0; i < 120; i++) {
        const state = (await rig.api.get(`/v1/nodes/${nodeUuid}/states/console`)).data;
        if (state.console_enabled && state.console_info?.url) return state.console_info.url as string;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`the console was not enabled: ${JSON.stringify((await rig.api.get(`/v1/nodes/${nodeUuid}`)).data.last_error)}`);
    });
    expect(consoleUrl).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    // console_info's address is the conductor's, in the prov namespace: reached through a bridge.
    const consoleSocket = await rig.reachIn('prov', 'console-bridge', consoleUrl.replace('tcp://', 'tcp:'));

    await rig.timed('log in on the serial console and run a command', async () => {
      const tty = serialConsole(consoleSocket);
      try {
        // getty prints its prompt when it (re)starts or gets a line; Enter until it does.
        let at = await tty.expect(/login: ?$/m, 0, 60, '\r');
        tty.type('rescue\r');
        at = await tty.expect(/Password: ?$/m, at, 20);
        tty.type('not-the-password\r');
        at = await tty.expect(/Login incorrect/, at, 30);
        at = await tty.expect(/login: ?$/m, at, 30, '\r');
        tty.type('rescue\r');
        at = await tty.expect(/Password: ?$/m, at, 20);
        tty.type(`${RESCUE_PASSWORD}\r`);
        // ash follows its prompt with a cursor-position query (ESC [6n).
        at = await tty.expect(/# (\x1b\[6n)?/, at, 30);
        tty.type('echo rescued-$((6*7)) on $(hostname 2>/dev/null || echo ramdisk) as uid $(id -u)\r');
        await tty.expect(/rescued-42 on \S+ as uid 0/, at, 30);
      } finally {
        tty.socket.destroy();
      }
    });

    await rig.timed('the same shell through the console WebSocket', async () => {
      // One console client at a time: the WebSocket's session starts once the TCP client has gone.
      const ws = new WebSocket(`ws+unix://${join(rig.dir, 'api.sock')}:/v1/nodes/${nodeUuid}/console/ws`);
      let seen = '';
      ws.on('message', (d: Buffer) => { seen += d.toString('latin1'); });
      try {
        await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
        for (let i = 0; !/via-websocket-42/.test(seen); i++) {
          if (i >= 60) throw new Error(`the WebSocket never showed the command's output; it showed:\n${seen.slice(-2000)}`);
          if (i % 5 === 0) ws.send('echo via-websocket-$((6*7))\r');
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        ws.terminate();
      }
    });

    const off = await rig.api.put(`/v1/nodes/${nodeUuid}/states/console`, { enabled: false });
    expect(off.status).toBe(202);
    for (let i = 0; i < 60 && (await rig.api.get(`/v1/nodes/${nodeUuid}/states/console`)).data.console_enabled; i++) await new Promise((r) => setTimeout(r, 500));
    expect((await rig.api.get(`/v1/nodes/${nodeUuid}/states/console`)).data).toEqual({ console_enabled: false, console_info: null });
    expect(rig.output.anvil).not.toContain(RESCUE_PASSWORD);
    expect(rig.output.anvil).not.toContain(rig.bmcPassword);
  }, 420_000);

  it('unrescues it: the instance boots from its disk again and the node is active', async () => {
    const node = await rig.timed('unrescue', async () => {
      await rig.provision(nodeUuid, 'unrescue');
      return rig.waitForState(nodeUuid, 'active', 120);
    });
    expect(node.last_error).toBeNull();
    expect((node.instance_info as Record<string, unknown>).hashed_rescue_password).toBeUndefined();
    expect(await rig.machine.powerState()).toBe('on');
    expect(rig.machine.bootOrder).toBe('c');
  }, 150_000);
});
