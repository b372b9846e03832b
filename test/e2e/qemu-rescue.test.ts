// Rescue of a real QEMU machine (TCG) through the agent rescue interface: the node is adopted
// (active without a deploy, the quickest way there), rescued with a password, the rescue ramdisk's
// agent sets the password's hash and ends, and the test logs in as `rescue` on the VM's serial
// console (a unix socket chardev) and runs a command; a wrong password is refused first. Unrescue
// boots the instance's disk again and the node is active.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQemuRig, type QemuRig } from './support/rig.ts';

const RESCUE_PASSWORD = 'e2e-rescue-pw-7f3a';
let rig: QemuRig;
let nodeUuid: string;

beforeAll(async () => {
  rig = await startQemuRig({ name: 'rescue', memoryMb: 768, diskBytes: 1024 ** 3, machine: { serialSocket: true } });
}, 300_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

/** The VM's serial console: what it printed since connecting, and a wait for a pattern in it. */
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
    nodeUuid = await rig.timed('enroll and manage', () => rig.enroll({ rescue_interface: 'agent' }));
    await rig.timed('adopt', async () => {
      await rig.provision(nodeUuid, 'adopt');
      await rig.waitForState(nodeUuid, 'active', 60);
    });
  }, 120_000);

  it('rescues it: the rescue user logs in on the serial console with the password', async () => {
    const refused = await rig.api.put(`/v1/nodes/${nodeUuid}/states/provision`, { target: 'rescue' });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.data)).toContain('rescue_password');

    const node = await rig.timed('rescue (PXE boot of the rescue ramdisk, finalize_rescue)', async () => {
      await rig.provision(nodeUuid, 'rescue', { rescue_password: RESCUE_PASSWORD });
      return rig.waitForState(nodeUuid, 'rescue', 300);
    });
    expect((node.instance_info as Record<string, unknown>).hashed_rescue_password).toBe('******');
    expect(JSON.stringify(node)).not.toContain(RESCUE_PASSWORD);

    await rig.timed('log in on the serial console and run a command', async () => {
      const tty = serialConsole(rig.machine.serialSocket);
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
    expect(rig.output.anvil).not.toContain(RESCUE_PASSWORD);
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
