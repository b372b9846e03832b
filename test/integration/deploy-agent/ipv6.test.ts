// The agent on an IPv6 provisioning network: its API URL is a bracketed IPv6 literal (the kernel
// command line's ipa-api-url=http://[…]:6385), it listens on both families by default and calls
// itself back at the address of its route to the API, bracketed, where the conductor's client
// reaches its command API.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { Agent } from '../../../deploy-agent/agent.ts';
import { sourceAddressTowards } from '../../../deploy-agent/source-address.ts';
import { AgentClient } from '../../../drivers/in-band/client.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { SimulatedHardware } from '../../../simulators/ramdisk-agents/hardware.ts';
import { startFakeIronic, type FakeIronic } from './fake-ironic.ts';

let dir: string;
const agents: Agent[] = [];
const ironics: FakeIronic[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-agent-v6-'));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all(ironics.map((i) => i.close()));
  await rm(dir, { recursive: true, force: true });
});

/** An agent of a fresh machine against a stand-in Ironic on `host`, with the agent's default listen address; resolves at its first heartbeat. */
async function bootAgent(host: string, index: number) {
  const ironic = await startFakeIronic(undefined, host);
  ironics.push(ironic);
  const machine = new MemoryMachine(`v6m${index}`, `00000000-0000-4000-8000-00000000060${index}`, `v6-machine-${index}`, sampleHardware(index));
  ironic.nodes.set(machine.hardware.nics[1].mac, machine.uuid);
  const hardware = new SimulatedHardware({ machine, diskPath: path.join(dir, `${index}.disk`), ipv4Address: '192.0.2.99' });
  await hardware.rootDisk();
  const agent = new Agent({ apiUrl: ironic.url, hardware, logger: silentLogger, listenPort: 0, lookupRetryMs: 20, heartbeatIntervalMs: 600_000 });
  agents.push(agent);
  await agent.start();
  return { ironic, machine, hb: await ironic.heartbeatOf(machine.uuid, 0) };
}

describe('the agent with an IPv6 API URL', () => {
  it('looks up and heart-beats at http://[::1]:PORT, calling itself back at http://[::1]:PORT, where its commands answer', async () => {
    const { ironic, machine, hb } = await bootAgent('::1', 1);
    expect(ironic.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect(ironic.lookups[0].addresses).toContain(machine.hardware.nics[1].mac);
    expect(String(hb.callback_url)).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const client = new AgentClient(String(hb.callback_url), ironic.token, { timeoutMs: 10_000 });
    expect(await client.commands()).toEqual([]);
  });

  it('the same default listener answers an IPv4 API at its IPv4 route address (both families)', async () => {
    const { ironic, hb } = await bootAgent('127.0.0.1', 2);
    // Not the inventory's first NIC address (192.0.2.99): the address the API is reached from.
    expect(String(hb.callback_url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await new AgentClient(String(hb.callback_url), ironic.token, { timeoutMs: 10_000 }).commands()).toEqual([]);
  });

  it('sourceAddressTowards gives no address for a host that does not resolve', async () => {
    expect(await sourceAddressTowards('http://[::1]:6385')).toBe('::1');
    expect(await sourceAddressTowards('http://no-such-host.invalid:6385')).toBeUndefined();
  });
});
