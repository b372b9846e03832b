// The virtual rack: a simulated datacenter. N machines, each behind a BMC (one Redfish endpoint
// for all, or an IPMI BMC per machine) or a VM of one oVirt Engine, with NICs whose MACs Anvil knows and a disk file. A
// machine that powers on with boot device PXE "netboots": it asks the netboot role for its iPXE
// script and starts the deploy agent with the kernel arguments found there. One that boots from
// disk runs its deployed image: the rack checks the disk file holds one.
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.ts';
import { errorMessage } from '../../common/errors.ts';
import { AgentSimulator } from '../ramdisk-agents/index.ts';
import type { ImageStore } from '../../deploy-agent/image-store.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../ipmi-bmc/index.ts';
import type { MachineBootDevice, SimulatedMachine } from '../machine.ts';
import { makeMachines, startRedfishSimulator, type FaultTable, type RedfishSimulator, type RedfishSimulatorOptions } from '../redfish-bmc/index.ts';
import { startEngineSimulator, type EngineSimulator } from '../ovirt-engine/index.ts';
import { fetchBootScript, ramdiskParamsOf } from './netboot-client.ts';

/** redfish: one endpoint for all machines; irmc: a Fujitsu iRMC (S6) per machine; ipmi: an IPMI BMC per machine; ovirt: VMs of an oVirt Engine. */
export type RackBmc = 'redfish' | 'ipmi' | 'ovirt' | 'irmc';

export interface RackOptions {
  machines: number;
  /** The Anvil API the agents call when no netboot role tells them otherwise. */
  apiUrl: string;
  /** Where the machines' disk files live. */
  diskDir: string;
  logger: Logger;
  bmc?: RackBmc;
  /** The netboot role's HTTP boot server: machines fetch their iPXE script there. */
  netbootUrl?: string;
  username?: string;
  password?: string;
  /** The agents' shared image cache (default: one in diskDir). */
  images?: ImageStore;
  /** Agents' heart-beat interval (IPA's default is minutes apart; a rack wants seconds). */
  heartbeatIntervalMs?: number;
  /** PEM of the CA of an https API, which the agents trust (a ramdisk's anvil.api_ca). */
  apiCa?: string;
  /**
   * URL of the deploy ramdisk ISO: a machine that boots it (virtual CD, or UEFI HTTP boot of the
   * URI) starts the agent, whose API address is built into it. Any other ISO is a live instance.
   */
  deployIso?: string;
  /** The first machine's number (node-N): racks enrolled in one Anvil need distinct machines. */
  firstMachine?: number;
  /** Redfish simulator settings beside the machines and credentials (a vendor flavour per machine, task times). */
  redfish?: Pick<RedfishSimulatorOptions, 'flavor' | 'taskMs' | 'postMs'>;
}

/** What a machine's firmware did, for the person watching the rack. */
export type RackEvent =
  | { machine: string; kind: 'netboot'; mac: string; purpose: string }
  | { machine: string; kind: 'netboot-refused'; reason: string }
  | { machine: string; kind: 'disk-boot'; bootable: boolean; partitionTable: 'gpt' | 'mbr' | null }
  | { machine: string; kind: 'iso-boot'; via: 'cdrom' | 'http'; image: string; agent: boolean }
  | { machine: string; kind: 'power'; state: string };

/** The POST /v1/nodes body and ports that enroll one machine of the rack. */
export interface Enrollment {
  node: { name: string; driver: string; driver_info: Record<string, unknown> };
  ports: { address: string; pxe_enabled: boolean }[];
}

const NETWORK_BOOTS: MachineBootDevice[] = ['pxe', 'http'];

export class VirtualRack extends EventEmitter {
  private constructor(
    readonly machines: SimulatedMachine[],
    readonly agents: AgentSimulator,
    private readonly bmc: RackBmc,
    private readonly redfish: RedfishSimulator | undefined,
    private readonly ipmi: IpmiSimulator | undefined,
    /** The oVirt Engine whose VMs the machines are (bmc ovirt), with its CA certificate's file. */
    readonly ovirt: { engine: EngineSimulator; caFile: string } | undefined,
    private readonly opts: RackOptions,
    private readonly detachers: (() => void)[] = [],
  ) {
    super();
  }

  static async start(opts: RackOptions): Promise<VirtualRack> {
    const machines = makeMachines(opts.machines, opts.firstMachine);
    const bmc = opts.bmc ?? 'redfish';
    const auth = { username: opts.username ?? 'admin', password: opts.password ?? 'password' };
    const redfish = bmc === 'redfish' ? await startRedfishSimulator({ ...opts.redfish, machines, auth, powerDelayMs: 0 })
      : bmc === 'irmc' ? await startRedfishSimulator({ machines, auth, perPort: true, flavor: 'irmc', powerDelayMs: 0, postMs: 50 }) : undefined;
    const ipmi = bmc === 'ipmi' ? await startIpmiSimulator({ machines, firstPort: 0, ...auth }) : undefined;
    const ovirt = bmc === 'ovirt' ? await startOvirtEngine(machines, opts.diskDir, auth) : undefined;
    const agents = new AgentSimulator({
      apiUrl: opts.apiUrl,
      diskDir: opts.diskDir,
      logger: opts.logger,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1000,
      lookupRetryMs: 500,
      images: opts.images,
      apiCa: opts.apiCa,
    });
    const rack = new VirtualRack(machines, agents, bmc, redfish, ipmi, ovirt, opts);
    for (const m of machines) rack.follow(m);
    return rack;
  }

  /** The API calls that enroll machine `index` (driver, BMC address and credentials, MACs). */
  enrollment(index: number): Enrollment {
    const m = this.machines[index];
    const username = this.opts.username ?? 'admin';
    const password = this.opts.password ?? 'password';
    const driver_info: Record<string, unknown> = this.bmc === 'redfish'
      ? { redfish_address: this.redfish!.url, redfish_system_id: `/redfish/v1/Systems/${this.redfish!.systemIds[index]}`, redfish_username: username, redfish_password: password, redfish_verify_ca: false }
      : this.bmc === 'ovirt'
        ? { ovirt_address: this.ovirt!.engine.url, ovirt_username: `${username}@internal`, ovirt_password: password, ovirt_vm_name: m.name, ovirt_ca_file: this.ovirt!.caFile, ovirt_power_poll_interval: 0.2 }
        : this.bmc === 'irmc' ? { irmc_address: this.redfish!.endpoints[index].url, irmc_username: username, irmc_password: password }
          : { ipmi_address: this.ipmi!.host, ipmi_port: this.ipmi!.ports[index], ipmi_username: username, ipmi_password: password, ipmi_cipher_suite: 3 };
    // The first NIC boots from the network; inspection finds the others.
    return { node: { name: m.name, driver: this.bmc, driver_info }, ports: [{ address: m.hardware.nics[0].mac, pxe_enabled: true }] };
  }

  /** The faults of the rack's Redfish BMCs (an iRMC's system is "0"), for tests that break them. */
  get redfishFaults(): FaultTable | undefined {
    return this.redfish?.faults;
  }

  diskPath(machine: SimulatedMachine): string {
    return this.agents.diskPath(machine);
  }

  private follow(machine: SimulatedMachine): void {
    const onBoot = (device: MachineBootDevice) => {
      const iso = this.isoOf(machine, device);
      const work = iso ? this.isoBoot(machine, iso) : NETWORK_BOOTS.includes(device) ? this.netboot(machine) : this.diskBoot(machine);
      work.catch((err) => this.opts.logger.error({ err, machine: machine.name }, `boot of ${machine.name} failed: ${errorMessage(err)}`));
    };
    const onPower = (state: string) => {
      this.emit('event', { machine: machine.name, kind: 'power', state } satisfies RackEvent);
      if (state === 'off') this.agents.stopAgent(machine).catch(() => undefined);
    };
    machine.on('boot', onBoot);
    machine.on('power', onPower);
    this.detachers.push(() => {
      machine.off('boot', onBoot);
      machine.off('power', onPower);
    });
  }

  private async netboot(machine: SimulatedMachine): Promise<void> {
    await this.agents.stopAgent(machine);
    const macs = machine.hardware.nics.map((n) => n.mac);
    let params = {};
    if (this.opts.netbootUrl) {
      const found = await fetchBootScript(this.opts.netbootUrl, macs);
      if (!found) {
        this.emit('event', { machine: machine.name, kind: 'netboot-refused', reason: 'the netboot role serves none of its MACs' } satisfies RackEvent);
        return;
      }
      params = ramdiskParamsOf(found.script);
      const purpose = /Anvil (\w+) ramdisk/.exec(found.script)?.[1] ?? 'ramdisk';
      this.emit('event', { machine: machine.name, kind: 'netboot', mac: found.mac, purpose } satisfies RackEvent);
    }
    await this.agents.startAgent(machine, params);
  }

  /** The ISO a boot from `device` starts: the inserted virtual CD, or the UEFI HTTP boot URI when one is set. */
  private isoOf(machine: SimulatedMachine, device: MachineBootDevice): { via: 'cdrom' | 'http'; image: string } | null {
    if (device === 'cdrom') {
      const media = machine.getVirtualMedia();
      return media.inserted && media.image ? { via: 'cdrom', image: media.image } : null;
    }
    const uri = machine.getBootOverride().httpBootUri;
    return device === 'http' && uri ? { via: 'http', image: uri } : null;
  }

  /** Booting an ISO: the deploy ISO runs the agent; any other is a live instance that writes nothing. */
  private async isoBoot(machine: SimulatedMachine, iso: { via: 'cdrom' | 'http'; image: string }): Promise<void> {
    await this.agents.stopAgent(machine);
    const agent = iso.image === this.opts.deployIso;
    this.emit('event', { machine: machine.name, kind: 'iso-boot', ...iso, agent } satisfies RackEvent);
    // The deploy ISO's built-in kernel arguments: the API and its inspection callback (the API
    // answers 404 there unless the node waits for inspection, and the agent goes on to look up).
    if (agent) await this.agents.startAgent(machine, { inspectionCallbackUrl: `${this.opts.apiUrl}/v1/continue_inspection` });
  }

  /** Booting from disk: the machine runs whatever image its disk holds. */
  private async diskBoot(machine: SimulatedMachine): Promise<void> {
    await this.agents.stopAgent(machine);
    const partitionTable = await partitionTableOf(this.diskPath(machine));
    this.emit('event', { machine: machine.name, kind: 'disk-boot', bootable: partitionTable !== null, partitionTable } satisfies RackEvent);
  }

  async close(): Promise<void> {
    for (const detach of this.detachers) detach();
    await this.agents.close();
    await this.redfish?.close();
    await this.ipmi?.close();
    await this.ovirt?.engine.close();
  }
}

/** An Engine over HTTPS whose VMs are the machines, its user USERNAME@internal; its CA certificate written beside the disks. */
async function startOvirtEngine(machines: SimulatedMachine[], diskDir: string, auth: { username: string; password: string }): Promise<{ engine: EngineSimulator; caFile: string }> {
  const engine = await startEngineSimulator({ machines, users: { [`${auth.username}@internal`]: auth.password }, stepMs: 50 });
  const caFile = path.join(diskDir, 'ovirt-engine-ca.pem');
  await mkdir(diskDir, { recursive: true });
  await writeFile(caFile, engine.certificate!);
  return { engine, caFile };
}

/** The partition table a disk file starts with: GPT ("EFI PART" in LBA 1), MBR (0x55AA), or none. */
export async function partitionTableOf(disk: string): Promise<'gpt' | 'mbr' | null> {
  const file = await open(disk, 'r').catch(() => undefined);
  if (!file) return null;
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (bytesRead >= 520 && head.subarray(512, 520).toString('latin1') === 'EFI PART') return 'gpt';
    if (bytesRead >= 512 && head[510] === 0x55 && head[511] === 0xaa) return 'mbr';
    return null;
  } finally {
    await file.close();
  }
}
