// The agent (deploy-agent/) run by the simulator with a simulated machine, against a stand-in for
// Ironic's ramdisk endpoints, driven through the conductor's AgentClient as the conductor does.
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { AgentClient, AgentBusy, type AgentCommandResult } from '../../../drivers/in-band/client.ts';
import { buildConfigDriveIso, encodeConfigDrive } from '../../../images/configdrive.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { AgentSimulator } from '../../../simulators/ramdisk-agents/index.ts';
import { hashFile, makeTestImages, MIB, type TestImages } from '../images/fixtures.ts';
import { gunzipSync } from 'node:zlib';
import { startFakeIronic, type FakeIronic } from './fake-ironic.ts';

let img: TestImages;
let ironic: FakeIronic;
let dir: string;
let sim: AgentSimulator;
let seq = 0;
const EXAMPLE_PLUGINS = path.resolve(import.meta.dirname, '../../../docs/examples/agent-plugins');

beforeAll(async () => {
  img = await makeTestImages();
  ironic = await startFakeIronic();
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-agent-'));
  // A long interval: any second heartbeat comes from a finished async command.
  sim = new AgentSimulator({ apiUrl: ironic.url, diskDir: dir, logger: silentLogger, heartbeatIntervalMs: 600_000, lookupRetryMs: 20 });
});
afterAll(async () => {
  await sim.close();
  await ironic.close();
  await img.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A machine whose agent has looked up and heart-beaten once; returns a client as the conductor has it. */
async function bootMachine(opts: { diskBytes?: number; agents?: AgentSimulator } = {}) {
  const index = ++seq;
  const machine = new MemoryMachine(`m${index}`, `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, `machine-${index}`, sampleHardware(index, { diskBytes: opts.diskBytes ?? 128 * MIB }));
  ironic.nodes.set(machine.hardware.nics[1].mac, machine.uuid);
  (opts.agents ?? sim).attach(machine);
  const before = ironic.heartbeats.length;
  machine.setBootOverride({ device: 'pxe', persistent: false });
  await machine.power('on');
  // The previous test's agent may still heart-beat for a command it finished: wait for this machine's own.
  const hb = await ironic.heartbeatOf(machine.uuid, before);
  return { machine, hb, client: new AgentClient(String(hb.callback_url), ironic.token, { timeoutMs: 60_000 }), heartbeatsSoFar: ironic.heartbeats.indexOf(hb) + 1 };
}

async function poll(client: AgentClient, name: string): Promise<AgentCommandResult> {
  for (;;) {
    const last = await client.lastCommand(name);
    if (last && last.command_status !== 'RUNNING') return last;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Fills a disk file with non-zero bytes. */
async function fillDisk(disk: string): Promise<void> {
  const size = (await stat(disk)).size;
  await writeFile(disk, Buffer.alloc(size, 0x5a));
}

function writeImageStep(imageInfo: Record<string, unknown>, configdrive?: string) {
  return { step: { interface: 'deploy', step: 'write_image', priority: 80, args: { image_info: imageInfo, configdrive } }, node: {}, ports: [], deploy_version: {} };
}

describe('simulated agent', () => {
  it('looks its node up by MAC and heart-beats with callback URL, token and version', async () => {
    const { machine, hb } = await bootMachine();
    const lookup = ironic.lookups.at(-1)!;
    expect(lookup.addresses).toEqual(machine.hardware.nics.map((n) => n.mac));
    expect(lookup.version).toBe('1.62');
    expect(hb).toMatchObject({ node: machine.uuid, agent_token: ironic.token, version: '1.68' });
    expect(String(hb.callback_url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = await (await fetch(`${hb.callback_url}/v1/status`)).json();
    expect(status.version).toMatch(/anvil/);
  });

  it('checks the token, refuses unknown commands and malformed bodies', async () => {
    const { hb } = await bootMachine();
    const url = String(hb.callback_url);
    expect((await fetch(`${url}/v1/commands/`)).status).toBe(401);
    expect((await fetch(`${url}/v1/commands/?agent_token=wrong`)).status).toBe(401);
    const post = (body: string) => fetch(`${url}/v1/commands/?agent_token=${ironic.token}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    let res = await post('{"name": "nosuch.thing", "params": {}}');
    expect(res.status).toBe(404);
    expect((await res.json()).faultstring).toBe('Extension nosuch not found');
    res = await post('{"name": "standby"}');
    expect(res.status).toBe(400);
    res = await post('{not json');
    expect(res.status).toBe(400);
    expect((await res.json()).faultstring).toMatch(/^Malformed JSON body/);
    res = await post('{"name": "standby.sync", "params": [1]}');
    expect(res.status).toBe(400);
  });

  it('lists its deploy and clean steps synchronously, shaped as IPA', async () => {
    const { client } = await bootMachine();
    const deploy = await client.execute('deploy.get_deploy_steps', { node: {}, ports: [] }, { wait: true });
    expect(deploy).toMatchObject({ command_name: 'get_deploy_steps', command_status: 'SUCCEEDED', command_error: null });
    expect((deploy.command_result as { deploy_steps: Record<string, unknown[]> }).deploy_steps.GenericHardwareManager).toEqual([
      expect.objectContaining({ step: 'write_image', priority: 0, interface: 'deploy', reboot_requested: false }),
    ]);
    const clean = await client.execute('clean.get_clean_steps', { node: {}, ports: [] });
    expect((clean.command_result as { clean_steps: Record<string, { step: string; priority: number }[]> }).clean_steps.GenericHardwareManager.map((s) => [s.step, s.priority]))
      .toEqual([['erase_devices_metadata', 99], ['erase_devices', 10]]);
  });

  it('offers and runs the steps of its plugin folder (the documented example) beside its own: clean and service', async () => {
    const agents = new AgentSimulator({ apiUrl: ironic.url, diskDir: dir, logger: silentLogger, heartbeatIntervalMs: 600_000, lookupRetryMs: 20, pluginDirs: [EXAMPLE_PLUGINS] });
    try {
      const { machine, client } = await bootMachine({ diskBytes: 8 * MIB, agents });
      const disk = agents.diskPath(machine);
      await writeFile(disk, Buffer.alloc(8 * MIB, 0x33));
      const listed = await client.execute('service.get_service_steps', { node: {}, ports: [] });
      expect(listed.command_result).toEqual({
        service_steps: { DiskChecksumHardwareManager: [{ step: 'checksum_root_disk', priority: 0, interface: 'deploy', reboot_requested: false, abortable: false, argsinfo: { algorithm: { description: 'sha256 (the default) or sha512', required: false } } }] },
        hardware_manager_version: { generic_hardware_manager: '1.2', DiskChecksumHardwareManager: '1.0' },
      });
      const clean = (await client.execute('clean.get_clean_steps', { node: {}, ports: [] })).command_result as { clean_steps: Record<string, { step: string }[]> };
      expect(Object.fromEntries(Object.entries(clean.clean_steps).map(([m, steps]) => [m, steps.map((s) => s.step)]))).toEqual({
        GenericHardwareManager: ['erase_devices_metadata', 'erase_devices'], DiskChecksumHardwareManager: ['checksum_root_disk'],
      });
      // Only the folders given: the built-in install_coreos is not there.
      expect(((await client.execute('deploy.get_deploy_steps', {})).command_result as { deploy_steps: Record<string, unknown> }).deploy_steps).not.toHaveProperty('CoreOSInstallHardwareManager');

      const sha512 = createHash('sha512').update(await readFile(disk)).digest('hex');
      await client.execute('service.execute_service_step', { step: { interface: 'deploy', step: 'checksum_root_disk', args: { algorithm: 'sha512' } }, node: { uuid: machine.uuid }, ports: [], service_version: {} });
      expect((await poll(client, 'execute_service_step')).command_result).toEqual({
        service_result: { disk: '/dev/sda', bytes: 8 * MIB, algorithm: 'sha512', digest: sha512 },
        service_step: { interface: 'deploy', step: 'checksum_root_disk', args: { algorithm: 'sha512' } },
      });
      await client.execute('clean.execute_clean_step', { step: { interface: 'deploy', step: 'checksum_root_disk', args: { algorithm: 'md5' } }, node: {}, ports: [], clean_version: {} });
      expect((await poll(client, 'execute_clean_step'))).toMatchObject({ command_status: 'FAILED', command_error: { message: 'checksum_root_disk: algorithm must be sha256 or sha512, not md5' } });
      await client.execute('service.execute_service_step', { step: { interface: 'deploy', step: 'erase_devices', args: {} }, node: {}, ports: [] });
      expect((await poll(client, 'execute_service_step')).command_error?.message).toBe('Unknown service step erase_devices');
      const logs = (await client.execute('log.collect_system_logs', {})).command_result as { system_logs: string };
      expect(gunzipSync(Buffer.from(logs.system_logs, 'base64')).toString()).toContain(`plugin DiskChecksumHardwareManager 1.0 (${path.join(EXAMPLE_PLUGINS, 'disk-checksum.mjs')}): clean.checksum_root_disk, service.checksum_root_disk`);
    } finally {
      await agents.close();
    }
  });

  it('writes a qcow2 image and a config drive partition; one command at a time; heart-beats when done', async () => {
    const { machine, client, heartbeatsSoFar } = await bootMachine();
    const iso = await buildConfigDriveIso({ meta_data: { uuid: machine.uuid }, user_data: '#cloud-config\n' });
    const started = await client.execute('deploy.execute_deploy_step', writeImageStep(
      { id: 'disk.qcow2', urls: [pathToFileURL(img.qcow2).href], disk_format: 'qcow2', os_hash_algo: 'sha256', os_hash_value: img.sha256 },
      encodeConfigDrive(iso),
    ));
    expect(started.command_status).toBe('RUNNING');
    await expect(client.execute('standby.sync', {})).rejects.toBeInstanceOf(AgentBusy);
    const done = await poll(client, 'execute_deploy_step');
    expect(done.command_error).toBeNull();
    expect(done).toMatchObject({ command_status: 'SUCCEEDED', command_result: { deploy_step: { step: 'write_image' } } });
    // The agent heart-beats as soon as the async command ends (the interval is 10 minutes).
    await ironic.heartbeatOf(machine.uuid, heartbeatsSoFar);

    const disk = sim.diskPath(machine);
    // Byte for byte past the MBR (whose partition table gained the config drive entry).
    const cmp = await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'raw',
      `json:{"driver":"raw","offset":512,"size":${32 * MIB - 512},"file":{"driver":"file","filename":"${img.raw}"}}`,
      `json:{"driver":"raw","offset":512,"size":${32 * MIB - 512},"file":{"driver":"file","filename":"${disk}"}}`], { reject: false });
    expect(cmp.stdout).toContain('Images are identical');
    const table = JSON.parse((await execa('sfdisk', ['-J', disk])).stdout).partitiontable;
    expect(table.partitions).toHaveLength(2);
    const cd = table.partitions[1];
    expect(cd.start + cd.size).toBeLessThanOrEqual(128 * MIB / 512);
    expect(cd.size * 512).toBe(64 * MIB);
    const fh = await open(disk, 'r');
    const out = Buffer.alloc(iso.length);
    await fh.read(out, 0, iso.length, cd.start * 512);
    await fh.close();
    expect(out.equals(iso)).toBe(true);
    const isoFile = path.join(dir, 'readback.iso');
    await writeFile(isoFile, out);
    expect((await execa('isoinfo', ['-d', '-i', isoFile])).stdout).toMatch(/Volume id: config-2/);
    expect(JSON.parse((await execa('isoinfo', ['-R', '-i', isoFile, '-x', '/openstack/latest/meta_data.json'])).stdout).uuid).toBe(machine.uuid);

    const uuids = await client.execute('standby.get_partition_uuids', {});
    expect((uuids.command_result as Record<string, unknown>)['root uuid']).toBe(table.id.toLowerCase());
  });

  it('adds the config drive to a GPT image as a partition named config-2, the backup GPT moved to the disk end', async () => {
    const { machine, client } = await bootMachine({ diskBytes: 160 * MIB });
    const raw = path.join(dir, 'gpt.raw');
    await execa('truncate', ['-s', '48M', raw]);
    await execa('sfdisk', ['-q', raw], { input: 'label: gpt\nsize=8M, type=uefi\nsize=20M, type=linux\n' });
    const qcow2 = path.join(dir, 'gpt.qcow2');
    await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
    const iso = await buildConfigDriveIso({ meta_data: { uuid: machine.uuid } });
    await client.execute('deploy.execute_deploy_step', writeImageStep({ urls: [pathToFileURL(qcow2).href], disk_format: 'qcow2' }, encodeConfigDrive(iso)));
    expect((await poll(client, 'execute_deploy_step')).command_error).toBeNull();
    const disk = sim.diskPath(machine);
    const table = JSON.parse((await execa('sfdisk', ['-J', disk])).stdout).partitiontable;
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p: { name?: string }) => p.name ?? null)).toEqual([null, null, 'config-2']);
    expect(table.lastlba).toBe(160 * MIB / 512 - 34);
    const verify = await execa('sfdisk', ['--verify', disk], { reject: false });
    expect(verify.stdout).toContain('No errors detected');
    const uuids = (await client.execute('standby.get_partition_uuids', {})).command_result as Record<string, unknown>;
    expect(uuids['efi system partition uuid']).toBe(table.partitions[0].uuid.toLowerCase());
  });

  it('streams a raw image onto the disk while downloading, the checksum in the same pass; refuses a qcow2 declared raw before writing', async () => {
    const rawSha256 = await hashFile(img.raw, 'sha256');
    const { machine, client } = await bootMachine({ diskBytes: 64 * MIB });
    const disk = sim.diskPath(machine);
    await fillDisk(disk);
    await client.execute('deploy.execute_deploy_step', writeImageStep({ id: 'disk.raw', urls: [pathToFileURL(img.raw).href], disk_format: 'raw', stream_raw_images: true, os_hash_algo: 'sha256', os_hash_value: rawSha256 }));
    let r = await poll(client, 'execute_deploy_step');
    expect(r.command_error).toBeNull();
    const cmp = await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', img.raw,
      `json:{"driver":"raw","offset":0,"size":${32 * MIB},"file":{"driver":"file","filename":"${disk}"}}`], { reject: false });
    expect(cmp.stdout).toContain('Images are identical');
    // Written in place: the disk keeps its size, and what lies past the image is untouched.
    expect((await stat(disk)).size).toBe(64 * MIB);
    const tail = Buffer.alloc(16);
    const fh = await open(disk, 'r');
    await fh.read(tail, 0, 16, 32 * MIB);
    await fh.close();
    expect(tail.equals(Buffer.alloc(16, 0x5a))).toBe(true);

    await fillDisk(disk);
    await client.execute('deploy.execute_deploy_step', writeImageStep({ urls: [pathToFileURL(img.qcow2).href], disk_format: 'raw', stream_raw_images: true }));
    r = await poll(client, 'execute_deploy_step');
    expect(r.command_error).toMatchObject({ type: 'InvalidImage' });
    expect(r.command_error!.message).toMatch(/^Error streaming image to device .*: Image file:.*disk\.qcow2 was declared raw but is qcow2$/);
    const head = Buffer.alloc(512);
    const fh2 = await open(disk, 'r');
    await fh2.read(head, 0, 512, 0);
    await fh2.close();
    expect(head.equals(Buffer.alloc(512, 0x5a))).toBe(true);

    await client.execute('deploy.execute_deploy_step', writeImageStep({ urls: [pathToFileURL(img.raw).href], disk_format: 'raw', stream_raw_images: true, os_hash_algo: 'sha256', os_hash_value: 'c'.repeat(64) }));
    r = await poll(client, 'execute_deploy_step');
    expect(r.command_error).toMatchObject({ type: 'ImageChecksumError' });
    expect(r.command_error!.message).toMatch(/sha256 checksum of image file:.*disk\.raw is [0-9a-f]{64}, expected c{64}$/);
  });

  it('fails write_image on a wrong checksum, a corrupt image and an image bigger than the disk', async () => {
    const { client } = await bootMachine({ diskBytes: 64 * MIB });
    await client.execute('deploy.execute_deploy_step', writeImageStep({ urls: [pathToFileURL(img.qcow2).href], os_hash_algo: 'sha256', os_hash_value: 'b'.repeat(64) }));
    let r = await poll(client, 'execute_deploy_step');
    expect(r.command_status).toBe('FAILED');
    expect(r.command_error).toMatchObject({ type: 'ImageChecksumError' });
    expect(r.command_error!.message).toMatch(/^Error downloading image: sha256 checksum of image file:.*disk\.qcow2 is [0-9a-f]{64}, expected b{64}$/);

    await client.execute('deploy.execute_deploy_step', writeImageStep({ urls: [pathToFileURL(img.corrupt).href] }));
    r = await poll(client, 'execute_deploy_step');
    expect(r.command_status).toBe('FAILED');
    expect(r.command_error!.message).toMatch(/^Image file:.*corrupt\.qcow2 refused: Image .* is corrupt \(qemu-img check exit 2\): 2 errors were found on the image/);

    const big = path.join(dir, 'big.qcow2');
    await execa('qemu-img', ['create', '-f', 'qcow2', big, '100M']);
    await client.execute('deploy.execute_deploy_step', writeImageStep({ urls: [pathToFileURL(big).href] }));
    r = await poll(client, 'execute_deploy_step');
    expect(r.command_error!.message).toMatch(/Image virtual size 104857600 bytes does not fit on the disk of 67108864 bytes/);
  });

  it('runs clean steps, fails one when told to, and powers its machine off', async () => {
    const { machine, client } = await bootMachine({ diskBytes: 16 * MIB });
    const disk = sim.diskPath(machine);
    const fh = await open(disk, 'r+');
    await fh.write(Buffer.alloc(MIB, 0xab), 0, MIB, 0);
    await fh.close();
    await client.execute('clean.execute_clean_step', { step: { interface: 'deploy', step: 'erase_devices_metadata', args: {} }, node: {}, ports: [], clean_version: {} });
    expect((await poll(client, 'execute_clean_step')).command_status).toBe('SUCCEEDED');
    expect((await readFile(disk)).subarray(0, MIB).every((b) => b === 0)).toBe(true);

    await fillDisk(disk);
    await client.execute('clean.execute_clean_step', { step: { interface: 'deploy', step: 'erase_devices', args: {} }, node: {}, ports: [], clean_version: {} });
    expect((await poll(client, 'execute_clean_step')).command_result).toEqual({ clean_result: { '/dev/sda': 'erased with zeros' }, clean_step: expect.objectContaining({ step: 'erase_devices' }) });
    expect((await readFile(disk)).every((b) => b === 0)).toBe(true);

    sim.failuresOf(machine).set('clean.erase_devices', 'Disk /dev/sda refused to erase');
    await client.execute('clean.execute_clean_step', { step: { interface: 'deploy', step: 'erase_devices', args: {} }, node: {}, ports: [], clean_version: {} });
    const failed = await poll(client, 'execute_clean_step');
    expect(failed).toMatchObject({ command_status: 'FAILED', command_error: { type: 'InjectedFailure', message: 'Disk /dev/sda refused to erase' } });

    await client.execute('standby.power_off', {});
    await new Promise<void>((resolve) => machine.once('power', () => resolve()));
    expect(await machine.powerState()).toBe('off');
    await sim.settle();
    expect(sim.agentOf(machine)).toBeUndefined();
  });

  it('posts its inventory (with LLDP) when booted for inspection', async () => {
    const index = ++seq;
    const machine = new MemoryMachine(`m${index}`, `10000000-0000-4000-8000-${String(index).padStart(12, '0')}`, `machine-${index}`, sampleHardware(index, { diskBytes: 64 * MIB }));
    const inspector = new AgentSimulator({ apiUrl: ironic.url, diskDir: dir, logger: silentLogger, heartbeatIntervalMs: 600_000, lookupRetryMs: 20, ramdiskParams: () => ({ inspectionCallbackUrl: `${ironic.url}/v1/continue_inspection` }) });
    inspector.attach(machine);
    const before = ironic.inspections.length;
    machine.setBootOverride({ device: 'pxe' });
    await machine.power('on');
    const data = (await ironic.inspection(before + 1)) as { inventory: Record<string, any>; root_disk: { name: string }; boot_interface: string };
    expect(data.inventory.cpu).toEqual({ model_name: 'Simulated CPU @ 2.40GHz', frequency: '2400.000', count: 8, architecture: 'x86_64', flags: expect.any(Array) });
    expect(data.inventory.memory).toEqual({ total: 16384 * MIB, physical_mb: 16384 });
    expect(data.inventory.disks[0]).toMatchObject({ name: '/dev/sda', size: 64 * MIB, rotational: false });
    expect(data.inventory.interfaces.map((i: { mac_address: string }) => i.mac_address)).toEqual(machine.hardware.nics.map((n) => n.mac));
    expect(data.inventory.interfaces[0].lldp[0]).toEqual([1, '04525400ff0001']);
    expect(data.inventory.system_vendor).toMatchObject({ manufacturer: 'Anvil Simulated Systems', product_name: 'SIM-1U' });
    expect(data.root_disk.name).toBe('/dev/sda');
    expect(data.boot_interface).toBe(`01-${machine.hardware.nics[0].mac.replace(/:/g, '-')}`);
    await inspector.close();
  });
});
