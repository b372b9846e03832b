// Fast track (agent.fastTrack) with the real API, a real conductor and simulated agents: inspect →
// clean → deploy runs on the one agent the inspection booted (one network boot instead of three);
// each doubt (the agent silent, holding another token, booted by another boot interface) falls back
// to a fresh ramdisk boot and says why; with fast track off every phase boots the ramdisk, as before.
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNodeById, updateNode } from '../../../db/nodes.ts';
import type { MemoryMachine } from '../../../simulators/machine.ts';
import { untilState } from '../conductor/helpers.ts';
import { makeTestImages, type TestImages } from '../images/fixtures.ts';
import { MIB, startAgentHarness, type AgentHarness } from './agent-harness.ts';

const DISK = 128 * MIB;
/** Seconds of silence after which fast track doubts the agent (the agents heart-beat every 0.3 s). */
const WINDOW = 3;

let on: AgentHarness;
let off: AgentHarness;
let img: TestImages;

beforeAll(async () => {
  img = await makeTestImages();
  on = await startAgentHarness('sqlite', 'fasttrack-on', { callbackTimeout: 10, configure: (c) => Object.assign(c.agent, { fastTrack: true, fastTrackTimeout: WINDOW }) });
  off = await startAgentHarness('sqlite', 'fasttrack-off', { callbackTimeout: 10, configure: (c) => Object.assign(c.agent, { fastTrack: false }) });
});

afterAll(async () => {
  await on?.close();
  await off?.close();
  await img?.cleanup();
});

/** The devices the machine booted from, in order. */
function bootsOf(machine: MemoryMachine): string[] {
  const boots: string[] = [];
  machine.on('boot', (device: string) => boots.push(device));
  return boots;
}

/** A new node, inspected in band; returns it with the log of its machine's boots. */
async function inspected(h: AgentHarness, name: string) {
  const node = await h.enroll(name, { inspect_interface: 'agent' }, { diskBytes: DISK });
  const boots = bootsOf(node.machine);
  await h.provision(node.uuid, 'manage');
  await untilState(h.t.db, node.id, 'manageable');
  await h.provision(node.uuid, 'inspect');
  expect((await untilState(h.t.db, node.id, 'manageable', 30_000)).last_error).toBeNull();
  return { ...node, boots };
}

/** Waits until the node's record shows a heart-beat of its running agent. */
async function heartBeating(h: AgentHarness, id: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await getNodeById(h.t.db.knex, id))?.driver_internal_info.agent_last_heartbeat) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the agent never heart-beat after inspection');
}

async function deploy(h: AgentHarness, uuid: string, id: number): Promise<void> {
  await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2' });
  await h.provision(uuid, 'active', { configdrive: { meta_data: { hostname: 'ft' } } });
  const node = await untilState(h.t.db, id, 'active', 60_000);
  expect(node.last_error).toBeNull();
}

describe('fast track on', () => {
  it('inspects, cleans and deploys on the one agent the inspection booted', async () => {
    const { id, uuid, machine, boots } = await inspected(on, 'ft-0');
    // Inspection leaves the machine on with its agent, which looks itself up in manageable and heart-beats.
    expect(await machine.powerState()).toBe('on');
    const agent = on.rack.agents.agentOf(machine);
    expect(agent).toBeDefined();
    // It looked itself up and heart-beat before posting its inventory: known the moment inspection ends.
    expect((await getNodeById(on.t.db.knex, id))!.driver_internal_info).toMatchObject({ agent_url: expect.any(String), agent_secret_token: expect.any(String), agent_boot_interface: 'fake' });

    await on.provision(uuid, 'provide');
    const available = await untilState(on.t.db, id, 'available', 30_000);
    expect(available.last_error).toBeNull();
    expect(await machine.powerState()).toBe('on');
    expect(on.rack.agents.agentOf(machine)).toBe(agent);
    expect(available.driver_internal_info.agent_secret_token).toEqual(expect.any(String));

    await deploy(on, uuid, id);
    // One network boot (the inspection's), then the boot into the instance.
    expect(boots).toEqual(['pxe', 'disk']);
    const events = await on.events(id);
    expect(events).toContain('Fast track: the running agent does the automated cleaning, with no reboot');
    expect(events.some((e) => /Agent finished clean step deploy\.erase_devices_metadata/.test(e))).toBe(true);
    expect(events).toContain('Fast track: the running agent deploys, with no reboot');
    expect(events.filter((e) => /Fast track not used/.test(e))).toEqual([]);
    const active = (await getNodeById(on.t.db.knex, id))!;
    expect(active.driver_internal_info.agent_secret_token).toBeUndefined();
  }, 90_000);

  it('boots the ramdisk again when the agent went silent longer than agent.fastTrackTimeout', async () => {
    const { id, uuid, machine, boots } = await inspected(on, 'ft-silent');
    await heartBeating(on, id);
    const failures = on.rack.agents.failuresOf(machine);
    failures.set('heartbeat', 'silent');
    await new Promise((r) => setTimeout(r, (WINDOW + 1) * 1000));
    failures.delete('heartbeat');
    await on.provision(uuid, 'provide');
    expect((await untilState(on.t.db, id, 'available', 30_000)).last_error).toBeNull();
    expect((await on.events(id)).find((e) => /Fast track not used/.test(e))).toMatch(/^Fast track not used: the agent has been silent for \d+ s \(agent\.fastTrackTimeout 3 s\); booting the agent ramdisk again$/);
    expect(boots).toEqual(['pxe', 'pxe']);
  }, 60_000);

  it('boots the ramdisk again when the running agent refuses the node\'s token', async () => {
    const { id, uuid, boots } = await inspected(on, 'ft-token');
    await heartBeating(on, id);
    const node = (await getNodeById(on.t.db.knex, id))!;
    await updateNode(on.t.db.knex, id, { driver_internal_info: { ...node.driver_internal_info, agent_secret_token: 'not-the-token-the-agent-holds' } });
    await on.provision(uuid, 'provide');
    expect((await untilState(on.t.db, id, 'available', 30_000)).last_error).toBeNull();
    expect((await on.events(id)).find((e) => /Fast track not used/.test(e))).toMatch(/^Fast track not used: the agent at http:\/\/127\.0\.0\.1:\d+ refuses the node's token; booting the agent ramdisk again$/);
    expect(boots).toEqual(['pxe', 'pxe']);
  }, 60_000);

  it('boots the ramdisk again when the agent was booted by another boot interface than the node\'s', async () => {
    const { id, uuid, boots } = await inspected(on, 'ft-boot');
    await heartBeating(on, id);
    // fake-hardware has one boot interface: the record of the agent's boot says it was another.
    const node = (await getNodeById(on.t.db.knex, id))!;
    expect(node.driver_internal_info.agent_boot_interface).toBe('fake');
    await updateNode(on.t.db.knex, id, { driver_internal_info: { ...node.driver_internal_info, agent_boot_interface: 'ipxe' } });
    await on.provision(uuid, 'provide');
    expect((await untilState(on.t.db, id, 'available', 30_000)).last_error).toBeNull();
    expect((await on.events(id)).find((e) => /Fast track not used/.test(e))).toBe('Fast track not used: the agent was booted by the ipxe boot interface, the node\'s is now fake; booting the agent ramdisk again');
    expect(boots).toEqual(['pxe', 'pxe']);
  }, 60_000);
});

describe('fast track off', () => {
  it('boots the ramdisk for each phase and powers the machine off after inspection and cleaning', async () => {
    const { id, uuid, machine, boots } = await inspected(off, 'nft-0');
    expect(await machine.powerState()).toBe('off');
    await off.provision(uuid, 'provide');
    const available = await untilState(off.t.db, id, 'available', 30_000);
    expect(available.last_error).toBeNull();
    expect(await machine.powerState()).toBe('off');
    expect(available.driver_internal_info.agent_secret_token).toBeUndefined();
    await deploy(off, uuid, id);
    expect(boots).toEqual(['pxe', 'pxe', 'pxe', 'disk']);
    expect((await off.events(id)).filter((e) => /Fast track/.test(e))).toEqual([]);
  }, 90_000);
});
