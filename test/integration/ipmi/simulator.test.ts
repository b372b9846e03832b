// Debian's real ipmitool (-I lanplus) against Anvil's simulated BMCs: every command testers use,
// both cipher suites and suite discovery, wrong credentials, and many BMCs at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';

const USER = 'admin';
const PASSWORD = 'secret-pw';
let sim: IpmiSimulator;
let machines: MemoryMachine[];

beforeAll(async () => {
  machines = Array.from({ length: 12 }, (_, k) => new MemoryMachine(`m${k}`, randomUUID(), `node-${k}`, sampleHardware(k)));
  sim = await startIpmiSimulator({ machines, host: '127.0.0.1', firstPort: 0, username: USER, password: PASSWORD });
});
afterAll(async () => {
  await sim?.close();
});

async function ipmitool(k: number, args: string[], opts: { password?: string; user?: string; suite?: string | null } = {}) {
  const suite = opts.suite === undefined ? '3' : opts.suite;
  return execa('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(sim.ports[k]), '-U', opts.user ?? USER, '-E', '-N', '1', '-R', '1',
    ...(suite ? ['-C', suite] : []), ...args], { env: { IPMI_PASSWORD: opts.password ?? PASSWORD }, reject: false });
}

describe('ipmitool against the simulator', () => {
  it('reads and changes the power state: status, on, off, cycle, reset, soft', async () => {
    const m = machines[0];
    expect((await ipmitool(0, ['chassis', 'power', 'status'])).stdout).toBe('Chassis Power is off');
    expect((await ipmitool(0, ['chassis', 'power', 'on'])).stdout).toBe('Chassis Power Control: Up/On');
    expect(await m.powerState()).toBe('on');
    expect((await ipmitool(0, ['chassis', 'power', 'status'])).stdout).toBe('Chassis Power is on');
    const boots: string[] = [];
    m.on('boot', (d: string) => boots.push(d));
    expect((await ipmitool(0, ['chassis', 'power', 'cycle'])).stdout).toBe('Chassis Power Control: Cycle');
    expect((await ipmitool(0, ['chassis', 'power', 'reset'])).stdout).toBe('Chassis Power Control: Reset');
    expect(boots).toHaveLength(2);
    expect((await ipmitool(0, ['chassis', 'power', 'soft'])).stdout).toBe('Chassis Power Control: Soft');
    expect(await m.powerState()).toBe('off');
    expect((await ipmitool(0, ['chassis', 'power', 'on'])).exitCode).toBe(0);
    expect((await ipmitool(0, ['chassis', 'power', 'off'])).stdout).toBe('Chassis Power Control: Down/Off');
    expect((await ipmitool(0, ['chassis', 'status'])).stdout).toMatch(/System Power\s+: off/);
  });

  it('sets boot devices and reads parameter 5 back with its valid, persistent and EFI bits', async () => {
    const m = machines[1];
    expect((await ipmitool(1, ['chassis', 'bootdev', 'pxe', 'options=persistent,efiboot'])).stdout).toBe('Set Boot Device to pxe');
    expect(m.getBootOverride()).toEqual({ device: 'pxe', persistent: true, mode: 'uefi' });
    let out = (await ipmitool(1, ['chassis', 'bootparam', 'get', '5'])).stdout;
    expect(out).toContain('Boot parameter data: e004000000');
    expect(out).toContain('- Boot Flag Valid');
    expect(out).toContain('- Options apply to all future boots');
    expect(out).toContain('- BIOS EFI boot');
    expect(out).toContain('Boot Device Selector : Force PXE');

    expect((await ipmitool(1, ['chassis', 'bootdev', 'disk'])).stdout).toBe('Set Boot Device to disk');
    expect(m.getBootOverride()).toEqual({ device: 'disk', persistent: false, mode: 'bios' });
    out = (await ipmitool(1, ['chassis', 'bootparam', 'get', '5'])).stdout;
    expect(out).toContain('Boot parameter data: 8008000000');
    expect(out).toContain('- Options apply to only next boot');
    expect(out).toContain('Force Boot from default Hard-Drive');

    // A one-time override is used by the next boot: the flags are no longer valid.
    await m.power('on');
    out = (await ipmitool(1, ['chassis', 'bootparam', 'get', '5'])).stdout;
    expect(out).toContain('Boot parameter data: 0000000000');
    expect(out).toContain('Boot Flag Invalid');
  });

  it('answers mc info, sdr and sensor', async () => {
    const mc = await ipmitool(2, ['mc', 'info']);
    expect(mc.stdout).toMatch(/IPMI Version\s+: 2.0/);
    expect(mc.stdout).toContain('Chassis Device');
    await machines[2].power('on');
    const sdr = await ipmitool(2, ['sdr']);
    expect(sdr.exitCode).toBe(0);
    expect(sdr.stdout).toMatch(/CPU Temp\s+\| 45 degrees C\s+\| ok/);
    expect(sdr.stdout).toMatch(/Fan1\s+\| 5400 RPM\s+\| ok/);
    const sensor = await ipmitool(2, ['sensor']);
    expect(sensor.stdout).toMatch(/12V\s+\| 12.100\s+\| Volts\s+\| ok/);
  });

  it('speaks cipher suite 17 and answers Get Channel Cipher Suites when -C is left out', async () => {
    expect((await ipmitool(3, ['chassis', 'power', 'status'], { suite: '17' })).stdout).toBe('Chassis Power is off');
    const found = await ipmitool(3, ['-v', 'chassis', 'power', 'status'], { suite: null });
    expect(found.stdout).toBe('Chassis Power is off');
    expect(found.stderr).toContain('Using best available cipher suite 17');
  });

  it('refuses a wrong password and an unknown user with the right RAKP errors', async () => {
    const wrong = await ipmitool(4, ['-v', 'chassis', 'power', 'on'], { password: 'not-it' });
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toContain('RAKP 2 HMAC is invalid');
    const nobody = await ipmitool(4, ['-v', 'chassis', 'power', 'on'], { user: 'mallory' });
    expect(nobody.exitCode).not.toBe(0);
    expect(nobody.stderr).toContain('RAKP 2 message indicates an error : unauthorized name');
    expect(await machines[4].powerState()).toBe('off');
    expect((await ipmitool(4, ['chassis', 'power', 'status'])).stdout).toBe('Chassis Power is off');
  });

  it('answers Serial over LAN activation: disabled without a serial port, else one session at a time', async () => {
    // The in-memory machines have no serial port.
    expect((await ipmitool(2, ['sol', 'looptest', '1', '10'])).stderr).toContain('Info: SOL payload disabled');
    const withSerial = Object.assign(new MemoryMachine('sol', randomUUID(), 'sol-node', sampleHardware(0)), {
      openSerial: () => Promise.reject(new Error('no cable')),
    });
    const one = await startIpmiSimulator({ machines: [withSerial], firstPort: 0, username: USER, password: PASSWORD });
    try {
      const run = (args: string[]) => execa('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(one.ports[0]), '-U', USER, '-E', '-C', '3', ...args], { env: { IPMI_PASSWORD: PASSWORD }, reject: false });
      expect((await run(['sol', 'deactivate'])).stderr).toContain('Info: SOL payload already de-activated');
      // looptest activates (the answer names this port) and deactivates again.
      const loop = await run(['sol', 'looptest', '2', '10']);
      expect(loop.stdout).toContain('[SOL Session operational.');
      expect(loop.exitCode).toBe(0);
      expect((await run(['sol', 'deactivate'])).stderr).toContain('already de-activated');
    } finally {
      await one.close();
    }
  });

  it('serves many BMCs at once, each its own machine', async () => {
    const ks = Array.from({ length: 7 }, (_, i) => i + 5);
    await Promise.all(ks.filter((k) => k % 2 === 0).map((k) => ipmitool(k, ['chassis', 'power', 'on'])));
    const outs = await Promise.all(ks.map((k) => ipmitool(k, ['chassis', 'power', 'status'])));
    expect(outs.map((o) => o.stdout)).toEqual(ks.map((k) => (k % 2 === 0 ? 'Chassis Power is on' : 'Chassis Power is off')));
  });
});

describe('startIpmiSimulator', () => {
  it('says which port is taken', async () => {
    const m = new MemoryMachine('busy', randomUUID(), 'busy', sampleHardware(99));
    await expect(startIpmiSimulator({ machines: [m], firstPort: sim.ports[0] })).rejects.toThrow(`IPMI simulator cannot listen on UDP 127.0.0.1:${sim.ports[0]}`);
  });
});
