// enroll → active and back with the real API, a real conductor and simulated agents: the agent
// looks itself up, heart-beats, downloads a real qcow2 and writes it (and a config drive) to the
// file that is its machine's disk. Failures end in the right state with a clear last_error.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNodeById } from '../../../db/nodes.ts';
import { startImageServer, type ImageServer } from '../../../images/server.ts';
import { eventually, untilState } from '../conductor/helpers.ts';
import { makeTestImages, MIB, type TestImages } from '../images/fixtures.ts';
import { startAgentHarness, type AgentHarness } from './agent-harness.ts';

const DISK = 128 * MIB;
let h: AgentHarness;
let img: TestImages;
/** Serves the test images over HTTP, as an image store would. */
let images: ImageServer;

type Json = Record<string, any>;

/** Enrolls a node for a new machine (ports for its NICs but the first, found at inspection), with in-band inspection. */
function enroll(name: string, opts: { automatedClean?: boolean; nics?: 'all' | 'second' } = {}) {
  return h.enroll(name, { inspect_interface: 'agent', ...(opts.automatedClean === false ? { automated_clean: false } : {}) }, { diskBytes: DISK, nics: opts.nics });
}

beforeAll(async () => {
  img = await makeTestImages();
  images = await startImageServer({ root: img.dir });
  h = await startAgentHarness('sqlite', 'deploy', { callbackTimeout: 5 });
});

afterAll(async () => {
  await h?.close();
  await images?.close();
  await img?.cleanup();
});

describe('deploy through the simulated agent', () => {
  it('goes enroll → inspected → cleaned → active with a qcow2 and a config drive, then back to available', async () => {
    const { id, uuid, machine } = await enroll('worker-0', { nics: 'second' });
    await h.provision(uuid, 'manage');
    await untilState(h.t.db, id, 'manageable');

    // In-band inspection: the agent's inventory becomes properties, a new port (with LLDP), stored data.
    await h.provision(uuid, 'inspect');
    let node = await untilState(h.t.db, id, 'manageable', 30_000);
    expect(node.last_error).toBeNull();
    expect(node.properties).toMatchObject({ cpus: 8, cpu_arch: 'x86_64', memory_mb: 16384, local_gb: 0 });
    const inventory = await h.call('GET', `/v1/nodes/${uuid}/inventory`);
    expect(inventory.body.inventory.disks[0]).toMatchObject({ name: '/dev/sda', size: DISK });
    const ports = (await h.call('GET', `/v1/ports?node=${uuid}&detail=True`)).body.ports as Json[];
    expect(ports.map((p) => p.address).sort()).toEqual(machine.hardware.nics.map((n) => n.mac).sort());
    const first = ports.find((p) => p.address === machine.hardware.nics[0].mac)!;
    expect(first.local_link_connection).toEqual({ switch_id: '52:54:00:ff:00:01', port_id: expect.stringMatching(/^Ethernet\d+\/1$/), switch_info: 'sim-tor-1' });
    // The port enrolled before inspection gets the neighbour the agent saw on that NIC, too.
    const second = ports.find((p) => p.address === machine.hardware.nics[1].mac)!;
    expect(second.local_link_connection).toEqual({ switch_id: '52:54:00:ff:00:01', port_id: first.local_link_connection.port_id.replace(/1$/, '2'), switch_info: 'sim-tor-1' });

    // Automated cleaning through the agent (erase_devices_metadata by default).
    await h.provision(uuid, 'provide');
    node = await untilState(h.t.db, id, 'available', 30_000);
    expect(node.last_error).toBeNull();
    const events = (await h.t.db.knex('node_history').where({ node_id: id }).orderBy('id')).map((h: Json) => h.event as string);
    expect(events.some((e) => /Agent finished clean step deploy\.erase_devices_metadata/.test(e))).toBe(true);
    expect(events.some((e) => /erase_devices\b(?!_)/.test(e) && /Agent started/.test(e))).toBe(false);

    await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2' });
    await h.provision(uuid, 'active', { configdrive: { meta_data: { 'local-hostname': 'worker-0' }, user_data: '#cloud-config\nhostname: worker-0\n' } });
    node = await untilState(h.t.db, id, 'active', 60_000);
    expect(node.last_error).toBeNull();
    expect(node.power_state).toBe('power on');
    expect(node.driver_internal_info).toMatchObject({ fake_boot_device: 'disk', fake_boot_persistent: true });
    expect(node.driver_internal_info.agent_secret_token).toBeUndefined();
    expect(await machine.powerState()).toBe('on');
    expect(h.rack.agents.agentOf(machine)).toBeUndefined();

    // The disk holds the image (byte for byte past the MBR's partition table) and the config drive.
    const disk = h.rack.agents.diskPath(machine);
    const raw = (file: string) => `json:{"driver":"raw","offset":512,"size":${32 * MIB - 512},"file":{"driver":"file","filename":"${file}"}}`;
    const cmp = await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', raw(img.raw), raw(disk)], { reject: false });
    expect(cmp.stdout).toContain('Images are identical');
    const table = JSON.parse((await execa('sfdisk', ['-J', disk])).stdout).partitiontable;
    expect(table.partitions).toHaveLength(2);
    const iso = path.join(h.dir, 'cd.iso');
    await execa('dd', [`if=${disk}`, `of=${iso}`, 'bs=512', `skip=${table.partitions[1].start}`, `count=${table.partitions[1].size}`, 'status=none']);
    expect((await execa('isoinfo', ['-d', '-i', iso])).stdout).toMatch(/Volume id: config-2/);
    const meta = JSON.parse((await execa('isoinfo', ['-R', '-i', iso, '-x', '/openstack/latest/meta_data.json'])).stdout);
    expect(meta).toMatchObject({ uuid, name: 'worker-0', 'local-hostname': 'worker-0' });
    expect((await execa('isoinfo', ['-R', '-i', iso, '-x', '/openstack/latest/user_data'])).stdout).toBe('#cloud-config\nhostname: worker-0');

    // Undeploy: tear down, clean through the agent (disk metadata erased), available.
    await h.provision(uuid, 'deleted');
    node = await untilState(h.t.db, id, 'available', 30_000);
    expect(node.last_error).toBeNull();
    expect(node.instance_info).toEqual({});
    expect(node.power_state).toBe('power off');
    const fh = await open(disk, 'r');
    const head = Buffer.alloc(MIB);
    await fh.read(head, 0, MIB, 0);
    await fh.close();
    expect(head.every((b) => b === 0)).toBe(true);
  });

  it('fails the deploy on a wrong checksum, found by the agent while downloading over HTTP', async () => {
    const { id, uuid } = await h.availableNode('bad-sum');
    await h.setInstanceInfo(uuid, { image_source: `${images.url}/disk.qcow2`, image_checksum: 'c'.repeat(32) });
    await h.provision(uuid, 'active');
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/Error performing deploy_step write_image: Error downloading image: md5 checksum of image http:.*\/disk\.qcow2 is [0-9a-f]{32}, expected c{32}$/);
    expect(node.power_state).toBe('power off');
  });

  it('fails the deploy of a file:// image with a wrong checksum before the agent is asked', async () => {
    const { id, uuid } = await h.availableNode('bad-local-sum');
    await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha512', image_os_hash_value: 'd'.repeat(128) });
    await h.provision(uuid, 'active');
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/^Deploy failed: sha512 checksum of image file:.*disk\.qcow2 is [0-9a-f]{128}, expected d{128}$/);
  });

  it('fails the deploy on a corrupt image', async () => {
    const { id, uuid } = await h.availableNode('corrupt');
    await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.corrupt).href, image_disk_format: 'qcow2' });
    await h.provision(uuid, 'active');
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/Error performing deploy_step write_image: Image .*corrupt\.qcow2 refused: .* is corrupt \(qemu-img check exit 2\)/);
  });

  it('fails the deploy when the agent stops heart-beating', async () => {
    const { id, uuid, machine } = await h.availableNode('silent');
    h.rack.agents.failuresOf(machine).set('heartbeat', '');
    await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256 });
    await h.provision(uuid, 'active');
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toBe('Timeout reached in "wait call-back" after 5 s waiting for the deploy agent to call back (conductor.timeouts.deployCallback)');
  });

  it('aborts cleaning that waits for a silent agent: clean failed, machine off', async () => {
    const { id, uuid, machine } = await h.availableNode('abort-clean');
    await h.provision(uuid, 'manage');
    await untilState(h.t.db, id, 'manageable');
    h.rack.agents.failuresOf(machine).set('heartbeat', '');
    await h.provision(uuid, 'clean', { clean_steps: [{ interface: 'deploy', step: 'erase_devices_metadata' }] });
    await untilState(h.t.db, id, 'clean wait');
    expect(await machine.powerState()).toBe('on');
    await h.provision(uuid, 'abort');
    // The API fails the node at once; the conductor's abort task then stops the agent's boot.
    await eventually(async () => (await h.t.db.knex('node_tasks').where({ node_id: id, kind: 'abort', status: 'done' }).first()) ?? false, 15_000, 'the abort task');
    const node = await untilState(h.t.db, id, 'clean failed');
    expect(node.last_error).toMatch(/Aborted/i);
    expect(node.power_state).toBe('power off');
    expect(await machine.powerState()).toBe('off');
    expect(node.provision_request).toBeNull();
  });

  it('fails a manual clean step the agent cannot do, with maintenance set', async () => {
    const { id, uuid, machine } = await h.availableNode('bad-clean');
    await h.provision(uuid, 'manage');
    await untilState(h.t.db, id, 'manageable');
    h.rack.agents.failuresOf(machine).set('clean.erase_devices', 'Disk /dev/sda is write protected');
    await h.provision(uuid, 'clean', { clean_steps: [{ interface: 'deploy', step: 'erase_devices' }] });
    const node = await untilState(h.t.db, id, 'clean failed', 30_000);
    expect(node.last_error).toBe(`Cleaning failed: Agent returned error for clean step {"interface":"deploy","step":"erase_devices","priority":0} on node ${uuid} : Error performing clean_step erase_devices: Disk /dev/sda is write protected`);
    expect(node.maintenance).toBe(true);
    expect((await getNodeById(h.t.db.knex, id))!.fault).toBe('clean failure');
  });

  it('adds the steps of the deploy templates the instance traits name; the request\'s deploy_steps override theirs; an instance trait the node lacks fails the deploy', async () => {
    const { id, uuid } = await h.availableNode('templated');
    expect((await h.call('PATCH', `/v1/nodes/${uuid}`, [{ op: 'add', path: '/deploy_interface', value: 'custom-agent' }])).status).toBe(200);
    const imageInfo = {
      id: 'disk.qcow2', urls: [`${images.url}/disk.qcow2`], disk_format: 'qcow2', container_format: 'bare', stream_raw_images: true,
      node_uuid: uuid, os_hash_algo: 'sha256', os_hash_value: img.sha256,
    };
    const templates = [
      { name: 'CUSTOM_WRITE_IMAGE', steps: [{ interface: 'deploy', step: 'write_image', args: { image_info: imageInfo, configdrive: null }, priority: 80 }] },
      { name: 'CUSTOM_LATE_BOOT', steps: [{ interface: 'deploy', step: 'prepare_instance_boot', args: {}, priority: 50 }] },
      { name: 'CUSTOM_NOT_ASKED', steps: [{ interface: 'deploy', step: 'install_coreos', args: {}, priority: 90 }] },
    ];
    for (const t of templates) expect((await h.call('POST', '/v1/deploy_templates', t, '1.55')).status).toBe(201);
    for (const t of templates) expect((await h.call('PUT', `/v1/nodes/${uuid}/traits/${t.name}`, undefined, '1.55')).status).toBe(204);

    await h.setInstanceInfo(uuid, { traits: ['CUSTOM_WRITE_IMAGE', 'CUSTOM_MISSING'] });
    await h.provision(uuid, 'active');
    let node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toBe('Deploy failed: Cannot specify instance traits that are not also node traits: CUSTOM_MISSING');

    await h.setInstanceInfo(uuid, { traits: ['CUSTOM_WRITE_IMAGE', 'CUSTOM_LATE_BOOT'] });
    await h.provision(uuid, 'active', { deploy_steps: [{ interface: 'deploy', step: 'prepare_instance_boot', priority: 65 }] });
    node = await untilState(h.t.db, id, 'active', 60_000);
    expect(node.last_error).toBeNull();
    const events = await h.events(id);
    expect(events).toContain('Deploy templates matching the instance traits: CUSTOM_LATE_BOOT, CUSTOM_WRITE_IMAGE');
    expect(events).toContain('Deploy steps: write_image(80), prepare_instance_boot(65), tear_down_agent(40), switch_to_tenant_network(30), boot_instance(20)');
  });

  it('deploys through custom-agent: exactly the deploy steps the request names, then boots; a step the agent lacks fails the deploy', async () => {
    const { id, uuid, machine } = await h.availableNode('custom');
    // As Metal3 does: the deploy interface is set when provisioning starts.
    expect((await h.call('PATCH', `/v1/nodes/${uuid}`, [{ op: 'add', path: '/deploy_interface', value: 'custom-agent' }])).status).toBe(200);
    const imageInfo = {
      id: 'disk.qcow2', urls: [`${images.url}/disk.qcow2`], disk_format: 'qcow2', container_format: 'bare', stream_raw_images: true,
      node_uuid: uuid, os_hash_algo: 'sha256', os_hash_value: img.sha256,
    };
    await h.provision(uuid, 'active', { deploy_steps: [{ interface: 'deploy', step: 'write_image', args: { image_info: imageInfo, configdrive: null }, priority: 80 }] });
    let node = await untilState(h.t.db, id, 'active', 60_000);
    expect(node.last_error).toBeNull();
    expect(node.power_state).toBe('power on');
    const events = (await h.t.db.knex('node_history').where({ node_id: id }).orderBy('id')).map((h: Json) => h.event as string);
    expect(events).toContain('Deploy steps: write_image(80), prepare_instance_boot(60), tear_down_agent(40), switch_to_tenant_network(30), boot_instance(20)');
    const disk = h.rack.agents.diskPath(machine);
    const raw = (file: string) => `json:{"driver":"raw","offset":512,"size":${32 * MIB - 512},"file":{"driver":"file","filename":"${file}"}}`;
    expect((await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', raw(img.raw), raw(disk)], { reject: false })).stdout).toContain('Images are identical');

    await h.provision(uuid, 'deleted');
    await untilState(h.t.db, id, 'available', 30_000);
    expect((await h.call('PATCH', `/v1/nodes/${uuid}`, [{ op: 'add', path: '/deploy_interface', value: 'custom-agent' }])).status).toBe(200);
    await h.provision(uuid, 'active', { deploy_steps: [{ interface: 'deploy', step: 'install_flatcar', args: {}, priority: 80 }] });
    node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/Deploy step deploy\.install_flatcar is not supported by node .* \(its agent offers write_image, install_coreos\)/);
  });
});
