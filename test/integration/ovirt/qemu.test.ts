// `anvil simulate qemu --ovirt`: a real QEMU machine as the VM of the simulated Engine. The ovirt
// driver starts it (the QEMU process runs: its Redfish view, served beside, says On), sets its boot
// device to the network, hard-reboots it (a new QEMU process, started to boot from the network
// first) and stops it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEngineClients } from '../../../drivers/ovirt/client.ts';
import { redfishContext } from '../redfish/context.ts';

const ANVIL = resolve(fileURLToPath(import.meta.url), '../../../../bin/anvil.js');
let dir: string;
let child: ResultPromise | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-ovirt-qemu-'));
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '1G']);
});

afterAll(async () => {
  await closeEngineClients();
  child?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('an oVirt VM backed by a QEMU machine', () => {
  it('is started, restarted to boot from the network after a boot device change and a hard reboot, and stopped by the ovirt driver', async () => {
    child = execa(process.execPath, [ANVIL, 'simulate', 'qemu', '--disk', join(dir, 'disk.qcow2'), '--name', 'ovirt-qemu', '--memory', '256',
      '--work-dir', join(dir, 'vm'), '--redfish', '127.0.0.1:0', '--ovirt', '127.0.0.1:0', '--password', 'qemu-pw'], { all: true, reject: false });
    let output = '';
    child.all!.on('data', (c: Buffer) => { output += c.toString(); });
    while (!output.includes('QEMU BMC ready')) {
      if (child.exitCode !== null) throw new Error(`anvil simulate qemu exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const system = /Redfish (\S+?)[,;]/.exec(output)![1]!;
    const [, engine, caFile] = /oVirt Engine (https:\/\/[^/]+)\/ovirt-engine\/api \(VM ovirt-qemu, CA (\S+)\)/.exec(output)!;
    const redfishPower = async () => ((await (await fetch(system, { headers: { authorization: `Basic ${Buffer.from('admin:qemu-pw').toString('base64')}` } })).json()) as { PowerState: string }).PowerState;

    const ctx = redfishContext('ovirt', { ovirt_address: engine, ovirt_username: 'admin@internal', ovirt_password: 'qemu-pw', ovirt_vm_name: 'ovirt-qemu', ovirt_ca_file: caFile, ovirt_power_poll_interval: 0.2 });
    const { power, management } = ctx.driver;
    expect(await power.getPowerState(ctx)).toBe('power off');
    await power.setPowerState(ctx, 'power on', 60);
    expect(await redfishPower()).toBe('On');

    await management.setBootDevice(ctx, 'pxe', true);
    await power.reboot(ctx, false, 60);
    expect(await power.getPowerState(ctx)).toBe('power on');
    // The QEMU process running now is a new one, told to boot from the network first.
    const qemu = (await execa('ps', ['-eo', 'args'])).stdout.split('\n').filter((l) => l.includes(join(dir, 'disk.qcow2')) && l.includes('-boot'));
    expect(qemu).toHaveLength(1);
    expect(qemu[0]).toMatch(/-boot order=n/);

    await power.setPowerState(ctx, 'power off', 60);
    expect(await redfishPower()).toBe('Off');
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  }, 180_000);
});
