// `anvil simulate qemu`: the virtual BMC for one QEMU machine, as a user starts it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ANVIL = resolve(fileURLToPath(import.meta.url), '../../../../bin/anvil.js');
let dir: string;
let child: ResultPromise | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-qemu-cli-'));
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '4G']);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('anvil simulate qemu', () => {
  it('serves Redfish and IPMI for the machine and powers it off when stopped', async () => {
    child = execa(process.execPath, [ANVIL, 'simulate', 'qemu', '--disk', join(dir, 'disk.qcow2'), '--name', 'cli-vm', '--cpus', '2', '--memory', '512',
      '--work-dir', join(dir, 'vm'), '--redfish', '127.0.0.1:0', '--ipmi', '127.0.0.1:0', '--password', 'cli-pw'], { all: true, reject: false });
    let output = '';
    child.all!.on('data', (c: Buffer) => { output += c.toString(); });
    while (!output.includes('QEMU BMC ready')) {
      if (child.exitCode !== null) throw new Error(`anvil simulate qemu exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const system = /Redfish (\S+?)[,;]/.exec(output)![1]!;
    const ipmiPort = /IPMI 127\.0\.0\.1:(\d+)/.exec(output)![1]!;
    const auth = { authorization: `Basic ${Buffer.from('admin:cli-pw').toString('base64')}` };
    const get = async () => (await (await fetch(system, { headers: auth })).json()) as { PowerState: string; ProcessorSummary: { LogicalProcessorCount: number }; MemorySummary: { TotalSystemMemoryGiB: number } };
    expect((await fetch(system)).status).toBe(401);
    expect(await get()).toMatchObject({ PowerState: 'Off', ProcessorSummary: { LogicalProcessorCount: 2 }, MemorySummary: { TotalSystemMemoryGiB: 0.5 } });

    const reset = await fetch(`${system}/Actions/ComputerSystem.Reset`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ResetType: 'On' }) });
    expect(reset.status).toBeLessThan(300);
    while ((await get()).PowerState !== 'On') await new Promise((r) => setTimeout(r, 100));
    const ipmitool = (...args: string[]) => execa('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', ipmiPort, '-U', 'admin', '-E', '-C', '3', ...args], { env: { IPMI_PASSWORD: 'cli-pw' } });
    expect((await ipmitool('chassis', 'power', 'status')).stdout).toContain('Chassis Power is on');

    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    // QEMU went with it: qemu-img info takes the disk's lock, which a running QEMU holds.
    const lock = await execa('qemu-img', ['info', join(dir, 'disk.qcow2')], { reject: false });
    expect(lock.exitCode).toBe(0);
  }, 60_000);

  it('refuses a bad MAC and a missing disk with a clear message', async () => {
    const bad = await execa(process.execPath, [ANVIL, 'simulate', 'qemu', '--disk', join(dir, 'disk.qcow2'), '--mac', 'nope'], { reject: false });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('--mac is not a MAC address: "nope"');
    const missing = await execa(process.execPath, [ANVIL, 'simulate', 'qemu', '--disk', join(dir, 'missing.qcow2')], { reject: false });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('missing.qcow2: no such file');
  }, 30_000);
});
