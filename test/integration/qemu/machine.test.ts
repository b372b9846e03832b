// The QEMU machine backend against a real QEMU (TCG): power through QMP, the boot order chosen at
// each start, virtual media through blockdev-change-medium, and a real PXE boot of Anvil's ramdisk
// (QEMU's user-mode network serves DHCP and TFTP inside QEMU; the kernel comes over HTTP from
// 127.0.0.1) in its self-test mode, which prints what it sees and powers the machine off.
import { once } from 'node:events';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRamdisk, type Ramdisk } from '../../../ramdisk/build.ts';
import { startIpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { bootOrderFor, OVMF, QemuMachine } from '../../../simulators/qemu/machine.ts';
import { startRedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';

let dir: string;
let ramdisk: Ramdisk;
let http: Server;
let machine: QemuMachine;

async function serveFiles(files: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    void stat(file).then((st) => {
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(file).pipe(res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Waits until the machine's power state is `state` (BMCs answer before the change is done). */
async function powerBecomes(m: QemuMachine, state: 'on' | 'off'): Promise<void> {
  while ((await m.powerState()) !== state) await new Promise((r) => setTimeout(r, 50));
}

/** Waits until the console log holds `text` (the test's own timeout bounds the wait). */
async function consoleShows(m: QemuMachine, text: string): Promise<string> {
  for (;;) {
    const log = await readFile(m.consoleLog, 'utf8').catch(() => '');
    if (log.includes(text)) return log;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function makeIso(iso: string): Promise<void> {
  const tree = `${iso}.tree`;
  await execa('mkdir', ['-p', tree]);
  await writeFile(join(tree, 'hello.txt'), 'hello\n');
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'TEST', '-o', iso, tree]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-qemu-'));
  ramdisk = await buildRamdisk();
  await makeIso(join(dir, 'media.iso'));
  http = await serveFiles({ '/vmlinuz': ramdisk.kernel, '/initramfs': ramdisk.initramfs, '/media.iso': join(dir, 'media.iso') });
  const port = (http.address() as AddressInfo).port;
  // 10.0.2.2 is the host as QEMU's user-mode network shows it: port forwards to 127.0.0.1.
  await writeFile(join(dir, 'boot.ipxe'), `#!ipxe\nkernel http://10.0.2.2:${port}/vmlinuz console=ttyS0 quiet anvil.selftest\ninitrd http://10.0.2.2:${port}/initramfs\nboot\n`);
  await execa('qemu-img', ['create', '-f', 'qcow2', join(dir, 'disk.qcow2'), '5G']);
  machine = await QemuMachine.create({
    name: 'qemu-test-1',
    workDir: join(dir, 'vm'),
    cpus: 1,
    memoryMb: 768,
    disks: [join(dir, 'disk.qcow2')],
    nics: [{ mac: '52:54:00:aa:00:01', user: { tftp: dir, bootfile: 'boot.ipxe' } }],
  });
}, 600_000);

afterAll(async () => {
  await machine?.close();
  http?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('QEMU machine backend', () => {
  it('describes the hardware it was given', () => {
    expect(machine.hardware.cpus).toBe(1);
    expect(machine.hardware.memoryMb).toBe(768);
    expect(machine.hardware.disks).toEqual([expect.objectContaining({ name: '/dev/vda', sizeBytes: 5 * 1024 ** 3 })]);
    expect(machine.hardware.nics).toEqual([{ name: 'eth0', mac: '52:54:00:aa:00:01', speedMbps: 1000 }]);
  });

  it('maps boot devices to QEMU boot orders', () => {
    expect(bootOrderFor('pxe', 'cn')).toBe('n');
    expect(bootOrderFor('disk', 'cn')).toBe('c');
    expect(bootOrderFor('cdrom', 'cn')).toBe('d');
    expect(bootOrderFor('none', 'cn')).toBe('cn');
    expect(machine.qemuArgs('n')).toEqual(expect.arrayContaining(['-boot', 'order=n', '-accel', 'tcg', '-no-reboot']));
  });

  it('on UEFI runs OVMF from pflash with its own variable store, the boot order as bootindex', async () => {
    const uefi = await QemuMachine.create({ name: 'uefi-args', workDir: join(dir, 'uefi'), disks: [join(dir, 'disk.qcow2')], nics: [{ mac: '52:54:00:aa:00:09', user: {} }], firmware: 'uefi' });
    const args = uefi.qemuArgs('dc');
    expect(args).toEqual(expect.arrayContaining(['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`, '-drive', `if=pflash,format=raw,unit=1,file=${join(dir, 'uefi', 'OVMF_VARS.fd')}`]));
    expect(args).not.toContain('-boot');
    expect(args.find((a) => a.startsWith('ide-cd,'))).toMatch(/bootindex=0$/);
    expect(args.find((a) => a.startsWith('virtio-blk-pci,'))).toMatch(/bootindex=1$/);
    expect(args.find((a) => a.startsWith('virtio-net-pci,'))).not.toContain('bootindex');
    expect(existsSync(join(dir, 'uefi', 'OVMF_VARS.fd'))).toBe(true);
  });

  it('powers on and off through QMP, starting with the boot order of the override', async () => {
    const events: string[] = [];
    const onPower = (s: string) => events.push(`power:${s}`);
    const onBoot = (d: string) => events.push(`boot:${d}`);
    machine.on('power', onPower).on('boot', onBoot);
    machine.setBootOverride({ device: 'disk', persistent: false });
    await machine.power('on');
    expect(await machine.powerState()).toBe('on');
    expect(machine.bootOrder).toBe('c');
    // A one-time override is used up by the start.
    expect(machine.getBootOverride().device).toBe('none');

    // A reset starts a new process, with the override set since.
    machine.setBootOverride({ device: 'cdrom', persistent: true });
    await machine.power('reset');
    expect(machine.bootOrder).toBe('d');
    expect(machine.getBootOverride()).toMatchObject({ device: 'cdrom', persistent: true });

    await machine.power('off');
    expect(await machine.powerState()).toBe('off');
    expect(machine.bootOrder).toBeNull();
    await machine.power('off');
    machine.off('power', onPower).off('boot', onBoot);
    expect(events).toEqual(['power:on', 'boot:disk', 'power:off', 'power:on', 'boot:cdrom', 'power:off']);
  });

  it('changes virtual media in the running machine and keeps it across a restart', async () => {
    const iso = join(dir, 'media.iso');
    machine.setBootOverride({ device: 'disk', persistent: false });
    await machine.power('on');
    expect(await machine.insertedMediaFile()).toBeNull();
    await machine.insertMedia(iso);
    expect(await machine.insertedMediaFile()).toBe(iso);
    expect(machine.getVirtualMedia()).toEqual({ image: iso, inserted: true });
    await machine.power('reset');
    expect(await machine.insertedMediaFile()).toBe(iso);
    await machine.ejectMedia();
    expect(await machine.insertedMediaFile()).toBeNull();
    await expect(machine.insertMedia(join(dir, 'missing.iso'))).rejects.toThrow(/no such file/);
    await machine.power('off');
  });

  it('PXE-boots the ramdisk, which sees the machine and powers it off itself', async () => {
    machine.setBootOverride({ device: 'pxe', persistent: false });
    const off = once(machine, 'power').then(() => once(machine, 'power'));
    await machine.power('on');
    expect(machine.bootOrder).toBe('n');
    const [state] = await off;
    expect(state).toBe('off');
    expect(await machine.powerState()).toBe('off');
    const log = await consoleShows(machine, 'selftest done');
    expect(log).toMatch(/selftest: node v20\.\d+\.\d+ ok/);
    expect(log).toMatch(/selftest: qemu-img version \d/);
    expect(log).toMatch(/selftest: cpus 1 memory \d+ kB disks .*vda/);
    expect(log).toMatch(/selftest: nics eth0/);
  }, 240_000);

  it('is driven by the IPMI simulator: real ipmitool sets the boot device and the power', async () => {
    const ipmi = await startIpmiSimulator({ machines: [machine], firstPort: 0, password: 'qemu-pw' });
    const ipmitool = async (...args: string[]) => (await execa('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(ipmi.ports[0]), '-U', 'admin', '-E', '-C', '3', ...args], { env: { IPMI_PASSWORD: 'qemu-pw' } })).stdout;
    try {
      await ipmitool('chassis', 'bootdev', 'pxe');
      expect(machine.getBootOverride()).toMatchObject({ device: 'pxe', persistent: false });
      await ipmitool('chassis', 'power', 'on');
      await powerBecomes(machine, 'on');
      expect(machine.bootOrder).toBe('n');
      expect(await ipmitool('chassis', 'power', 'status')).toContain('Chassis Power is on');
      await ipmitool('chassis', 'power', 'off');
      await powerBecomes(machine, 'off');
      expect(await ipmitool('chassis', 'power', 'status')).toContain('Chassis Power is off');
    } finally {
      await ipmi.close();
    }
  }, 60_000);

  it('is driven by the Redfish simulator: boot override, reset, and virtual media fetched from a URL', async () => {
    const redfish = await startRedfishSimulator({ machines: [machine] });
    const call = async (method: string, path: string, body?: unknown, etag?: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(etag ? { 'if-match': etag } : {}) };
      const res = await fetch(`${redfish.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return res.status === 204 ? null : ((await res.json()) as Record<string, any>);
    };
    try {
      const system = `/redfish/v1/Systems/${redfish.systemIds[0]}`;
      const etag = (await fetch(`${redfish.url}${system}`)).headers.get('etag') ?? undefined;
      await call('PATCH', system, { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } }, etag);
      await call('POST', `${system}/Actions/ComputerSystem.Reset`, { ResetType: 'On' });
      await powerBecomes(machine, 'on');
      expect(machine.bootOrder).toBe('d');
      expect((await call('GET', system))!.PowerState).toBe('On');

      // Virtual media hangs off the system or its manager, depending on the BMC's flavour.
      const manager = (await call('GET', '/redfish/v1/Managers'))!.Members[0]['@odata.id'];
      const collection = (await call('GET', system))!.VirtualMedia ?? (await call('GET', manager))!.VirtualMedia;
      const media = (await call('GET', collection['@odata.id']))!.Members as { '@odata.id': string }[];
      const cd = media.find((m) => /cd/i.test(m['@odata.id']))!['@odata.id'];
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/media.iso`;
      await call('POST', `${cd}/Actions/VirtualMedia.InsertMedia`, { Image: url, Inserted: true });
      const inserted = await machine.insertedMediaFile();
      expect(inserted).not.toBeNull();
      expect((await readFile(inserted!)).equals(await readFile(join(dir, 'media.iso')))).toBe(true);
      await call('POST', `${cd}/Actions/VirtualMedia.EjectMedia`, {});
      expect(await machine.insertedMediaFile()).toBeNull();

      await call('POST', `${system}/Actions/ComputerSystem.Reset`, { ResetType: 'ForceOff' });
      await powerBecomes(machine, 'off');
    } finally {
      await redfish.close();
    }
  }, 60_000);
});
