// Servicing an active node with agent steps (issue 12 item 4), on SQLite and PostgreSQL: the node
// boots the agent ramdisk, waits in `service wait` while the agent runs the step (the documented
// example plugin's checksum_root_disk), then goes back to `active` booting its disk, the workload's
// disk untouched. A failing step ends in `service failed` naming the step; abort from `service wait`
// ends servicing with the instance booted again; abort from `service failed` returns to `active`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PLUGIN_DIR } from '../../../deploy-agent/plugins.ts';
import type { MemoryMachine } from '../../../simulators/machine.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { eventually, untilState } from '../conductor/helpers.ts';
import { makeTestImages, type TestImages } from '../images/fixtures.ts';
import { startAgentHarness, type AgentHarness } from './agent-harness.ts';

const EXAMPLE_PLUGINS = path.resolve(import.meta.dirname, '../../../docs/examples/agent-plugins');
const CHECKSUM = { interface: 'deploy', step: 'checksum_root_disk', args: { algorithm: 'sha512' } };

describe.each(BACKENDS)('servicing with agent steps on %s', (backend) => {
  let h: AgentHarness;
  let img: TestImages;

  beforeAll(async () => {
    h = await startAgentHarness(backend, 'service', { pluginDirs: [BUILTIN_PLUGIN_DIR, EXAMPLE_PLUGINS] });
    img = await makeTestImages();
  });
  afterAll(async () => {
    await h?.close();
    await img?.cleanup();
  });

  /** An active node (direct deploy of a qcow2), and the sha512 of its disk. */
  async function activeNode(name: string) {
    const n = await h.availableNode(name);
    await h.setInstanceInfo(n.uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2' });
    await h.provision(n.uuid, 'active');
    expect((await untilState(h.t.db, n.id, 'active', 60_000)).last_error).toBeNull();
    return { ...n, disk: h.rack.agents.diskPath(n.machine), digest: await diskDigest(n.machine) };
  }

  async function diskDigest(machine: MemoryMachine): Promise<string> {
    return createHash('sha512').update(await readFile(h.rack.agents.diskPath(machine))).digest('hex');
  }

  /** The node booted its disk again: powered on, boot device disk, no agent left, no ramdisk progress kept. */
  async function backOnItsDisk(id: number, machine: MemoryMachine) {
    const node = (await h.t.db.knex('nodes').where({ id }).first())!;
    const info = typeof node.driver_internal_info === 'string' ? JSON.parse(node.driver_internal_info) : node.driver_internal_info;
    expect(info).toMatchObject({ fake_boot_device: 'disk', fake_boot_persistent: true });
    for (const key of ['agent_secret_token', 'agent_url', 'service_ramdisk', 'service_steps', 'service_step_index']) expect(info, key).not.toHaveProperty(key);
    expect(await machine.powerState()).toBe('on');
    await h.rack.agents.settle();
    expect(h.rack.agents.agentOf(machine)).toBeUndefined();
  }

  it('boots the ramdisk, waits in service wait while the agent runs the step, then boots the disk again: active, disk untouched', async () => {
    const { id, uuid, machine, digest } = await activeNode(`svc-ok-${backend}`);
    await h.provision(uuid, 'service', { service_steps: [CHECKSUM] });
    const waiting = await untilState(h.t.db, id, 'service wait', 30_000);
    expect(waiting.target_provision_state).toBe('active');
    const node = await untilState(h.t.db, id, 'active', 60_000);
    expect(node.last_error).toBeNull();
    expect(node.service_step).toBeNull();
    const events = await h.events(id);
    const from = events.lastIndexOf('Booting the agent ramdisk for servicing');
    expect(from).toBeGreaterThan(0);
    expect(events.slice(from)).toEqual(expect.arrayContaining([
      'Service steps: checksum_root_disk(0)',
      'Agent started service step deploy.checksum_root_disk',
      'Agent finished service step deploy.checksum_root_disk',
      'Servicing ramdisk torn down; the instance boots from its disk again',
    ]));
    await backOnItsDisk(id, machine);
    expect(await diskDigest(machine)).toBe(digest);
  });

  it('runs a runbook of agent steps the same way', async () => {
    const { id, uuid, machine, digest } = await activeNode(`svc-rb-${backend}`);
    const runbook = await h.call('POST', '/v1/runbooks', { name: `CUSTOM_CHECKSUM_${backend.toUpperCase()}`, steps: [{ ...CHECKSUM, order: 0 }] });
    expect(runbook.status, JSON.stringify(runbook.body)).toBe(201);
    expect((await h.call('PUT', `/v1/nodes/${uuid}/traits/CUSTOM_CHECKSUM_${backend.toUpperCase()}`)).status).toBe(204);
    await h.provision(uuid, 'service', { runbook: `CUSTOM_CHECKSUM_${backend.toUpperCase()}` });
    expect((await untilState(h.t.db, id, 'active', 60_000)).last_error).toBeNull();
    expect(await h.events(id)).toContain('Agent finished service step deploy.checksum_root_disk');
    await backOnItsDisk(id, machine);
    expect(await diskDigest(machine)).toBe(digest);
  });

  it('fails on a step the agent refuses (service failed, naming the step); abort returns to active booting the disk', async () => {
    const { id, uuid, machine, digest } = await activeNode(`svc-fail-${backend}`);
    h.rack.agents.failuresOf(machine).set('service.checksum_root_disk', 'Disk /dev/sda cannot be read');
    await h.provision(uuid, 'service', { service_steps: [CHECKSUM] });
    let node = await untilState(h.t.db, id, 'service failed', 60_000);
    expect(node.last_error).toBe(`Servicing failed: Agent returned error for service step {"interface":"deploy","step":"checksum_root_disk","priority":0} on node ${uuid} : Error performing service_step checksum_root_disk: Disk /dev/sda cannot be read`);
    h.rack.agents.failuresOf(machine).clear();
    await h.provision(uuid, 'abort');
    node = await untilState(h.t.db, id, 'active');
    await eventually(async () => (await h.t.db.knex('node_tasks').where({ node_id: id, kind: 'abort', status: 'done' }).first()) ?? false, 15_000, 'the abort task');
    await backOnItsDisk(id, machine);
    expect(await diskDigest(machine)).toBe(digest);

    // A step no agent offers fails the same way, once the agent has said what it offers.
    await h.provision(uuid, 'service', { service_steps: [{ interface: 'deploy', step: 'burnin_cpu' }] });
    node = await untilState(h.t.db, id, 'service failed', 60_000);
    expect(node.last_error).toBe(`Servicing failed: Service step deploy.burnin_cpu is not supported by node ${uuid} (its agent offers deploy.checksum_root_disk)`);
  });

  it('aborts from service wait: service failed, the ramdisk gone, the instance booted again; then abort to active', async () => {
    const { id, uuid, machine, digest } = await activeNode(`svc-abort-${backend}`);
    // An agent that never heart-beats: the node stays in service wait.
    h.rack.agents.failuresOf(machine).set('heartbeat', '');
    await h.provision(uuid, 'service', { service_steps: [CHECKSUM] });
    await untilState(h.t.db, id, 'service wait', 30_000);
    await eventually(async () => h.rack.agents.agentOf(machine) !== undefined, 15_000, 'the ramdisk agent');
    await h.provision(uuid, 'abort');
    let node = await untilState(h.t.db, id, 'service failed');
    expect(node.last_error).toBe('Aborted by user in state "service wait"');
    await eventually(async () => (await h.t.db.knex('node_tasks').where({ node_id: id, kind: 'abort', status: 'done' }).first()) ?? false, 15_000, 'the abort task');
    h.rack.agents.failuresOf(machine).clear();
    await backOnItsDisk(id, machine);
    expect(await h.events(id)).toContain('Aborted servicing in "service wait"');
    await h.provision(uuid, 'abort');
    node = await untilState(h.t.db, id, 'active');
    expect(node.power_state).toBe('power on');
    expect(await diskDigest(machine)).toBe(digest);
  });
});
