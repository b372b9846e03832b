// A SimulatedMachine backed by a real QEMU virtual machine (TCG), so the Redfish and IPMI
// simulators act as a virtual BMC for it, as VirtualBMC and sushy-tools do for libvirt.
// Power on starts the QEMU process with the boot order the boot override asks for; power off quits
// it through QMP. QEMU runs with -no-reboot, so a reboot from the guest ends the process and the
// machine starts again with the then-current boot override, as a server's firmware would pick it.
// Virtual media is an IDE CD-ROM changed through QMP blockdev-change-medium; an http(s) image is
// downloaded first, from the machine's network namespace when it has one (where its BMC would sit).
// On UEFI (OVMF) the boot order is given as bootindex properties, which OVMF follows (-boot order is SeaBIOS's).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { imageInfo } from '../../images/qemu-img.ts';
import type {
  BootOverride, MachineBootDevice, MachineHardware, MachinePower, MachinePowerAction, SimulatedMachine, VirtualMedia,
} from '../machine.ts';
import { setHttpBootNext } from './ovmf-vars.ts';
import { QmpClient, type QmpEvent } from './qmp.ts';

export interface QemuNic {
  mac: string;
  /** A tap device to attach to (created beforehand, in `netns` when that is set). */
  tap?: string;
  /**
   * false: the tap carries no offloads (no virtio-net header), so every frame is at most the MTU.
   * For a tap that is a port of a userspace switch (Open vSwitch's netdev datapath), which drops
   * the 64 KiB TSO frames a guest would otherwise hand it.
   */
  offloads?: boolean;
  /** QEMU user-mode networking instead of a tap (its built-in DHCP/TFTP; the host is 10.0.2.2). */
  user?: { tftp?: string; bootfile?: string };
}

export interface QemuMachineOptions {
  name: string;
  uuid?: string;
  /** Where the QMP socket, the serial console log and downloaded media live. */
  workDir: string;
  cpus?: number;
  memoryMb?: number;
  /** Disk images (virtio-blk, /dev/vda, /dev/vdb ...); qcow2 or raw, as qemu-img sees them. */
  disks: string[];
  nics: QemuNic[];
  /** Run QEMU inside this network namespace (the one holding its taps). */
  netns?: string;
  /** What to boot when no override is set: like most servers, the disk first, then the network. */
  defaultBootOrder?: string;
  qemuBinary?: string;
  /** The serial console is also a unix socket (serialSocket) a test can type into; it is still logged to consoleLog. */
  serialSocket?: boolean;
  /** Milliseconds to wait for QEMU to exit after a QMP quit before killing it. */
  stopTimeoutMs?: number;
  /** 'uefi': OVMF (Debian's ovmf) in pflash, its variable store a copy in workDir kept across power cycles; default 'bios' (SeaBIOS). */
  firmware?: 'bios' | 'uefi';
  /** Raw SMBIOS structures the firmware adds to its table (-smbios file=), e.g. a Redfish host interface. */
  smbiosFiles?: string[];
  /**
   * With firmware 'uefi': the NICs boot over UEFI HTTP only, through OVMF's own network stack (HttpBootDxe
   * on its virtio-net driver): its PXE is turned off through fw_cfg, and the NICs carry no iPXE option ROM.
   * A boot override 'http' with an httpBootUri (Redfish HttpBootUri) then boots that URI (ovmf-vars.ts).
   */
  uefiHttpBoot?: boolean;
}

/** The PCI slot of the first NIC on an HTTP-booting UEFI machine: the boot option's device path names it. */
const HTTP_BOOT_NIC_SLOT = 0x10;

/** Debian's OVMF: the firmware code (read-only) and the template of its variable store. */
export const OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };

/** QEMU's -boot order letters for a boot device (SeaBIOS: c disk, d CD-ROM, n network). */
export function bootOrderFor(device: MachineBootDevice, fallback: string): string {
  switch (device) {
    case 'pxe':
    case 'http':
      return 'n';
    case 'disk':
    case 'usb':
      return 'c';
    case 'cdrom':
      return 'd';
    case 'bios':
    case 'none':
      return fallback;
  }
}

/** What a boot order letter starts first, for the 'boot' event. */
function deviceOf(order: string): MachineBootDevice {
  return order[0] === 'n' ? 'pxe' : order[0] === 'd' ? 'cdrom' : 'disk';
}

const CDROM_ID = 'cdrom0';
/** SHUTDOWN reasons that -no-reboot turned from a reset into an exit. */
const RESTART_REASONS = new Set(['guest-reset', 'host-qmp-system-reset']);

export class QemuMachine extends EventEmitter implements SimulatedMachine {
  readonly id: string;
  readonly uuid: string;
  readonly name: string;
  private boot: BootOverride = { device: 'none', persistent: false, mode: 'bios' };
  private media: VirtualMedia = { image: null, inserted: false };
  private mediaFile: string | null = null;
  private child: ChildProcess | null = null;
  private qmp: QmpClient | null = null;
  private lastShutdownReason: string | null = null;
  /** The -boot order of the running process. */
  private currentOrder: string | null = null;
  /** Power actions run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing = false;

  private constructor(private readonly opts: QemuMachineOptions, readonly hardware: MachineHardware) {
    super();
    this.name = opts.name;
    this.id = opts.name;
    this.uuid = opts.uuid ?? randomUUID();
    // A BMC's Serial over LAN reaches the serial port through its socket (QEMU serves one client at a time).
    if (opts.serialSocket) this.openSerial = () => this.connectSerial();
  }

  readonly openSerial?: () => Promise<Duplex>;

  private connectSerial(): Promise<Duplex> {
    if (!this.child) return Promise.reject(new Error(`machine ${this.name} is off: its serial port is gone`));
    return new Promise((resolve, reject) => {
      const socket = connect(this.serialSocket);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  /** Reads the disks' sizes (qemu-img info) for the hardware description and makes the work folder. */
  static async create(opts: QemuMachineOptions): Promise<QemuMachine> {
    await mkdir(opts.workDir, { recursive: true });
    if (opts.firmware === 'uefi') {
      if (!existsSync(OVMF.code)) throw new Error(`UEFI firmware ${OVMF.code} is missing: install Debian's ovmf`);
      if (!existsSync(join(opts.workDir, 'OVMF_VARS.fd'))) await copyFile(OVMF.vars, join(opts.workDir, 'OVMF_VARS.fd'));
    }
    const disks = await Promise.all(opts.disks.map(async (file, i) => ({
      name: `/dev/vd${String.fromCharCode(97 + i)}`,
      sizeBytes: (await imageInfo(file)).virtualSize,
      model: '',
      rotational: false,
      serial: `${opts.name}-disk${i}`,
    })));
    const hardware: MachineHardware = {
      manufacturer: 'QEMU',
      model: 'Anvil QEMU machine',
      serial: opts.name,
      cpus: opts.cpus ?? 1,
      cpuModel: 'QEMU Virtual CPU version 2.5+',
      cpuArch: 'x86_64',
      memoryMb: opts.memoryMb ?? 1024,
      disks,
      nics: opts.nics.map((nic, i) => ({ name: `eth${i}`, mac: nic.mac.toLowerCase(), speedMbps: 1000 })),
    };
    return new QemuMachine(opts, hardware);
  }

  /** The unix socket of the serial console, with opts.serialSocket: what is written to it is typed on the machine's ttyS0. */
  get serialSocket(): string {
    return join(this.opts.workDir, 'serial.sock');
  }

  /** The serial console's log (the kernel and the agent print there). */
  get consoleLog(): string {
    return join(this.opts.workDir, 'console.log');
  }

  /** The -boot order the running QEMU was started with (null when off). */
  get bootOrder(): string | null {
    return this.currentOrder;
  }

  async powerState(): Promise<MachinePower> {
    return this.child ? 'on' : 'off';
  }

  power(action: MachinePowerAction): Promise<void> {
    const next = this.queue.then(() => this.doPower(action));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doPower(action: MachinePowerAction): Promise<void> {
    switch (action) {
      case 'on':
        if (!this.child) await this.start();
        return;
      case 'off':
        await this.stop();
        return;
      case 'soft-off':
        // ACPI power button: the guest decides, as on a real server.
        if (this.qmp) await this.qmp.execute('system_powerdown');
        return;
      case 'reset':
      case 'soft-reset':
      case 'cycle':
        // A new process, so the boot override set since the last start is honoured.
        await this.stop();
        await this.start();
        return;
      case 'nmi':
        if (this.qmp) await this.qmp.execute('inject-nmi');
        return;
    }
  }

  getBootOverride(): BootOverride {
    return { ...this.boot };
  }

  setBootOverride(override: Partial<BootOverride>): void {
    this.boot = { ...this.boot, ...override };
  }

  getVirtualMedia(): VirtualMedia {
    return { ...this.media };
  }

  /** Inserts an ISO given as a local path or an http(s) URL (downloaded first, as a BMC does). */
  async insertMedia(image: string): Promise<void> {
    const file = /^https?:\/\//.test(image) ? await this.download(image) : image;
    if (!existsSync(file)) throw new Error(`virtual media ${image}: no such file`);
    if (this.qmp) {
      await this.qmp.execute('blockdev-change-medium', { id: CDROM_ID, filename: file, format: 'raw', 'read-only-mode': 'read-only' });
    }
    this.mediaFile = file;
    this.media = { image, inserted: true };
    this.emit('media', this.getVirtualMedia());
  }

  async ejectMedia(): Promise<void> {
    if (this.qmp) await this.qmp.execute('eject', { id: CDROM_ID, force: true });
    this.mediaFile = null;
    this.media = { image: null, inserted: false };
    this.emit('media', this.getVirtualMedia());
  }

  /** QMP query-block for the CD-ROM: the file QEMU has inserted, or null. */
  async insertedMediaFile(): Promise<string | null> {
    if (!this.qmp) return null;
    const blocks = await this.qmp.execute<{ qdev?: string; inserted?: { file: string } }[]>('query-block');
    return blocks.find((b) => b.qdev === CDROM_ID || b.qdev?.endsWith(`/${CDROM_ID}`))?.inserted?.file ?? null;
  }

  /** Powers off and forgets the machine (the work folder stays, for its console log). */
  async close(): Promise<void> {
    this.closing = true;
    await this.power('off');
  }

  /** The QEMU command line for a start with this boot order. */
  qemuArgs(order: string): string[] {
    const o = this.opts;
    const uefi = o.firmware === 'uefi';
    // OVMF boots by bootindex: the order's letters (c disk, d CD-ROM, n network) number the devices.
    const bootindex = (letter: string): string => (uefi && order.includes(letter) ? `,bootindex=${order.indexOf(letter)}` : '');
    const args = [
      '-name', o.name, '-uuid', this.uuid,
      '-accel', 'tcg', '-machine', 'pc', '-m', String(o.memoryMb ?? 1024), '-smp', String(o.cpus ?? 1),
      '-smbios', `type=1,manufacturer=${this.hardware.manufacturer},product=${this.hardware.model},serial=${this.hardware.serial}`,
      ...(o.smbiosFiles ?? []).flatMap((file) => ['-smbios', `file=${file}`]),
      '-nodefaults', '-display', 'none', '-vga', 'none', '-no-reboot',
      '-chardev', o.serialSocket
        ? `socket,id=serial0,path=${this.serialSocket},server=on,wait=off,logfile=${this.consoleLog},logappend=on`
        : `file,id=serial0,path=${this.consoleLog},append=on`,
      '-serial', 'chardev:serial0',
      '-qmp', `unix:${this.qmpPath},server=on,wait=off`,
      // Entropy from the host, so the guest kernel's random pool is ready at once (TCG has no RDRAND).
      '-device', 'virtio-rng-pci',
    ];
    if (uefi) {
      args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`, '-drive', `if=pflash,format=raw,unit=1,file=${join(o.workDir, 'OVMF_VARS.fd')}`);
      if (o.uefiHttpBoot) args.push('-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=no', '-fw_cfg', 'name=opt/org.tianocore/IPv6PXESupport,string=no');
    } else args.push('-boot', `order=${order}`);
    const nicRom = uefi && o.uefiHttpBoot ? ',romfile=' : '';
    o.disks.forEach((file, i) => {
      args.push('-drive', `file=${file},if=none,id=disk${i},cache=unsafe`, '-device', `virtio-blk-pci,drive=disk${i},serial=${this.hardware.disks[i]!.serial}${i === 0 ? bootindex('c') : ''}`);
    });
    o.nics.forEach((nic, i) => {
      if (nic.tap) args.push('-netdev', `tap,id=net${i},ifname=${nic.tap},script=no,downscript=no${nic.offloads === false ? ',vnet_hdr=off' : ''}`);
      else {
        const user = [`user,id=net${i}`];
        if (nic.user?.tftp) user.push(`tftp=${nic.user.tftp}`);
        if (nic.user?.bootfile) user.push(`bootfile=${nic.user.bootfile}`);
        args.push('-netdev', user.join(','));
      }
      const slot = nicRom && i === 0 ? `,addr=0x${HTTP_BOOT_NIC_SLOT.toString(16)}` : '';
      args.push('-device', `virtio-net-pci,netdev=net${i},mac=${nic.mac}${nicRom}${slot}${i === 0 ? bootindex('n') : ''}`);
    });
    args.push('-drive', `if=none,id=cd0,media=cdrom,readonly=on${this.mediaFile ? `,file=${this.mediaFile},format=raw` : ''}`);
    args.push('-device', `ide-cd,drive=cd0,id=${CDROM_ID}${bootindex('d')}`);
    return args;
  }

  /** As a BMC does with HttpBootUri: the firmware's next boot is UEFI HTTP boot of `uri` on the first NIC. */
  private async bootUriNext(uri: string): Promise<void> {
    const file = join(this.opts.workDir, 'OVMF_VARS.fd');
    const store = await readFile(file);
    setHttpBootNext(store, { pciDevice: HTTP_BOOT_NIC_SLOT, mac: this.opts.nics[0]!.mac, uri });
    await writeFile(file, store);
  }

  private get qmpPath(): string {
    return join(this.opts.workDir, 'qmp.sock');
  }

  private async start(): Promise<void> {
    const order = bootOrderFor(this.boot.device, this.opts.defaultBootOrder ?? 'cn');
    const uri = this.boot.device === 'http' ? this.boot.httpBootUri : null;
    if (!this.boot.persistent) this.boot = { ...this.boot, device: 'none' };
    if (uri && this.opts.firmware === 'uefi' && this.opts.uefiHttpBoot) await this.bootUriNext(uri);
    await rm(this.qmpPath, { force: true });
    const qemu = this.opts.qemuBinary ?? 'qemu-system-x86_64';
    const [cmd, args] = this.opts.netns
      ? ['ip', ['netns', 'exec', this.opts.netns, qemu, ...this.qemuArgs(order)]]
      : [qemu, this.qemuArgs(order)];
    const stderr = await open(join(this.opts.workDir, 'qemu.stderr'), 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', stderr.fd] });
    await stderr.close();
    this.child = child;
    this.currentOrder = order;
    this.lastShutdownReason = null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    try {
      const qmp = await Promise.race([
        QmpClient.connect(this.qmpPath),
        exited.then(() => {
          throw new Error(`QEMU exited at start; see ${join(this.opts.workDir, 'qemu.stderr')}`);
        }),
      ]);
      qmp.on('event', (ev: QmpEvent) => {
        if (ev.event === 'SHUTDOWN') this.lastShutdownReason = String(ev.data?.reason ?? '');
      });
      this.qmp = qmp;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    this.emit('power', 'on');
    this.emit('boot', deviceOf(order));
  }

  private async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    this.lastShutdownReason = 'host-qmp-quit';
    await this.qmp?.execute('quit').catch(() => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMs ?? 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** The process ended: a guest reboot starts it again, anything else is power off. */
  private exited(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    this.qmp?.close();
    this.qmp = null;
    this.child = null;
    this.currentOrder = null;
    const reason = this.lastShutdownReason ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
    if (RESTART_REASONS.has(reason) && !this.closing) {
      void this.power('on').catch(() => this.emit('power', 'off'));
      return;
    }
    this.emit('power', 'off');
  }

  private async download(url: string): Promise<string> {
    const file = join(this.opts.workDir, `media-${Date.now()}.iso`);
    if (this.opts.netns) {
      const curl = spawn('ip', ['netns', 'exec', this.opts.netns, 'curl', '-fsS', '-o', file, url], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      curl.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const code = await new Promise<number | null>((resolve) => curl.once('close', resolve));
      if (code !== 0) {
        await rm(file, { force: true });
        throw new Error(`virtual media ${url}: ${stderr.trim() || `curl exit code ${code}`}`);
      }
      return file;
    }
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`virtual media ${url}: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
    return file;
  }
}
