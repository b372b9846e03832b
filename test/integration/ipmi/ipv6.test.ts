// An IPMI BMC that speaks only IPv6: Anvil's simulator bound to ::1 alone, driven through both
// transports (Debian's ipmitool as the peer client with -H ::1, and the native RMCP+ client on a
// udp6 socket) with ipmi_address written bare and bracketed; power, boot device and a failure that
// names the BMC by its bracketed address.
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIpmiClients } from '../../../drivers/ipmi/client.ts';
import { parseIpmiInfo } from '../../../drivers/ipmi/driver-info.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { redfishContext as taskContext } from '../redfish/context.ts';
import { PEER_PASSWORD, PEER_USER } from './peers.ts';

const machine = new MemoryMachine('m0', randomUUID(), 'node-0', sampleHardware(0));
let sim: IpmiSimulator;

beforeAll(async () => {
  sim = await startIpmiSimulator({ machines: [machine], host: '::1', firstPort: 0, username: PEER_USER, password: PEER_PASSWORD });
});
afterAll(async () => {
  await closeIpmiClients();
  await sim?.close();
});

function ctx(address: string, transport: string, port = sim.ports[0]) {
  return taskContext('ipmi', {
    ipmi_address: address, ipmi_port: port, ipmi_username: PEER_USER, ipmi_password: PEER_PASSWORD,
    ipmi_transport: transport, ipmi_min_command_interval: 0, ipmi_power_poll_interval: 0.05, ipmi_command_timeout: 0.5, ipmi_retries: 1,
  });
}

/** A UDP port on ::1 that nothing answers on. */
async function silentPort(): Promise<number> {
  const socket = dgram.createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

it('the simulator listens on ::1 only: ipmitool reaches it there, not on 127.0.0.1', async () => {
  const args = ['-I', 'lanplus', '-U', PEER_USER, '-E', '-C', '3', '-p', String(sim.ports[0]), '-R', '1', '-N', '1', 'chassis', 'power', 'status'];
  const env = { IPMI_PASSWORD: PEER_PASSWORD };
  expect((await execa('ipmitool', ['-H', '::1', ...args], { env })).stdout).toMatch(/^Chassis Power is (on|off)$/);
  expect((await execa('ipmitool', ['-H', '127.0.0.1', ...args], { env, reject: false })).exitCode).not.toBe(0);
});

it('takes ipmi_address as a bare or bracketed IPv6 literal, or one with a zone', () => {
  expect(parseIpmiInfo(ctx('[::1]', 'native').node).target.address).toBe('::1');
  expect(parseIpmiInfo(ctx('2001:db8::5', 'native').node).target.address).toBe('2001:db8::5');
  expect(parseIpmiInfo(ctx('fe80::1%eth0', 'native').node).target.address).toBe('fe80::1%eth0');
  expect(() => parseIpmiInfo(ctx('[::1', 'native').node)).toThrow('ipmi_address');
});

describe.each(['ipmitool', 'native'] as const)('with the %s transport', (transport) => {
  it.each(['::1', '[::1]'])('powers the machine on and off and sets its boot device at %s', async (address) => {
    const c = ctx(address, transport);
    await c.driver.power.setPowerState(c, 'power on', 10);
    expect(await c.driver.power.getPowerState(c)).toBe('power on');
    expect(await machine.powerState()).toBe('on');
    await c.driver.management.setBootDevice(c, 'pxe', false);
    expect((await c.driver.management.getBootDevice(c)).boot_device).toBe('pxe');
    await c.driver.power.setPowerState(c, 'power off', 10);
    expect(await machine.powerState()).toBe('off');
  });

  it('a BMC that does not answer is named by its bracketed address and port', async () => {
    const port = await silentPort();
    const c = ctx('::1', transport, port);
    await expect(c.driver.power.getPowerState(c)).rejects.toThrow(`[::1]:${port}`);
  });
});
