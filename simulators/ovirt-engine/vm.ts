// One VM of the simulated Engine, backed by a simulated machine (the rack's in-memory machine or a
// QEMU one). Its status follows the model's VmStatus: a start goes wait_for_launch → powering_up →
// up, a shutdown powering_down → down, a reboot reboot_in_progress → up, each step `stepMs` long;
// otherwise it is up or down as the machine is, so a machine that powers itself off (the deploy
// agent) shows down. The boot order is the machine's boot device, kept as the Engine keeps it; a
// start's run-once devices hold for that run (guest reboots included) and the VM's order comes back
// at the next start.
import type { MachineBootDevice, SimulatedMachine } from '../machine.ts';
import type { Tree } from './representation.ts';

export const API = '/ovirt-engine/api';
export const BOOT_DEVICES = ['cdrom', 'hd', 'network'] as const;
export type OvirtBootDevice = (typeof BOOT_DEVICES)[number];
export type VmAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset';
export const VM_ACTIONS: readonly VmAction[] = ['start', 'stop', 'shutdown', 'reboot', 'reset'];

const MACHINE_DEVICE: Record<OvirtBootDevice, MachineBootDevice> = { network: 'pxe', hd: 'disk', cdrom: 'cdrom' };

/** A validation failure of an action, as the Engine reports it: 409 with reason "Operation Failed". */
export class ActionRefused extends Error {}

export class SimVm {
  /** The transitional status a running action holds, if any. */
  private phase: string | null = null;
  private devices: OvirtBootDevice[] = ['hd'];
  /** The run-once devices of the VM's current run, if it was started with some. */
  private runOnce: OvirtBootDevice[] | null = null;
  private timers = new Set<NodeJS.Timeout>();
  private startTime: number | null = null;
  private stopTime: number | null = Date.now();
  private generation = 0;

  constructor(readonly machine: SimulatedMachine, readonly id: string, readonly clusterId: string, readonly hostId: string, private readonly stepMs: number) {
    machine.setBootOverride({ device: 'disk', persistent: true });
  }

  get name(): string {
    return this.machine.name;
  }

  get href(): string {
    return `${API}/vms/${this.id}`;
  }

  async status(): Promise<string> {
    return this.phase ?? ((await this.machine.powerState()) === 'on' ? 'up' : 'down');
  }

  bootDevices(): OvirtBootDevice[] {
    return [...this.devices];
  }

  /** The new boot order; the machine boots its first device from now on, unless a run-once run holds it. */
  setBootDevices(devices: OvirtBootDevice[]): void {
    this.devices = devices;
    if (!this.runOnce) this.bootFrom(devices);
  }

  private bootFrom(devices: OvirtBootDevice[]): void {
    this.machine.setBootOverride({ device: MACHINE_DEVICE[devices[0]], persistent: true });
  }

  /** Runs an action, or throws ActionRefused with the Engine's words. `once`: start's run-once boot devices. */
  async act(action: VmAction, once?: OvirtBootDevice[]): Promise<void> {
    const status = await this.status();
    const running = status !== 'down';
    const what = action === 'start' ? 'run' : action;
    if (action === 'start' && running) throw new ActionRefused(`[Cannot ${what} VM. VM is running.]`);
    if (action !== 'start' && !running) throw new ActionRefused(`[Cannot ${what} VM. VM is not running.]`);
    if ((action === 'reboot' || action === 'reset') && status !== 'up' && status !== 'powering_up') {
      throw new ActionRefused(`[Cannot ${what} VM. VM is not up (status ${status}).]`);
    }
    this.cancelSteps();
    switch (action) {
      case 'start':
        this.runOnce = once?.length ? once : null;
        this.bootFrom(this.runOnce ?? this.devices);
        this.startTime = Date.now();
        this.steps([['wait_for_launch', async () => this.machine.power('on')], ['powering_up', async () => undefined]]);
        return;
      case 'stop':
        await this.machine.power('off');
        this.stopped();
        return;
      case 'shutdown':
        this.steps([['powering_down', async () => { await this.machine.power('soft-off'); this.stopped(); }]]);
        return;
      case 'reboot':
      case 'reset':
        this.steps([['reboot_in_progress', async () => this.machine.power(action === 'reset' ? 'reset' : 'soft-reset')]]);
        return;
    }
  }

  private stopped(): void {
    this.stopTime = Date.now();
    this.startTime = null;
    this.runOnce = null;
    this.bootFrom(this.devices);
  }

  /** Each [status, work]: the VM shows `status`, then after stepMs the work runs and the next step begins. */
  private steps(list: [string, () => Promise<void>][]): void {
    const gen = ++this.generation;
    const run = async (i: number) => {
      if (gen !== this.generation) return;
      if (i >= list.length) { this.phase = null; return; }
      this.phase = list[i][0];
      const next = async () => {
        if (gen !== this.generation) return;
        await list[i][1]().catch(() => undefined);
        await run(i + 1);
      };
      if (this.stepMs <= 0) await next();
      else {
        const t = setTimeout(() => { this.timers.delete(t); void next(); }, this.stepMs);
        t.unref();
        this.timers.add(t);
      }
    };
    void run(0);
  }

  private cancelSteps(): void {
    this.generation++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.phase = null;
  }

  close(): void {
    this.cancelSteps();
  }

  /** The VM as the model's Vm type has it (the attributes the simulator can fill). */
  async representation(): Promise<Tree> {
    const status = await this.status();
    const hw = this.machine.hardware;
    const mode = this.machine.getBootOverride().mode;
    const up = status !== 'down';
    const link = (rel: string) => ({ href: `${this.href}/${rel}`, rel });
    return {
      href: this.href,
      id: this.id,
      actions: { link: [...VM_ACTIONS].sort().map((a) => link(a)) },
      name: this.name,
      link: ['diskattachments', 'nics', 'permissions', 'snapshots', 'statistics'].map(link),
      bios: { boot_menu: { enabled: false }, type: mode === 'uefi' ? 'q35_ovmf' : 'q35_sea_bios' },
      cpu: { architecture: hw.cpuArch, topology: { cores: 1, sockets: hw.cpus, threads: 1 } },
      creation_time: new Date(0),
      delete_protected: false,
      // Every VM has a graphics console; libgovirt refuses a VM without one.
      display: {
        address: up ? '127.0.0.1' : undefined, port: up ? 5900 : undefined, allow_override: false, copy_paste_enabled: true, disconnect_action: 'LOCK_SCREEN',
        file_transfer_enabled: true, monitors: 1, single_qxl_pci: false, smartcard_enabled: false, type: 'vnc',
      },
      memory: hw.memoryMb * 1024 * 1024,
      origin: 'ovirt',
      os: { boot: { devices: { device: this.devices } }, type: 'other_linux' },
      serial_number: { policy: 'vm' },
      stateless: false,
      type: 'server',
      next_run_configuration_exists: false,
      run_once: this.runOnce !== null,
      start_time: this.startTime === null ? undefined : new Date(this.startTime),
      stop_time: up || this.stopTime === null ? undefined : new Date(this.stopTime),
      status,
      cluster: { href: `${API}/clusters/${this.clusterId}`, id: this.clusterId },
      host: up ? { href: `${API}/hosts/${this.hostId}`, id: this.hostId } : undefined,
      original_template: { href: `${API}/templates/00000000-0000-0000-0000-000000000000`, id: '00000000-0000-0000-0000-000000000000' },
      template: { href: `${API}/templates/00000000-0000-0000-0000-000000000000`, id: '00000000-0000-0000-0000-000000000000' },
    };
  }
}

export function isBootDevice(v: unknown): v is OvirtBootDevice {
  return typeof v === 'string' && (BOOT_DEVICES as readonly string[]).includes(v);
}
