// A real deploy, end to end: a QEMU virtual machine (TCG) behind the simulated Redfish BMC boots
// from the network through ISC dhcrelay, runs Anvil's agent ramdisk, is inspected, cleaned and
// deployed with a qcow2 image and a config drive, and is cleaned again when undeployed. The disk is
// then checked on the host with qemu-img. Second case, the same machine: deployed as OpenShift
// deploys (custom-agent with install_coreos) with a CoreOS-layout image and an Ignition config,
// read back with debugfs. Prints the time of each phase. ANVIL_E2E_POWER=ovirt puts the machine
// behind the simulated oVirt Engine instead, as its VM, enrolled with the ovirt driver.
//
//   prov (172.31.0.1: anvil all-in-one, netboot role included) ─p0──l0─ leaf (router, dhcrelay, radvd)
//   leaf tap0 172.31.3.1/24 ── the QEMU machine (iPXE ROM, virtio NIC, 5 GiB qcow2 disk)
//
// The test process (host namespace) runs the Redfish simulator and the QEMU machine object; it
// reaches the API, and the conductor reaches the BMC, through unix-socket bridges, so no address
// is added outside the test's own namespaces.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios, { type AxiosInstance } from 'axios';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRamdisk } from '../../ramdisk/build.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../simulators/redfish-bmc/index.ts';
import { startEngineSimulator, type EngineSimulator } from '../../simulators/ovirt-engine/index.ts';
import { QemuMachine } from '../../simulators/qemu/machine.ts';
import { canUseNetns, createNamespaces, type Namespaces } from '../integration/netboot/netns.ts';
import { startBridge } from './support/bridge.ts';
import { debugfsCat, debugfsMode, makeCoreosImage, type CoreosImage } from '../helpers/coreos-image.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const ANVIL = join(ROOT, 'bin', 'anvil.js');
const BRIDGE = join(ROOT, 'test', 'e2e', 'support', 'bridge.ts');
const SERVER = '172.31.0.1';
const MAC = '52:54:00:e2:e0:01';
const VM_CPUS = 2;
const VM_MEMORY_MB = 1024;
const DISK_BYTES = 5 * 1024 ** 3;
const IMAGE_BYTES = 64 * 1024 ** 2;
const BMC_PASSWORD = 'e2e-bmc-secret';
const MIB = 1024 * 1024;

let dir: string;
let ns: Namespaces;
let redfish: RedfishSimulator | undefined;
let engine: EngineSimulator | undefined;
const POWER = process.env.ANVIL_E2E_POWER === 'ovirt' ? 'ovirt' : 'redfish';
let machine: QemuMachine;
let bmcBridge: Server;
let api: AxiosInstance;
let nodeUuid: string;
let imageSha256: string;
let coreos: CoreosImage;
const output: Record<string, string> = {};
let configDriveStart = 0;
const phases: [string, number][] = [];

async function timed<T>(phase: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    phases.push([phase, (Date.now() - started) / 1000]);
    console.log(`e2e phase ${phase}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Starts a long-running process in a namespace and waits for `ready` in its output. */
async function startIn(role: string, name: string, cmd: string[], ready: string): Promise<void> {
  const child = ns.spawn(role, cmd);
  output[name] = '';
  child.all!.on('data', (chunk: Buffer) => { output[name] += chunk.toString(); });
  const deadline = Date.now() + 30_000;
  while (!output[name].includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start:\n${output[name].slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The end of the machine's serial console and of Anvil's log, for failure messages. */
async function diagnostics(): Promise<string> {
  const console_ = (await readFile(machine.consoleLog, 'latin1').catch(() => '')).slice(-3000);
  return `--- serial console ---\n${console_}\n--- anvil ---\n${(output.anvil ?? '').slice(-4000)}`;
}

/** Waits for the node to reach `state`; a failure state ends the wait with the node's last_error. */
async function waitForState(state: string, limitSec: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + limitSec * 1000;
  for (;;) {
    const node = (await api.get(`/v1/nodes/${nodeUuid}`)).data as Record<string, unknown>;
    if (node.provision_state === state && !node.target_provision_state) return node;
    if (/failed$|^error$|^enroll$/.test(String(node.provision_state)) && state !== node.provision_state) {
      throw new Error(`node went to ${node.provision_state}: ${node.last_error}\n${await diagnostics()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`node still ${node.provision_state} (target ${node.target_provision_state}) after ${limitSec} s; last_error ${node.last_error}\n${await diagnostics()}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function provision(target: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await api.put(`/v1/nodes/${nodeUuid}/states/provision`, { target, ...extra });
  expect(res.status, JSON.stringify(res.data)).toBe(202);
}

/**
 * `count` 512-byte sectors of a qcow2 disk from sector `skip`, read while QEMU may hold it open.
 * (Not `qemu-img dd`: 7.2 fails to skip far into a large image, yet exits 0 with nothing written.)
 */
async function readSectors(disk: string, skip: number, count: number): Promise<Buffer> {
  const out = join(dir, `sectors-${skip}-${count}.bin`);
  await execa('qemu-img', ['convert', '-U', '-O', 'raw', '--image-opts', rawView(disk, skip * 512, count * 512), out]);
  const data = await readFile(out);
  await rm(out);
  return data;
}

/** A 64 MiB whole-disk image: an MBR with one Linux partition holding 4 MiB of random data. */
async function makeImage(file: string): Promise<void> {
  const raw = `${file}.raw`;
  await execa('truncate', ['-s', String(IMAGE_BYTES), raw]);
  await execa('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, size=61440, type=83\n' });
  const fh = await open(raw, 'r+');
  await fh.write(createHash('sha512').update('anvil').digest(), 0, 64, MIB);
  for (let i = 0; i < 64; i++) await fh.write(Buffer.from(Array.from({ length: 65536 }, (_, j) => (i * 31 + j * 7) & 0xff)), 0, 65536, MIB + 64 + i * 65536);
  await fh.close();
  await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, file]);
  await rm(raw);
}

function rawView(file: string, offset: number, size: number): string {
  return `driver=raw,offset=${offset},size=${size},file.driver=qcow2,file.file.driver=file,file.file.filename=${file}`;
}

beforeAll(async () => {
  const problem = await canUseNetns();
  if (problem) throw new Error(`the QEMU deploy test cannot run on this machine: ${problem}`);
  const ramdisk = await timed('build ramdisk (cached after the first run)', () => buildRamdisk());
  dir = await mkdtemp(join(tmpdir(), 'anvil-e2e-'));
  const tftpRoot = join(dir, 'tftpboot');
  const httpRoot = join(dir, 'httpboot');
  await mkdir(tftpRoot);
  await mkdir(httpRoot);
  await copyFile(ramdisk.kernel, join(httpRoot, 'deploy.kernel'));
  await copyFile(ramdisk.initramfs, join(httpRoot, 'deploy.initramfs'));
  await makeImage(join(dir, 'image.qcow2'));
  imageSha256 = createHash('sha256').update(await readFile(join(dir, 'image.qcow2'))).digest('hex');
  coreos = await makeCoreosImage(join(dir, 'coreos'));
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), String(DISK_BYTES)]);

  ns = createNamespaces();
  await timed('network namespaces, relay and Anvil start', async () => {
    await ns.add('prov');
    await ns.add('leaf');
    await ns.link({ role: 'prov', ifname: 'p0', addr: `${SERVER}/24` }, { role: 'leaf', ifname: 'l0', addr: '172.31.0.2/24' });
    await ns.run('leaf', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await ns.run('leaf', ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
    await ns.run('leaf', ['ip', 'addr', 'add', '172.31.3.1/24', 'dev', 'tap0']);
    await ns.run('leaf', ['ip', 'link', 'set', 'tap0', 'up']);
    await ns.run('prov', ['ip', 'route', 'add', '172.31.3.0/24', 'via', '172.31.0.2']);
    ns.spawn('leaf', ['dhcrelay', '-4', '-d', '-a', '--no-pid', '-id', 'tap0', '-iu', 'l0', SERVER]);
    // A link-local-only router advertisement spares iPXE its ~16 s wait for IPv6 autoconfiguration.
    await writeFile(join(dir, 'radvd.conf'), 'interface tap0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n};\n');
    await ns.run('leaf', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    ns.spawn('leaf', ['radvd', '-n', '-C', join(dir, 'radvd.conf'), '-p', join(dir, 'radvd.pid'), '-m', 'stderr']);

    const configFile = join(dir, 'anvil.yaml');
    await writeFile(configFile, stringify({
      dataDir: dir,
      api: { host: SERVER, port: 6385 },
      // The API listens only inside this test's own network namespaces, reached by the test and the VM alone.
      auth: { strategy: 'noauth', allowInsecureNoauth: true },
      log: { level: 'info', pretty: false },
      conductor: {
        pollInterval: 1,
        timeouts: { deployCallback: 300, cleanCallback: 300, inspectWait: 300, working: 300 },
      },
      netboot: {
        serverAddress: SERVER,
        apiUrl: `http://${SERVER}:6385`,
        dhcp: { listen: '0.0.0.0:67' },
        tftp: { listen: '0.0.0.0:69', root: tftpRoot },
        http: { listen: '0.0.0.0:8080', root: httpRoot },
        subnets: [{ name: 'vmleaf', cidr: '172.31.3.0/24', range: { start: '172.31.3.100', end: '172.31.3.110' }, router: '172.31.3.1' }],
      },
    }));
    await startIn('prov', 'anvil', [process.execPath, ANVIL, 'all-in-one', '--config', configFile], 'API listening on');

    // The BMC: the Redfish simulator in this process, driving the QEMU machine, reached from prov at 127.0.0.1:8000.
    machine = await QemuMachine.create({
      name: 'e2e-vm', workDir: join(dir, 'vm'), cpus: VM_CPUS, memoryMb: VM_MEMORY_MB,
      disks: [join(dir, 'disk.qcow2')], nics: [{ mac: MAC, tap: 'tap0' }], netns: ns.name('leaf'),
    });
    if (POWER === 'ovirt') {
      engine = await startEngineSimulator({ machines: [machine], users: { 'admin@internal': BMC_PASSWORD } });
      await writeFile(join(dir, 'engine-ca.pem'), engine.certificate!);
    } else redfish = await startRedfishSimulator({ machines: [machine], auth: { username: 'admin', password: BMC_PASSWORD } });
    bmcBridge = await startBridge(`unix:${join(dir, 'bmc.sock')}`, `tcp:127.0.0.1:${(engine ?? redfish)!.port}`);
    await startIn('prov', 'bmc-bridge', [process.execPath, '--import', 'tsx', BRIDGE, 'tcp:127.0.0.1:8000', `unix:${join(dir, 'bmc.sock')}`], 'bridge ready');
    await startIn('prov', 'api-bridge', [process.execPath, '--import', 'tsx', BRIDGE, `unix:${join(dir, 'api.sock')}`, `tcp:${SERVER}:6385`], 'bridge ready');
    api = axios.create({
      socketPath: join(dir, 'api.sock'),
      baseURL: 'http://anvil',
      headers: { 'X-OpenStack-Ironic-API-Version': '1.89' },
      validateStatus: () => true,
    });
  });
}, 900_000);

afterAll(async () => {
  await machine?.close().catch(() => undefined);
  await ns?.remove();
  bmcBridge?.close();
  await redfish?.close();
  await engine?.close();
  if (phases.length) console.log(`e2e phase times:\n${phases.map(([p, s]) => `  ${p.padEnd(48)} ${s.toFixed(1)} s`).join('\n')}`);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('a real deploy to a QEMU machine through a DHCP relay', () => {
  it(`enrolls the machine with the ${POWER} driver and verifies its BMC`, async () => {
    await timed('enroll and manage', async () => {
      const created = await api.post('/v1/nodes', {
        name: 'e2e-vm',
        driver: POWER,
        driver_info: {
          ...(POWER === 'ovirt'
            ? { ovirt_address: '127.0.0.1:8000', ovirt_password: BMC_PASSWORD, ovirt_vm_name: 'e2e-vm', ovirt_ca_file: join(dir, 'engine-ca.pem') }
            : { redfish_address: 'http://127.0.0.1:8000', redfish_system_id: `/redfish/v1/Systems/${redfish!.systemIds[0]}`, redfish_username: 'admin', redfish_password: BMC_PASSWORD }),
          kernel_append_params: 'console=ttyS0 quiet',
        },
        boot_interface: 'ipxe',
        deploy_interface: 'direct',
        inspect_interface: 'agent',
      });
      expect(created.status, JSON.stringify(created.data)).toBe(201);
      nodeUuid = created.data.uuid;
      expect(JSON.stringify(created.data)).not.toContain(BMC_PASSWORD);
      const port = await api.post('/v1/ports', { node_uuid: nodeUuid, address: MAC, pxe_enabled: true });
      expect(port.status, JSON.stringify(port.data)).toBe(201);
      await provision('manage');
      await waitForState('manageable', 60);
    });
  }, 120_000);

  it('inspects it: the agent reports the machine\'s real CPUs, memory and disk', async () => {
    const node = await timed('inspect (PXE boot, agent inventory)', async () => {
      await provision('inspect');
      return waitForState('manageable', 300);
    });
    const inventory = (await api.get(`/v1/nodes/${nodeUuid}/inventory`)).data.inventory;
    expect(inventory.cpu.count).toBe(VM_CPUS);
    expect(inventory.memory.physical_mb).toBeGreaterThan(VM_MEMORY_MB * 0.8);
    expect(inventory.memory.physical_mb).toBeLessThanOrEqual(VM_MEMORY_MB);
    expect(inventory.disks).toEqual(expect.arrayContaining([expect.objectContaining({ name: '/dev/vda', size: DISK_BYTES })]));
    expect(inventory.interfaces).toEqual(expect.arrayContaining([expect.objectContaining({ mac_address: MAC })]));
    expect(node.properties).toMatchObject({ cpus: VM_CPUS, local_gb: expect.any(Number) });
  }, 330_000);

  it('provides it: automated cleaning through the agent', async () => {
    await timed('provide (cleaning through the agent)', async () => {
      await provision('provide');
      await waitForState('available', 300);
    });
    expect(await machine.powerState()).toBe('off');
  }, 330_000);

  it('deploys a qcow2 image with a config drive and reaches active', async () => {
    await timed('deploy (image and config drive)', async () => {
      const patch = await api.patch(`/v1/nodes/${nodeUuid}`, [
        { op: 'add', path: '/instance_info/image_source', value: `file://${join(dir, 'image.qcow2')}` },
        { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
        { op: 'add', path: '/instance_info/image_os_hash_value', value: imageSha256 },
        { op: 'add', path: '/instance_info/image_disk_format', value: 'qcow2' },
      ]);
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      await provision('active', { configdrive: { meta_data: { uuid: nodeUuid, hostname: 'e2e-vm' }, user_data: '#cloud-config\nhostname: e2e-vm\n' } });
      await waitForState('active', 300);
    });
    const off = await api.put(`/v1/nodes/${nodeUuid}/states/power`, { target: 'power off' });
    expect(off.status).toBe(202);
    for (let i = 0; i < 60 && (await machine.powerState()) !== 'off'; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await machine.powerState()).toBe('off');

    const disk = join(dir, 'disk.qcow2');
    const image = join(dir, 'image.qcow2');
    // Everything after the MBR is the image, byte for byte.
    const compare = await execa('qemu-img', ['compare', '-U', '--image-opts', rawView(image, 512, IMAGE_BYTES - 512), rawView(disk, 512, IMAGE_BYTES - 512)], { reject: false });
    expect(compare.stdout).toContain('Images are identical');
    // The MBR keeps the image's boot code and partition, and gained the config drive partition.
    const mbr = await readSectors(disk, 0, 1);
    const imageMbr = await readSectors(image, 0, 1);
    expect(mbr.subarray(0, 446 + 16).equals(imageMbr.subarray(0, 446 + 16))).toBe(true);
    const cdStart = mbr.readUInt32LE(446 + 16 + 8);
    configDriveStart = cdStart;
    const cdSectors = mbr.readUInt32LE(446 + 16 + 12);
    expect(cdSectors * 512).toBe(64 * MIB);
    expect((cdStart + cdSectors) * 512).toBeLessThanOrEqual(DISK_BYTES);
    // The config drive reads back as the ISO Anvil built.
    const iso = join(dir, 'configdrive.iso');
    await writeFile(iso, await readSectors(disk, cdStart, cdSectors));
    expect((await execa('isoinfo', ['-d', '-i', iso])).stdout).toMatch(/Volume id: config-2/);
    const meta = JSON.parse((await execa('isoinfo', ['-R', '-i', iso, '-x', '/openstack/latest/meta_data.json'])).stdout);
    expect(meta).toMatchObject({ uuid: nodeUuid, hostname: 'e2e-vm' });
    expect((await execa('isoinfo', ['-R', '-i', iso, '-x', '/openstack/latest/user_data'])).stdout).toBe('#cloud-config\nhostname: e2e-vm');
  }, 330_000);

  it('undeploys it: cleaning erases the disk\'s metadata', async () => {
    await timed('undeploy (cleaning through the agent)', async () => {
      await provision('deleted');
      await waitForState('available', 300);
    });
    const disk = join(dir, 'disk.qcow2');
    expect((await readSectors(disk, 0, 2048)).equals(Buffer.alloc(MIB))).toBe(true);
    expect((await readSectors(disk, DISK_BYTES / 512 - 2048, 2048)).equals(Buffer.alloc(MIB))).toBe(true);
    // The config drive partition's start is wiped too (its ISO header is gone).
    expect((await readSectors(disk, configDriveStart, 2048)).equals(Buffer.alloc(MIB))).toBe(true);
  }, 330_000);
});

describe('the same machine deployed as OpenShift deploys: custom-agent with install_coreos', () => {
  const ignition = JSON.stringify({ ignition: { version: '3.4.0' }, storage: { files: [{ path: '/etc/hostname', contents: { source: 'data:,e2e-coreos' } }] } });

  it('writes the CoreOS image and the Ignition config where CoreOS\'s first boot reads it', async () => {
    await timed('deploy (custom-agent, install_coreos)', async () => {
      const patch = await api.patch(`/v1/nodes/${nodeUuid}`, [
        { op: 'replace', path: '/deploy_interface', value: 'custom-agent' },
        { op: 'add', path: '/instance_info/image_source', value: `file://${coreos.qcow2}` },
        { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
        { op: 'add', path: '/instance_info/image_os_hash_value', value: coreos.sha256 },
        { op: 'add', path: '/instance_info/image_disk_format', value: 'qcow2' },
      ]);
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      await provision('active', { configdrive: { user_data: ignition }, deploy_steps: [{ interface: 'deploy', step: 'install_coreos', args: {}, priority: 80 }] });
      await waitForState('active', 300);
    });
    const off = await api.put(`/v1/nodes/${nodeUuid}/states/power`, { target: 'power off' });
    expect(off.status).toBe(202);
    for (let i = 0; i < 60 && (await machine.powerState()) !== 'off'; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await machine.powerState()).toBe('off');

    const disk = join(dir, 'disk.qcow2');
    // Before the boot partition and the root partition: the image, byte for byte.
    const same = (offset: number, size: number) => execa('qemu-img', ['compare', '-U', '--image-opts', rawView(coreos.qcow2, offset, size), rawView(disk, offset, size)], { reject: false });
    expect((await same(0, coreos.boot!.offset)).stdout).toContain('Images are identical');
    expect((await same(coreos.root.offset, coreos.root.size)).stdout).toContain('Images are identical');
    // The boot file system, read back without mounting: the Ignition config as coreos-installer leaves it.
    const boot = join(dir, 'boot.ext4');
    await writeFile(boot, await readSectors(disk, coreos.boot!.offset / 512, coreos.boot!.size / 512));
    expect(await debugfsCat(boot, 0, 'ignition/config.ign')).toBe(ignition);
    expect(await debugfsMode(boot, 0, 'ignition/config.ign')).toEqual({ mode: '0600', uid: 0, gid: 0 });
    expect(await debugfsMode(boot, 0, 'ignition')).toEqual({ mode: '0700', uid: 0, gid: 0 });
    expect(await debugfsCat(boot, 0, 'loader/entries/ostree-1.conf')).toContain('title Fedora CoreOS');
  }, 330_000);
});
