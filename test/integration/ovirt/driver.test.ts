// The ovirt power and management interfaces against Anvil's oVirt Engine simulator over HTTPS:
// power changes wait for the VM's statuses, the boot device is the VM's os.boot.devices, and each
// fault (wrong credentials, a VM that does not exist, an Engine that answers 503 or not at all, an
// action the Engine refuses, a certificate not trusted) is an error that says what happened and
// never holds the password or the token. Then libgovirt, a client others wrote, against the same simulator.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEngineClients } from '../../../drivers/ovirt/client.ts';
import type { MachineBootDevice } from '../../../simulators/machine.ts';
import { startEngineSimulator, type EngineSimulator } from '../../../simulators/ovirt-engine/index.ts';
import { makeMachines } from '../../../simulators/redfish-bmc/index.ts';
import { selfSignedCertificate } from '../../../simulators/redfish-bmc/tls.ts';
import { redfishContext } from '../redfish/context.ts';

const PASSWORD = 'Engine-Secret-42';

describe('the ovirt driver against the oVirt Engine simulator', () => {
  let dir: string;
  let caFile: string;
  let sim: EngineSimulator;
  const boots: { vm: string; device: MachineBootDevice }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-ovirt-'));
    const machines = makeMachines(4);
    for (const m of machines) m.on('boot', (device: MachineBootDevice) => boots.push({ vm: m.name, device }));
    sim = await startEngineSimulator({ machines, users: { 'admin@internal': PASSWORD }, stepMs: 20 });
    caFile = path.join(dir, 'engine-ca.pem');
    await writeFile(caFile, sim.certificate!);
  });

  afterAll(async () => {
    await closeEngineClients();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const info = (extra: Record<string, unknown> = {}) => ({
    ovirt_address: sim.url.replace('https://', ''), ovirt_username: 'admin@internal', ovirt_password: PASSWORD,
    ovirt_vm_name: 'node-0001', ovirt_ca_file: caFile, ovirt_power_poll_interval: 0.05, ...extra,
  });
  const context = (extra: Record<string, unknown> = {}) => redfishContext('ovirt', info(extra));

  /** The error a call throws, checked to hold neither the password nor the token. */
  async function failure(call: Promise<unknown>): Promise<string> {
    const err = await call.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);
    expect(err.message).not.toContain(PASSWORD);
    expect(err.message).not.toMatch(/Bearer|access_token/);
    return err.message;
  }

  it('powers a VM on and off through its statuses, with an SSO token', async () => {
    const ctx = context();
    const { power } = ctx.driver;
    await power.validate(ctx.node, []);
    expect(await power.getPowerState(ctx)).toBe('power off');
    await power.setPowerState(ctx, 'power on');
    expect(await sim.vms[0].status()).toMatch(/^(up|powering_up)$/);
    expect(await sim.vms[0].machine.powerState()).toBe('on');
    expect(await power.getPowerState(ctx)).toBe('power on');
    await power.setPowerState(ctx, 'power on'); // already on: no second start (the Engine would refuse it)
    await power.setPowerState(ctx, 'soft power off');
    expect(await sim.vms[0].status()).toBe('down');
    await power.reboot(ctx, false); // off: a reboot starts it
    expect(await power.getPowerState(ctx)).toBe('power on');
    await power.setPowerState(ctx, 'power off');
    expect(await sim.vms[0].machine.powerState()).toBe('off');
  });

  it('sets the boot device as the VM\'s os.boot.devices, and a hard reboot boots from it', async () => {
    const ctx = context({ ovirt_vm_name: 'node-0002', ovirt_auth: 'basic' });
    const { power, management } = ctx.driver;
    expect(await management.supportedBootDevices(ctx)).toEqual(['pxe', 'disk', 'cdrom']);
    expect(await management.getBootDevice(ctx)).toEqual({ boot_device: 'disk', persistent: true });
    await power.setPowerState(ctx, 'power on');
    await management.setBootDevice(ctx, 'pxe', false);
    expect(sim.vms[1].bootDevices()).toEqual(['network']);
    expect(await management.getBootDevice(ctx)).toEqual({ boot_device: 'pxe', persistent: true });
    const before = boots.length;
    await power.reboot(ctx, false);
    expect(boots.slice(before)).toEqual([{ vm: 'node-0002', device: 'pxe' }]);
    await management.setBootDevice(ctx, 'disk', true);
    await power.reboot(ctx, true); // soft: the Engine's reboot action
    expect(boots.slice(before)).toEqual([{ vm: 'node-0002', device: 'pxe' }, { vm: 'node-0002', device: 'disk' }]);
    await expect(management.setBootDevice(ctx, 'bios', true)).rejects.toThrow(/"bios" is not supported by the ovirt management interface \(pxe, disk, cdrom\)/);
    await power.setPowerState(ctx, 'power off');
  });

  it('logs in again when the Engine forgets its token', async () => {
    const ctx = context({ ovirt_vm_name: 'node-0003' });
    expect(await ctx.driver.power.getPowerState(ctx)).toBe('power off');
    sim.expireTokens();
    expect(await ctx.driver.power.getPowerState(ctx)).toBe('power off');
  });

  it('refuses driver_info it cannot use, naming the key', () => {
    const ctx = context();
    const check = (extra: Record<string, unknown>) => () => ctx.driver.power.validate({ ...ctx.node, driver_info: info(extra) }, []);
    expect(check({ ovirt_address: undefined })).toThrow(/Missing the following oVirt properties in node .* driver_info: ovirt_address/);
    expect(check({ ovirt_vm_name: '' })).toThrow(/driver_info: ovirt_vm_name/);
    expect(check({ ovirt_ca_file: undefined })).toThrow(/Missing ovirt_ca_file .* unless ovirt_insecure is true/);
    expect(check({ ovirt_ca_file: undefined, ovirt_insecure: 'true' })).not.toThrow();
    expect(check({ ovirt_ca_file: path.join(dir, 'none.pem') })).toThrow(/driver_info\/ovirt_ca_file .*no such file/);
    expect(check({ ovirt_auth: 'kerberos' })).toThrow(/driver_info\/ovirt_auth .*oauth or basic/);
    expect(check({ ovirt_vm_name: 'a vm' })).toThrow(/driver_info\/ovirt_vm_name/);
  });

  it('says what went wrong: wrong credentials, a missing VM, an Engine down or unavailable, a refused action, an untrusted certificate', async () => {
    const engine = `oVirt Engine ${sim.url}`;
    let ctx = context({ ovirt_password: 'wrong' });
    expect(await failure(ctx.driver.power.getPowerState(ctx))).toBe(
      `${engine} refused the SSO login of admin@internal: access_denied: Cannot authenticate user 'admin@internal': The username or password is incorrect.. (HTTP 400)`,
    );
    ctx = context({ ovirt_password: 'wrong', ovirt_auth: 'basic' });
    expect(await failure(ctx.driver.power.getPowerState(ctx))).toBe(`${engine} refused the credentials of admin@internal (search for VM node-0001, HTTP 401)`);

    ctx = context({ ovirt_vm_name: 'no-such-vm' });
    expect(await failure(ctx.driver.power.getPowerState(ctx))).toBe(`VM "no-such-vm" on ${engine} was not found`);

    ctx = context({ ovirt_vm_name: 'node-0004' });
    sim.faults.unavailable = true;
    try {
      expect(await failure(ctx.driver.power.setPowerState(ctx, 'power on'))).toBe(`${engine}: search for VM node-0004 failed (HTTP 503)`);
      // A client with no token yet (another timeout: another client) meets the 503 at its login.
      const fresh = context({ ovirt_vm_name: 'node-0004', ovirt_timeout: 29 });
      expect(await failure(fresh.driver.power.getPowerState(fresh))).toBe(`${engine}: SSO login of admin@internal failed (HTTP 503)`);
    } finally {
      sim.faults.unavailable = false;
    }

    sim.faults.refuse.set('node-0004', { actions: ['start'], detail: '[Cannot run VM. There is no host that satisfies current scheduling constraints.]' });
    try {
      expect(await failure(ctx.driver.power.setPowerState(ctx, 'power on'))).toBe(
        `${engine}: start of VM node-0004 failed: Operation Failed: [Cannot run VM. There is no host that satisfies current scheduling constraints.] (HTTP 409)`,
      );
    } finally {
      sim.faults.refuse.delete('node-0004');
    }

    const otherCa = path.join(dir, 'other-ca.pem');
    await writeFile(otherCa, (await selfSignedCertificate()).cert);
    ctx = context({ ovirt_ca_file: otherCa });
    expect(await failure(ctx.driver.power.getPowerState(ctx))).toMatch(
      new RegExp(`^${engine} is unreachable \\(SSO login of admin@internal\\): its certificate is not trusted \\(\\w+; set driver_info/ovirt_ca_file`),
    );
  });

  it('says the Engine is unreachable when nothing listens', async () => {
    const closed = await startEngineSimulator({ machines: makeMachines(1), tls: false });
    const url = closed.url;
    await closed.close();
    const ctx = redfishContext('ovirt', { ovirt_address: url, ovirt_password: PASSWORD, ovirt_vm_name: 'node-0001' });
    expect(await failure(ctx.driver.power.getPowerState(ctx))).toBe(`oVirt Engine ${url} is unreachable (SSO login of admin@internal): connection refused`);
  });

  it('is driven by libgovirt (Debian\'s gir1.2-govirt-1.0) in XML: entry point, collection, search, start, a refused start, stop', async () => {
    const r = await execa('/usr/bin/python3', [path.join(import.meta.dirname, 'govirt-check.py'), sim.url.replace('https://', ''), 'admin@internal', PASSWORD, caFile, 'node-0003'], { reject: false, timeout: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(seen).toMatchObject({
      vms_total: 4,
      search: ['node-0003'],
      initial: 'down',
      start: true,
      second_start: 'Operation Failed: [Cannot run VM. VM is running.]',
      stop: true,
    });
    expect(seen.after_start.at(-1)).toBe('up');
    for (const status of seen.after_start) expect(['down', 'wait_for_launch', 'powering_up', 'up']).toContain(status);
    expect(seen.after_stop.at(-1)).toBe('down');
  }, 180_000);
});
