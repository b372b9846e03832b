// A simulated machine: what a BMC simulator (Redfish or IPMI) controls. The virtual rack backs it
// with an in-memory machine that "netboots" the simulated agent; the QEMU backend backs it with a
// real virtual machine. BMC simulators only talk to this interface.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

export type MachinePower = 'on' | 'off';
export type MachinePowerAction = 'on' | 'off' | 'soft-off' | 'reset' | 'soft-reset' | 'cycle' | 'nmi';
export type MachineBootDevice = 'none' | 'pxe' | 'disk' | 'cdrom' | 'bios' | 'usb' | 'http';
export type MachineBootMode = 'uefi' | 'bios';

export interface BootOverride {
  device: MachineBootDevice;
  /** false: one-time (cleared after the next boot), true: continuous. */
  persistent: boolean;
  mode: MachineBootMode;
  /** The URI an 'http' boot downloads (Redfish Boot.HttpBootUri); unset or null: the one DHCP offers. */
  httpBootUri?: string | null;
}

export interface MachineDisk { name: string; sizeBytes: number; model: string; rotational: boolean; serial: string }
export interface MachineNic { name: string; mac: string; speedMbps: number }

export interface MachineHardware {
  manufacturer: string;
  model: string;
  serial: string;
  cpus: number;
  cpuModel: string;
  cpuArch: string;
  memoryMb: number;
  disks: MachineDisk[];
  nics: MachineNic[];
  /** PCI devices besides the NICs (GPUs...), as vendor and product ids in hex. */
  pciDevices?: { vendorId: string; productId: string; class: string }[];
}

export interface VirtualMedia {
  image: string | null;
  inserted: boolean;
}

/**
 * Events: 'power' (state: MachinePower) after every change, 'boot' (device actually booted)
 * when the machine starts up, 'media' (VirtualMedia) on insert/eject.
 */
/**
 * Hardware faults a simulated BMC reports: in Redfish Status.Health; in IPMI's chassis status bits
 * (power, cooling, drive) or its CPU temperature sensor's reading (warm: past its upper
 * non-critical threshold, overheat: past its upper critical one).
 */
export type MachineFault = 'power' | 'cooling' | 'drive' | 'warm' | 'overheat';

export interface SimulatedMachine extends EventEmitter {
  readonly id: string;
  /** Faults present now (none: healthy); tests add and remove them. */
  readonly faults?: Set<MachineFault>;
  readonly uuid: string;
  readonly name: string;
  readonly hardware: MachineHardware;
  powerState(): Promise<MachinePower>;
  power(action: MachinePowerAction): Promise<void>;
  getBootOverride(): BootOverride;
  setBootOverride(override: Partial<BootOverride>): void;
  getVirtualMedia(): VirtualMedia;
  insertMedia(image: string): Promise<void>;
  ejectMedia(): Promise<void>;
  /** Connects to the machine's serial port (what a BMC's Serial over LAN carries); machines without one leave it out. */
  openSerial?(): Promise<Duplex>;
}

/** A machine that lives in memory: power and boot settings change at once and persist for its life. */
export class MemoryMachine extends EventEmitter implements SimulatedMachine {
  readonly faults = new Set<MachineFault>();
  private state: MachinePower = 'off';
  private boot: BootOverride = { device: 'none', persistent: false, mode: 'uefi' };
  private media: VirtualMedia = { image: null, inserted: false };

  constructor(readonly id: string, readonly uuid: string, readonly name: string, readonly hardware: MachineHardware) {
    super();
  }

  async powerState(): Promise<MachinePower> {
    return this.state;
  }

  async power(action: MachinePowerAction): Promise<void> {
    switch (action) {
      case 'on':
        if (this.state === 'off') this.start();
        return;
      case 'off':
      case 'soft-off':
        if (this.state === 'on') this.stop();
        return;
      case 'reset':
      case 'soft-reset':
      case 'cycle':
        if (this.state === 'on') this.stop();
        this.start();
        return;
      case 'nmi':
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

  async insertMedia(image: string): Promise<void> {
    this.media = { image, inserted: true };
    this.emit('media', this.getVirtualMedia());
  }

  async ejectMedia(): Promise<void> {
    this.media = { image: null, inserted: false };
    this.emit('media', this.getVirtualMedia());
  }

  /** The device this start-up boots from; a one-time override is used up. */
  private start(): void {
    this.state = 'on';
    const device = this.boot.device === 'none' ? 'disk' : this.boot.device;
    if (!this.boot.persistent) this.boot = { ...this.boot, device: 'none' };
    this.emit('power', this.state);
    this.emit('boot', device);
  }

  private stop(): void {
    this.state = 'off';
    this.emit('power', this.state);
  }
}

/** A plausible server for the simulators, with MACs derived from the index so they are stable. */
export function sampleHardware(index: number, opts: { nics?: number; diskBytes?: number } = {}): MachineHardware {
  const mac = (nic: number) => `52:54:00:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}:${(0x10 + nic).toString(16)}`;
  return {
    manufacturer: 'Anvil Simulated Systems',
    model: 'SIM-1U',
    serial: `SIM${String(index).padStart(6, '0')}`,
    cpus: 8,
    cpuModel: 'Simulated CPU @ 2.40GHz',
    cpuArch: 'x86_64',
    memoryMb: 16384,
    disks: [{ name: '/dev/sda', sizeBytes: opts.diskBytes ?? 100 * 1024 ** 3, model: 'SIM-SSD', rotational: false, serial: `DISK${index}` }],
    nics: Array.from({ length: opts.nics ?? 2 }, (_, n) => ({ name: `eth${n}`, mac: mac(n), speedMbps: 10000 })),
  };
}
