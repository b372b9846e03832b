// Simulated deploy agents: the real agent program (deploy-agent/) run with SimulatedHardware, many in one
// process, each on its own port. An agent starts when its machine boots from the network and
// stops when the machine powers off — as a ramdisk would.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../../common/logger.ts';
import { Agent } from '../../deploy-agent/agent.ts';
import { CachedImageStore, type ImageStore } from '../../deploy-agent/image-store.ts';
import { BUILTIN_PLUGIN_DIR } from '../../deploy-agent/plugins.ts';
import { ImageCache } from '../../images/cache.ts';
import type { MachineBootDevice, SimulatedMachine } from '../machine.ts';
import { SimulatedHardware, type Failures } from './hardware.ts';

export { SimulatedHardware };

/** Kernel parameters the machine booted with, as far as the agent reads them. */
export interface RamdiskParams {
  apiUrl?: string;
  inspectionCallbackUrl?: string;
  nodeUuid?: string;
}

export interface AgentSimulatorOptions {
  apiUrl: string;
  /** Where disk files go (one per machine: <id>.disk). */
  diskDir: string;
  logger: Logger;
  /** Address the agents listen on and report (default 127.0.0.1; each takes its own port). */
  host?: string;
  /** Shared image cache (bounded, LRU); default a cache in diskDir/images of 4 GiB. */
  images?: ImageStore;
  heartbeatIntervalMs?: number;
  lookupRetryMs?: number;
  /** PEM of the CA of an https API (the ramdisk's anvil.api_ca). */
  apiCa?: string;
  /** Plugin folders of every agent (default: the agent's built-in plugins, deploy-agent/plugins). */
  pluginDirs?: readonly string[];
  /** Asked at each network boot: what the ramdisk's kernel command line says (e.g. inspection). */
  ramdiskParams?(machine: SimulatedMachine): RamdiskParams | Promise<RamdiskParams>;
}

const NETWORK_BOOTS: MachineBootDevice[] = ['pxe', 'http', 'cdrom', 'usb'];

export class AgentSimulator {
  private readonly agents = new Map<string, Agent>();
  private readonly failures = new Map<string, Failures>();
  private readonly detach = new Map<string, () => void>();
  private readonly pending = new Set<Promise<void>>();
  readonly images: ImageStore;

  constructor(private readonly opts: AgentSimulatorOptions) {
    this.images = opts.images ?? new CachedImageStore(new ImageCache(path.join(opts.diskDir, 'images'), 4 * 1024 ** 3));
  }

  diskPath(machine: SimulatedMachine): string {
    return path.join(this.opts.diskDir, `${machine.id}.disk`);
  }

  /** Failures injected into this machine's agent (step → message, '' for a default message). */
  failuresOf(machine: SimulatedMachine): Failures {
    let f = this.failures.get(machine.id);
    if (!f) this.failures.set(machine.id, (f = new Map()));
    return f;
  }

  agentOf(machine: SimulatedMachine): Agent | undefined {
    return this.agents.get(machine.id);
  }

  /** Follows the machine: a network boot starts an agent, power off (or a disk boot) stops it. */
  attach(machine: SimulatedMachine): void {
    const onBoot = (device: MachineBootDevice) => this.track(NETWORK_BOOTS.includes(device) ? this.restart(machine) : this.stopAgent(machine));
    const onPower = (state: string) => {
      if (state === 'off') this.track(this.stopAgent(machine));
    };
    machine.on('boot', onBoot);
    machine.on('power', onPower);
    this.detach.set(machine.id, () => {
      machine.off('boot', onBoot);
      machine.off('power', onPower);
    });
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err) => this.opts.logger.error({ err }, 'simulated agent start/stop failed')).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async restart(machine: SimulatedMachine): Promise<void> {
    await this.stopAgent(machine);
    await this.startAgent(machine);
  }

  async startAgent(machine: SimulatedMachine, params?: RamdiskParams): Promise<Agent> {
    await mkdir(this.opts.diskDir, { recursive: true });
    const p = params ?? (await this.opts.ramdiskParams?.(machine)) ?? {};
    const host = this.opts.host ?? '127.0.0.1';
    const hardware = new SimulatedHardware({ machine, diskPath: this.diskPath(machine), ipv4Address: host, failures: this.failuresOf(machine) });
    const agent = new Agent({
      apiUrl: p.apiUrl ?? this.opts.apiUrl,
      apiCa: this.opts.apiCa,
      hardware,
      logger: this.opts.logger.child({ machine: machine.name }),
      images: this.images,
      listenHost: host,
      listenPort: 0,
      nodeUuid: p.nodeUuid,
      inspectionCallbackUrl: p.inspectionCallbackUrl,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      lookupRetryMs: this.opts.lookupRetryMs,
      pluginDirs: this.opts.pluginDirs ?? [BUILTIN_PLUGIN_DIR],
    });
    this.agents.set(machine.id, agent);
    // The machine's disk exists from its first boot on, as a real disk would.
    await hardware.rootDisk();
    await agent.start();
    return agent;
  }

  async stopAgent(machine: SimulatedMachine): Promise<void> {
    const agent = this.agents.get(machine.id);
    if (!agent) return;
    this.agents.delete(machine.id);
    await agent.stop();
  }

  /** Waits for agent starts/stops triggered by machine events. */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    for (const off of this.detach.values()) off();
    this.detach.clear();
    await this.settle();
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    this.agents.clear();
  }
}
