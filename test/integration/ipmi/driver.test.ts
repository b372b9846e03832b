// The ipmitool power and management interfaces, through each transport (ipmitool processes and
// the native RMCP+ client), against three BMCs: OpenIPMI's ipmi_sim (with a threshold sensor), a
// pyghmi BMC (VirtualBMC's stack) and Anvil's simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { BmcTimeout } from '../../../common/errors.ts';
import { pollUntil } from '../../../common/poll.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { ipmitoolArgs } from '../../../drivers/ipmi/transport-ipmitool.ts';
import { closeIpmiClients } from '../../../drivers/ipmi/client.ts';
import { parseIpmiInfo } from '../../../drivers/ipmi/driver-info.ts';
import { redfishContext as taskContext } from '../redfish/context.ts';
import { startUdpFaultProxy, type UdpFaultProxy } from '../../helpers/bmc-fault-proxy.ts';
import { freeUdpPort, PEER_PASSWORD, PEER_USER, startIpmiSim, startPyghmiBmc, type IpmiSimPeer, type Peer } from './peers.ts';

let ipmiSim: IpmiSimPeer;
let pyghmi: Peer;
let sim: IpmiSimulator;
const machine = new MemoryMachine('m0', randomUUID(), 'node-0', sampleHardware(0));

beforeAll(async () => {
  [ipmiSim, pyghmi, sim] = await Promise.all([
    startIpmiSim({ temperature: 92 }), startPyghmiBmc(),
    startIpmiSimulator({ machines: [machine], firstPort: 0, username: PEER_USER, password: PEER_PASSWORD }),
  ]);
}, 20_000);
afterAll(async () => {
  await closeIpmiClients();
  await Promise.all([ipmiSim?.close(), pyghmi?.close(), sim?.close()]);
});

const TRANSPORTS = ['ipmitool', 'native'] as const;

function ctx(port: number, transport: string, extra: Record<string, unknown> = {}) {
  return taskContext('ipmi', {
    ipmi_address: '127.0.0.1', ipmi_port: port, ipmi_username: PEER_USER, ipmi_password: PEER_PASSWORD, ipmi_cipher_suite: 3,
    ipmi_transport: transport, ipmi_min_command_interval: 0, ipmi_power_poll_interval: 0.05, ipmi_command_timeout: 0.5, ipmi_retries: 2, ...extra,
  });
}

describe.each(TRANSPORTS)('with the %s transport', (transport) => {
  const peers = () => [['ipmi_sim', ipmiSim.port], ['pyghmi', pyghmi.port], ['anvil simulator', sim.ports[0]]] as const;

  it('powers on and off and reads the state back on all three BMCs', async () => {
    for (const [peer, port] of peers()) {
      const c = ctx(port, transport);
      await c.driver.power.setPowerState(c, 'power on', 10);
      expect(await c.driver.power.getPowerState(c), peer).toBe('power on');
      await c.driver.power.setPowerState(c, 'power off', 10);
      expect(await c.driver.power.getPowerState(c), peer).toBe('power off');
    }
    expect(await ipmiSim.chassis('power')).toBe('0');
  });

  it('sets and reads the boot device on all three BMCs', async () => {
    for (const [peer, port] of peers()) {
      const c = ctx(port, transport);
      await c.driver.management.setBootDevice(c, 'pxe', false);
      expect((await c.driver.management.getBootDevice(c)).boot_device, peer).toBe('pxe');
      await c.driver.management.setBootDevice(c, 'disk', true);
      expect((await c.driver.management.getBootDevice(c)).boot_device, peer).toBe('disk');
    }
    expect(await ipmiSim.chassis('boot')).toBe('default');
  });

  it('keeps persistence and boot mode on the Anvil simulator, reboots, injects an NMI, reads sensors', async () => {
    const c = ctx(sim.ports[0], transport);
    await c.driver.management.setBootDevice(c, 'pxe', true);
    expect(await c.driver.management.getBootDevice(c)).toEqual({ boot_device: 'pxe', persistent: true });
    expect(machine.getBootOverride()).toEqual({ device: 'pxe', persistent: true, mode: 'uefi' });
    await c.driver.management.setBootMode!(c, 'bios');
    expect(await c.driver.management.getBootMode!(c)).toBe('bios');
    expect(c.node.boot_mode).toBe('bios');
    const boots: string[] = [];
    machine.on('boot', (d: string) => boots.push(d));
    await c.driver.power.reboot(c, false, 10);
    await c.driver.power.reboot(c, true, 10);
    expect(boots).toEqual(['pxe', 'pxe']);
    await c.driver.management.injectNmi!(c);
    const sensors = await c.driver.management.getSensorsData!(c);
    expect(sensors.Temperature['CPU Temp (0x1)']['Sensor Reading']).toBe('45 (+/- 0) degrees C');
    expect(sensors.Fan['Fan1 (0x3)']['Sensor Reading']).toBe('5400 (+/- 0) RPM');
    await c.driver.power.setPowerState(c, 'soft power off', 10);
    expect(await machine.powerState()).toBe('off');
  });

  it('reads health from the chassis status and the threshold sensors, walking the sensors at most once per interval', async () => {
    // ipmi_sim's CPU temperature reads 92 °C, past its upper critical threshold (90)
    expect(await ctx(ipmiSim.port, transport).driver.management.getHealth!(ctx(ipmiSim.port, transport)), 'ipmi_sim').toBe('Critical');
    const pyghmiCtx = ctx(pyghmi.port, transport);
    expect(await pyghmiCtx.driver.management.getHealth!(pyghmiCtx), 'pyghmi, no sensors').toBe('OK');
    const c = ctx(sim.ports[0], transport);
    const health = () => c.driver.management.getHealth!(c);
    try {
      expect(await health()).toBe('OK');
      machine.faults.add('warm');
      expect(await health(), 'the sensors were read less than ipmi_health_sensor_interval (600 s) ago').toBe('OK');
      c.node.driver_info.ipmi_health_sensor_interval = 0;
      expect(await health(), 'sensors not read').toBe('OK');
      c.node.driver_info.ipmi_health_sensor_interval = 0.01;
      await new Promise((r) => setTimeout(r, 20));
      expect(await health()).toBe('Warning');
      machine.faults.add('overheat');
      await new Promise((r) => setTimeout(r, 20));
      expect(await health()).toBe('Critical');
    } finally {
      machine.faults.clear();
    }
  });

  it('vendor passthru: send_raw answers Get Device ID on all three BMCs; bmc_reset resets the Anvil simulator\'s controller', async () => {
    for (const [peer, port] of peers()) {
      const c = ctx(port, transport);
      const answer = (await c.driver.vendor.methods!.send_raw.run(c, { raw_bytes: '0x06 0x01' })) as { response: string };
      expect(answer.response, peer).toMatch(/^0x[0-9a-f]{2}( 0x[0-9a-f]{2}){10,}$/);
    }
    const c = ctx(sim.ports[0], transport);
    await expect(c.driver.vendor.methods!.send_raw.run(c, { raw_bytes: '0x30 0x01' })).rejects.toThrow(/IPMI raw request 0x30 0x01 failed on BMC 127\.0\.0\.1:\d+: .*\(0xc1\)/);
    await expect(c.driver.vendor.methods!.send_raw.run(c, { raw_bytes: '0x06' })).rejects.toThrow('a network function and a command at least');
    await expect(c.driver.vendor.methods!.send_raw.run(c, { raw_bytes: '0x06 0x100' })).rejects.toThrow('each must be a byte');
    const before = sim.bmcs[0].resets;
    await c.driver.vendor.methods!.bmc_reset.run(c, {});
    await c.driver.vendor.methods!.bmc_reset.run(c, { warm: 'false' });
    expect(sim.bmcs[0].resets).toBe(before + 2);
    await expect(c.driver.vendor.methods!.bmc_reset.run(c, { warm: 'sometimes' })).rejects.toThrow('Invalid "warm"');
  });

  it('says so clearly when the password or the user is wrong, without showing the password', async () => {
    const wrong = ctx(sim.ports[0], transport, { ipmi_password: 'Wr0ng-Pa55' });
    const err = await wrong.driver.power.getPowerState(wrong).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/wrong password \(RAKP 2 HMAC is invalid\)/);
    expect(err?.message).not.toContain('Wr0ng-Pa55');
    const nobody = ctx(sim.ports[0], transport, { ipmi_username: 'mallory' });
    await expect(nobody.driver.power.getPowerState(nobody)).rejects.toThrow(/does not know IPMI user "mallory"/);
  });

  it('times out on a BMC that does not answer', async () => {
    const silent = ctx(await freeUdpPort(), transport, { ipmi_command_timeout: 0.2, ipmi_retries: 0 });
    await expect(silent.driver.power.getPowerState(silent)).rejects.toBeInstanceOf(BmcTimeout);
  });
});

// A BMC slower than ipmi_command_timeout: both transports retransmit, and the BMC's late answer to
// the first transmission must neither void the session (the simulator once replaced a session on a
// retransmitted Open Session: "invalid session ID") nor pass for a wrong password (ipmitool takes a
// stale RAKP 2 as the answer to its retransmitted RAKP 1: "RAKP 2 HMAC is invalid").
describe('a BMC behind a slow link (UDP fault proxy)', () => {
  let proxy: UdpFaultProxy;
  beforeAll(async () => { proxy = await startUdpFaultProxy({ host: '127.0.0.1', port: sim.ports[0] }); });
  afterAll(async () => { await proxy?.close(); });

  it('works with the native transport when each answer takes longer than ipmi_command_timeout', async () => {
    proxy.delayMs = 200;
    const c = ctx(proxy.port, 'native', { ipmi_command_timeout: 0.25, ipmi_retries: 3 });
    await c.driver.power.setPowerState(c, 'power on', 10);
    expect(await c.driver.power.getPowerState(c)).toBe('power on');
    await c.driver.power.setPowerState(c, 'power off', 10);
    expect(await machine.powerState()).toBe('off');
  }, 30_000);

  it('works with ipmitool on a BMC slower than its 1 s wait', async () => {
    proxy.delayMs = 600;
    const c = ctx(proxy.port, 'ipmitool', { ipmi_command_timeout: 1, ipmi_retries: 3 });
    expect(await c.driver.power.getPowerState(c)).toBe('power off');
  }, 60_000);

  it('says what happened when the BMC never answers, naming it', async () => {
    proxy.delayMs = 0;
    proxy.dark = true;
    try {
      const native = ctx(proxy.port, 'native', { ipmi_command_timeout: 0.2, ipmi_retries: 1 });
      await expect(native.driver.power.getPowerState(native)).rejects.toThrow(`BMC 127.0.0.1:${proxy.port} did not answer Open Session: no answer after 0.6 s (2 attempts, waits from 200 ms doubling)`);
      const tool = ctx(proxy.port, 'ipmitool', { ipmi_command_timeout: 1, ipmi_retries: 1 });
      const err = await tool.driver.power.getPowerState(tool).catch((e: Error) => e);
      expect(err).toBeInstanceOf(BmcTimeout);
      expect((err as Error).message).toBe(`BMC 127.0.0.1:${proxy.port} did not answer ipmitool (2 attempts): Error issuing Get Channel Authentication Capabilities request; Error: Unable to establish IPMI v2 / RMCP+ session`);
    } finally {
      proxy.dark = false;
    }
  }, 60_000);
});

describe('cipher suites', () => {
  it('falls back from 3 to 17 when the node leaves the suite unset, and uses 17 when told', async () => {
    for (const transport of TRANSPORTS) {
      const c = ctx(sim.ports[0], transport, { ipmi_cipher_suite: '' });
      expect(await c.driver.power.getPowerState(c)).toMatch(/^power (on|off)$/);
      const c17 = ctx(sim.ports[0], transport, { ipmi_cipher_suite: 17 });
      expect(await c17.driver.power.getPowerState(c17)).toMatch(/^power (on|off)$/);
      // neither ipmi_sim nor pyghmi offers 17
      const refused = ctx(pyghmi.port, transport, { ipmi_cipher_suite: 17, ipmi_command_timeout: 0.3, ipmi_retries: 0 });
      await expect(refused.driver.power.getPowerState(refused)).rejects.toThrow();
    }
  });
});

describe('a BMC that disabled cipher suite 3', () => {
  it('is reached with suite 17 when the node leaves the suite unset, and refuses 3 with a clear message', async () => {
    const modern = await startIpmiSimulator({ machines: [new MemoryMachine('m17', randomUUID(), 'node-17', sampleHardware(17))], firstPort: 0, username: PEER_USER, password: PEER_PASSWORD, cipherSuites: [17] });
    try {
      for (const transport of TRANSPORTS) {
        const c = ctx(modern.ports[0], transport, { ipmi_cipher_suite: '' });
        await c.driver.power.setPowerState(c, 'power on', 10);
        expect(await modern.bmcs[0].machine.powerState()).toBe('on');
        await c.driver.power.setPowerState(c, 'power off', 10);
        const three = ctx(modern.ports[0], transport, { ipmi_cipher_suite: 3 });
        await expect(three.driver.power.getPowerState(three)).rejects.toThrow(/cipher suite/);
      }
    } finally {
      await modern.close();
    }
  });
});

describe('ipmitool command line', () => {
  it('carries no password: it goes through the environment (-E)', () => {
    const info = parseIpmiInfo(ctx(623, 'ipmitool', { ipmi_password: 'hunter2' }).node);
    const args = ipmitoolArgs(info.target, 3, ['raw', '0x00', '0x01']);
    expect(args).toContain('-E');
    expect(args.join(' ')).not.toContain('hunter2');
    expect(args).not.toContain('-P');
    expect(args).toEqual(expect.arrayContaining(['-C', '3', '-I', 'lanplus', '-p', '623']));
  });
});

describe('native sessions', () => {
  it('keeps one session per BMC and matches concurrent answers to their requests', async () => {
    const c = ctx(sim.ports[0], 'native', { ipmi_max_in_flight: 8 });
    const before = sim.bmcs[0].sessionCount;
    const states = await Promise.all(Array.from({ length: 24 }, () => c.driver.power.getPowerState(c)));
    expect(new Set(states).size).toBe(1);
    expect(sim.bmcs[0].sessionCount).toBeLessThanOrEqual(before + 1);
  });

  it('are closed on the BMC when the ipmi family closes (conductor shutdown), and opened anew after', async () => {
    const c = ctx(sim.ports[0], 'native');
    await c.driver.power.getPowerState(c);
    const open = sim.bmcs[0].sessionCount;
    expect(open).toBeGreaterThan(0);
    await closeIpmiClients();
    const left = await pollUntil(async () => (sim.bmcs[0].sessionCount < open ? sim.bmcs[0].sessionCount : undefined), { timeoutSec: 5 });
    expect(left).toBe(open - 1);
    expect(await c.driver.power.getPowerState(c)).toMatch(/^power (on|off)$/);
    expect(sim.bmcs[0].sessionCount).toBe(open);
  });
});

describe('ipmi_force_boot_device', () => {
  it('sends the boot device again before power-on to a BMC that forgot it, once for a one-time device', async () => {
    const c = ctx(sim.ports[0], 'native', { ipmi_force_boot_device: true });
    await c.driver.power.setPowerState(c, 'power off', 10);
    await c.driver.management.setBootDevice(c, 'pxe', false);
    machine.setBootOverride({ device: 'none' }); // the BMC forgets
    const boots: string[] = [];
    machine.on('boot', (d: string) => boots.push(d));
    await c.driver.power.setPowerState(c, 'power on', 10);
    await c.driver.power.reboot(c, false, 10);
    expect(boots).toEqual(['pxe', 'disk']);
    expect(c.node.driver_internal_info.ipmi_forced_boot_device).toBeUndefined();
  });
});
