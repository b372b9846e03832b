// One generated system: a simulated machine dressed as a Redfish ComputerSystem with its Manager
// and Chassis, in a vendor flavour. Holds the state a BMC keeps beside the machine (BIOS settings,
// secure boot, non-CD media slots, iDRAC jobs, iLO POST state).
import { randomInt } from 'node:crypto';
import type { BootOverride, MachineBootDevice, MachineFault, SimulatedMachine } from '../machine.ts';
import type { BackendContext } from './backend.ts';
import type { FlavorSpec } from './flavors.ts';
import {
  collection, etagOf, ifMatchAccepts, isObject, link, NO_CONTENT, notAllowed, ok, redfishError,
  type Json, type SimRequest, type SimResponse,
} from './http.ts';
import { biosDefaults, BIOS_REGISTRY_ID, checkBiosChange, type BiosValue } from './bios-registry.ts';
import type { FirmwareKind } from './update-service.ts';
import { applyReset, BOOT_ENABLED, DEVICE_OF, isResetType, TARGET_OF } from './power.ts';
import { IrmcOem, irmcError } from './irmc.ts';

// iDRAC's Server Configuration Profile names for the first boot device.
/** A system's Status.Health from its machine's faults: a power fault or overheating is Critical, any other a Warning. */
function systemHealth(faults: ReadonlySet<MachineFault> | undefined): 'OK' | 'Warning' | 'Critical' {
  if (faults?.has('power') || faults?.has('overheat')) return 'Critical';
  return faults && faults.size > 0 ? 'Warning' : 'OK';
}

const SCP_DEVICE: Record<string, MachineBootDevice> = { 'VCD-DVD': 'cdrom', HDD: 'disk', PXE: 'pxe', BIOS: 'bios', 'VFDD': 'usb' };

interface MediaSlot { image: string | null; inserted: boolean; protocol: string | null; bootOnNextReset: boolean }
interface Volume { id: string; name: string; raidType: string; capacityBytes: number; drives: string[] }
/** Fewest drives of each RAID type (DMTF RAIDType), as controllers enforce. */
const MIN_DRIVES: Record<string, number> = { RAID0: 1, RAID1: 2, RAID5: 3, RAID6: 4, RAID10: 4 };
interface Job { id: string; type: string; state: 'Scheduled' | 'Running' | 'Completed' | 'Failed'; message: string; target: string | null }

/** The simulated machines' one network adapter and the firmware it runs. */
const NIC_ADAPTER_ID = 'NIC.Slot.1';
const NIC_FIRMWARE = '22.31.6';

export interface SystemOptions {
  /** Milliseconds between a reset's 204 and the machine's change of state. */
  powerDelayMs: number;
  /** Milliseconds an iLO host stays in POST after power-on (boot and BIOS PATCHes are refused meanwhile). */
  postMs: number;
  /** Milliseconds iDRAC Server Configuration Profile imports take. */
  taskMs: number;
}

export class SimSystem {
  readonly systemPath: string;
  readonly managerPath: string;
  readonly chassisPath: string;
  private readonly biosPath: string;
  private readonly biosSettingsPath: string;
  private readonly vmediaBase: string;
  private bios: Record<string, BiosValue>;
  private pendingBios: Record<string, BiosValue> | null = null;
  /** Bios.ResetBios was asked for: the factory defaults apply at the next reset. */
  private biosFactoryReset = false;
  /** Firmware versions running, and a BIOS image staged by SimpleUpdate for the next reset. */
  private readonly firmware: Record<FirmwareKind, string>;
  private stagedBiosFirmware: string | null = null;
  private secureBoot = false;
  private otherTarget: string | null = null;
  /** The system's identify LED (IndicatorLED, as older BMCs show it) and the chassis' (LocationIndicatorActive, as newer ones do). */
  private systemLed: 'Lit' | 'Blinking' | 'Off' = 'Off';
  private chassisLocate = false;
  private readonly slots = new Map<string, MediaSlot>();
  private readonly jobs = new Map<string, Job>();
  private readonly volumes = new Map<string, Volume>();
  private nextVolume = 0;
  private postUntil = 0;
  /** Fujitsu iRMC's OEM side (flavours irmc, irmc-s4). */
  private readonly irmc: IrmcOem | null;

  constructor(
    readonly machine: SimulatedMachine,
    readonly spec: FlavorSpec,
    readonly ids: { system: string; manager: string; chassis: string },
    private readonly opts: SystemOptions,
  ) {
    this.systemPath = `/redfish/v1/Systems/${ids.system}`;
    this.managerPath = `/redfish/v1/Managers/${ids.manager}`;
    this.chassisPath = `/redfish/v1/Chassis/${ids.chassis}`;
    // iLO links BIOS in lower case, and its settings object with a trailing slash.
    this.biosPath = spec.flavor === 'ilo' ? `/redfish/v1/systems/${ids.system}/bios` : `${this.systemPath}/${spec.biosSegment}`;
    this.biosSettingsPath = spec.flavor === 'ilo' ? `${this.biosPath}/settings/` : `${this.biosPath}/Settings`;
    this.vmediaBase = `${spec.vmediaUnder === 'system' ? this.systemPath : this.managerPath}/VirtualMedia`;
    this.bios = this.biosFactory();
    this.firmware = { BIOS: '2.1.0', BMC: spec.flavor === 'idrac' ? '6.10.30.00' : spec.flavor === 'ilo' ? 'iLO 5 v2.46' : '1.0.0' };
    this.irmc = spec.irmc ? new IrmcOem({ machine, systemPath: this.systemPath, inPost: () => this.inPost(), powerDelayMs: opts.powerDelayMs, systemId: ids.system }, spec.irmc) : null;
    if (this.irmc) this.firmware.BMC = this.irmc.managerFacts().FirmwareVersion;
    for (const d of spec.vmedia) if (!d.cd) this.slots.set(d.id.toLowerCase(), { image: null, inserted: false, protocol: null, bootOnNextReset: false });
    machine.on('power', (state: string) => { if (state === 'on') this.onPowerOn(); });
    machine.on('boot', () => { this.otherTarget = null; });
  }

  private onPowerOn(): void {
    if (this.spec.flavor === 'ilo' || this.irmc) this.postUntil = Date.now() + this.opts.postMs;
    const scheduled = [...this.jobs.values()].filter((j) => j.state === 'Scheduled');
    // Pending settings apply at reset: at once on generic/iLO, through a scheduled job on iDRAC.
    if (this.stagedBiosFirmware) {
      this.firmware.BIOS = this.stagedBiosFirmware;
      this.stagedBiosFirmware = null;
    }
    if (this.biosFactoryReset) {
      this.biosFactoryReset = false;
      this.applyBios(this.biosFactory());
    }
    if (this.pendingBios && (this.spec.flavor !== 'idrac' || scheduled.length > 0)) this.applyBios(this.pendingBios);
    for (const job of scheduled) { job.state = 'Completed'; job.message = 'Job completed successfully.'; }
    for (const slot of this.slots.values()) slot.bootOnNextReset = false;
  }

  /** The registry's defaults, with this machine's own service tag. */
  private biosFactory(): Record<string, BiosValue> {
    return { ...biosDefaults(), SystemServiceTag: this.machine.hardware.serial.replace(/[^A-Za-z0-9]/g, '').slice(-7).padStart(7, '0').toUpperCase() };
  }

  private applyBios(attrs: Record<string, BiosValue>): void {
    const { BootMode, ...rest } = attrs;
    this.bios = { ...this.bios, ...rest };
    if (BootMode) this.machine.setBootOverride({ mode: /^uefi$/i.test(String(BootMode)) ? 'uefi' : 'bios' });
    this.pendingBios = null;
  }

  firmwareVersion(kind: FirmwareKind): string {
    return this.firmware[kind];
  }

  /** A finished SimpleUpdate: the BMC runs its new image at once, the BIOS at the host's next reset. */
  stageFirmware(kind: FirmwareKind, version: string): void {
    if (kind === 'BMC') this.firmware.BMC = version;
    else this.stagedBiosFirmware = version;
  }

  private biosAttributes(): Record<string, BiosValue> {
    const uefi = this.machine.getBootOverride().mode === 'uefi';
    return { ...this.bios, BootMode: uefi ? 'Uefi' : this.spec.flavor === 'ilo' ? 'LegacyBios' : 'Bios' };
  }

  private inPost(): boolean {
    return (this.spec.flavor === 'ilo' || this.irmc !== null) && Date.now() < this.postUntil;
  }

  private hasEtag(kind: 'system' | 'bios' | 'vmedia' | 'other'): boolean {
    const e = this.spec.etags;
    return e === 'all' || (e === 'settable' && (kind === 'system' || kind === 'bios')) || (e === 'vmedia' && kind === 'vmedia');
  }

  private tag(resource: Json, kind: 'system' | 'bios' | 'vmedia' | 'other'): Json {
    if (!this.hasEtag(kind)) return resource;
    // iRMC writes its ETags as bare numbers.
    const etag = this.irmc ? String(parseInt(etagOf(resource).slice(3, 11), 16)) : etagOf(resource);
    return { ...resource, '@odata.etag': etag };
  }

  /** The reset types the system takes now (iRMC offers only On while off). */
  private resetTypes(power: 'on' | 'off'): string[] {
    return this.irmc ? this.irmc.resetTypes(power) : this.spec.resetTypes;
  }

  /** 412/428 for a PATCH whose If-Match does not fit the resource's ETag; null when it may proceed. */
  private precondition(req: SimRequest, current: Json): SimResponse | null {
    const etag = current['@odata.etag'];
    if (typeof etag !== 'string') return null;
    const ifMatch = req.headers['if-match'];
    if (ifMatch === undefined) {
      return this.spec.requireIfMatch
        ? redfishError(428, 'Base.1.8.PreconditionRequired', 'A precondition header (If-Match) is required for this PATCH.', 'Read the resource and resubmit the request with its ETag in If-Match.')
        : null;
    }
    return ifMatchAccepts(String(ifMatch), etag) ? null : redfishError(412, 'Base.1.8.PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.', 'Read the resource again and resubmit with its current ETag.');
  }

  // ---- rendering

  renderSystem(power: 'on' | 'off'): Json {
    const hw = this.machine.hardware;
    const boot = this.machine.getBootOverride();
    const target = boot.device === 'none' ? this.otherTarget ?? 'None' : TARGET_OF[boot.device];
    const reset: Json = { target: `${this.systemPath}/Actions/ComputerSystem.Reset` };
    if (this.spec.resetInfo === 'allowable') reset['ResetType@Redfish.AllowableValues'] = this.resetTypes(power);
    else reset['@Redfish.ActionInfo'] = `${this.systemPath}/ResetActionInfo`;
    const sys: Json = {
      '@odata.id': this.systemPath,
      '@odata.type': '#ComputerSystem.v1_13_0.ComputerSystem',
      Id: this.ids.system,
      Name: this.machine.name,
      UUID: this.machine.uuid,
      Manufacturer: this.spec.manufacturer ?? hw.manufacturer,
      Model: hw.model,
      SerialNumber: hw.serial,
      SystemType: 'Physical',
      IndicatorLED: this.systemLed,
      BiosVersion: this.firmware.BIOS,
      PowerState: power === 'on' ? 'On' : 'Off',
      Status: { State: 'Enabled', Health: systemHealth(this.machine.faults) },
      Boot: {
        BootSourceOverrideEnabled: target === 'None' ? 'Disabled' : boot.persistent ? 'Continuous' : 'Once',
        'BootSourceOverrideEnabled@Redfish.AllowableValues': BOOT_ENABLED,
        BootSourceOverrideTarget: target,
        'BootSourceOverrideTarget@Redfish.AllowableValues': this.spec.bootTargets,
        BootSourceOverrideMode: boot.mode === 'uefi' ? 'UEFI' : 'Legacy',
        'BootSourceOverrideMode@Redfish.AllowableValues': ['UEFI', 'Legacy'],
        // ComputerSystem 1.9's UEFI HTTP boot URI, on BMCs that offer UefiHttp (null until one is set).
        ...(this.spec.bootTargets.includes('UefiHttp') ? { HttpBootUri: boot.httpBootUri ?? null } : {}),
      },
      ProcessorSummary: { Count: 1, LogicalProcessorCount: hw.cpus, Model: hw.cpuModel, Status: { State: 'Enabled', Health: 'OK' } },
      MemorySummary: { TotalSystemMemoryGiB: hw.memoryMb / 1024, Status: { State: 'Enabled', Health: 'OK' } },
      Processors: link(`${this.systemPath}/Processors`),
      Memory: link(`${this.systemPath}/Memory`),
      EthernetInterfaces: link(`${this.systemPath}/EthernetInterfaces`),
      Bios: link(this.biosPath),
      SecureBoot: link(`${this.systemPath}/SecureBoot`),
      Links: { ManagedBy: [link(this.managerPath)], Chassis: [link(this.chassisPath)] },
      Actions: { '#ComputerSystem.Reset': reset },
    };
    if (this.spec.storage === 'simple') sys.SimpleStorage = link(`${this.systemPath}/SimpleStorage`);
    else sys.Storage = link(`${this.systemPath}/Storage`);
    if (this.spec.vmediaUnder === 'system') sys.VirtualMedia = link(this.vmediaBase);
    if (this.spec.flavor === 'ilo') {
      sys.Oem = { Hpe: { '@odata.type': '#HpeComputerSystemExt.v2_9_0.HpeComputerSystemExt', PostState: power === 'off' ? 'PowerOff' : this.inPost() ? 'InPost' : 'FinishedPost' } };
    } else if (this.irmc) {
      sys.Oem = this.irmc.systemOem();
      (sys.Actions as Json).Oem = this.irmc.systemActions();
    } else if (this.spec.flavor === 'idrac') {
      sys.Oem = { Dell: { DellSystem: { '@odata.type': '#DellSystem.v1_3_0.DellSystem', Id: this.ids.system, LastSystemInventoryTime: new Date(0).toISOString() } } };
    }
    return this.tag(sys, 'system');
  }

  private renderMedia(id: string): Json | null {
    const spec = this.spec.vmedia.find((d) => d.id.toLowerCase() === id.toLowerCase());
    if (!spec) return null;
    const slot = this.slot(spec.id)!;
    const path = `${this.vmediaBase}/${spec.id}`;
    const insert: Json = { target: `${path}/Actions/VirtualMedia.InsertMedia` };
    if (this.spec.requireTransferProtocol) {
      insert['TransferProtocolType@Redfish.AllowableValues'] = ['CIFS', 'HTTP', 'HTTPS', 'NFS'];
      insert['TransferMethod@Redfish.AllowableValues'] = ['Stream'];
    }
    const media: Json = {
      '@odata.id': path,
      '@odata.type': '#VirtualMedia.v1_3_0.VirtualMedia',
      Id: spec.id,
      Name: `Virtual Removable Media ${spec.id}`,
      MediaTypes: spec.mediaTypes,
      Image: slot.image,
      ImageName: slot.image ? slot.image.split('/').pop() : null,
      Inserted: slot.inserted,
      WriteProtected: true,
      ConnectedVia: slot.inserted ? 'URI' : 'NotConnected',
      TransferProtocolType: slot.protocol,
      Actions: { '#VirtualMedia.InsertMedia': insert, '#VirtualMedia.EjectMedia': { target: `${path}/Actions/VirtualMedia.EjectMedia` } },
    };
    if (this.spec.flavor === 'ilo') {
      media.Oem = {
        Hpe: {
          '@odata.type': '#HpeiLOVirtualMedia.v2_2_0.HpeiLOVirtualMedia',
          BootOnNextServerReset: slot.bootOnNextReset,
          Actions: {
            '#HpeiLOVirtualMedia.InsertVirtualMedia': { target: `${path}/Actions/Oem/Hpe/HpeiLOVirtualMedia.InsertVirtualMedia` },
            '#HpeiLOVirtualMedia.EjectVirtualMedia': { target: `${path}/Actions/Oem/Hpe/HpeiLOVirtualMedia.EjectVirtualMedia` },
          },
        },
      };
    }
    return this.tag(media, 'vmedia');
  }

  /** The CD slot mirrors the machine's media; the others live here. */
  private slot(id: string): MediaSlot | null {
    const spec = this.spec.vmedia.find((d) => d.id.toLowerCase() === id.toLowerCase());
    if (!spec) return null;
    if (!spec.cd) return this.slots.get(spec.id.toLowerCase())!;
    const m = this.machine.getVirtualMedia();
    const own = this.slots.get('\0cd') ?? { image: null, inserted: false, protocol: null, bootOnNextReset: false };
    return { ...own, image: m.image, inserted: m.inserted };
  }

  private async setSlot(id: string, change: Partial<MediaSlot>): Promise<void> {
    const spec = this.spec.vmedia.find((d) => d.id.toLowerCase() === id.toLowerCase())!;
    if (!spec.cd) {
      Object.assign(this.slots.get(spec.id.toLowerCase())!, change);
      return;
    }
    const own = this.slots.get('\0cd') ?? { image: null, inserted: false, protocol: null, bootOnNextReset: false };
    const { image, inserted, ...rest } = change;
    this.slots.set('\0cd', { ...own, ...rest });
    if (inserted === false || image === null) await this.machine.ejectMedia();
    else if (image) await this.machine.insertMedia(image);
    // iLO's BootOnNextServerReset: the next start-up boots the virtual CD once.
    if (change.bootOnNextReset) this.machine.setBootOverride({ device: 'cdrom', persistent: false });
  }

  private renderManager(): Json {
    const actions: Json = { '#Manager.Reset': { target: `${this.managerPath}/Actions/Manager.Reset`, 'ResetType@Redfish.AllowableValues': ['GracefulRestart', 'ForceRestart'] } };
    const mgr: Json = {
      '@odata.id': this.managerPath,
      '@odata.type': '#Manager.v1_10_0.Manager',
      Id: this.ids.manager,
      Name: this.spec.flavor === 'idrac' || this.spec.flavor === 'ilo' ? 'Manager' : this.irmc ? 'iRMC' : 'BMC',
      ManagerType: 'BMC',
      Manufacturer: this.spec.manufacturer ?? this.machine.hardware.manufacturer,
      Model: this.spec.flavor === 'idrac' ? '14G Monolithic' : this.spec.flavor === 'ilo' ? 'iLO 5' : this.irmc ? this.irmc.managerFacts().Model : 'Anvil Simulated BMC',
      SerialNumber: `BMC-${this.machine.hardware.serial}`,
      FirmwareVersion: this.firmware.BMC,
      PowerState: 'On',
      Status: { State: 'Enabled', Health: 'OK' },
      Links: { ManagerForServers: [link(this.systemPath)], ManagerForChassis: [link(this.chassisPath)] },
      Actions: actions,
    };
    if (this.spec.vmediaUnder === 'manager') mgr.VirtualMedia = link(this.vmediaBase);
    if (this.spec.flavor === 'idrac') {
      actions.Oem = {
        'OemManager.v1_0_0#OemManager.ImportSystemConfiguration': {
          'HostPowerState@Redfish.AllowableValues': ['On', 'Off'],
          'ShutdownType@Redfish.AllowableValues': ['Graceful', 'Forced', 'NoReboot'],
          target: `${this.managerPath}/Actions/Oem/EID_674_Manager.ImportSystemConfiguration`,
        },
      };
      mgr.Oem = { Dell: { Jobs: link(`${this.managerPath}/Jobs`) } };
    }
    return this.tag(mgr, 'other');
  }

  private renderChassis(power: 'on' | 'off'): Json {
    const hw = this.machine.hardware;
    return this.tag({
      '@odata.id': this.chassisPath,
      '@odata.type': '#Chassis.v1_10_0.Chassis',
      Id: this.ids.chassis,
      Name: 'Computer System Chassis',
      ChassisType: 'RackMount',
      Manufacturer: this.spec.manufacturer ?? hw.manufacturer,
      Model: hw.model,
      SerialNumber: hw.serial,
      PowerState: power === 'on' ? 'On' : 'Off',
      Status: { State: 'Enabled', Health: 'OK' },
      LocationIndicatorActive: this.chassisLocate,
      Thermal: link(`${this.chassisPath}/Thermal`),
      Power: link(`${this.chassisPath}/Power`),
      NetworkAdapters: link(`${this.chassisPath}/NetworkAdapters`),
      Links: { ComputerSystems: [link(this.systemPath)], ManagedBy: [link(this.managerPath)] },
    }, 'other');
  }

  /** The machine's NICs as one network adapter, with the firmware its controller runs (what API 1.114 reports). */
  private renderNetworkAdapters(): Json {
    const base = `${this.chassisPath}/NetworkAdapters`;
    return this.tag({
      '@odata.id': base,
      '@odata.type': '#NetworkAdapterCollection.NetworkAdapterCollection',
      Name: 'Network Adapter Collection',
      Members: [link(`${base}/${NIC_ADAPTER_ID}`)],
      'Members@odata.count': 1,
    }, 'other');
  }

  private renderNetworkAdapter(): Json {
    const hw = this.machine.hardware;
    return this.tag({
      '@odata.id': `${this.chassisPath}/NetworkAdapters/${NIC_ADAPTER_ID}`,
      '@odata.type': '#NetworkAdapter.v1_7_0.NetworkAdapter',
      Id: NIC_ADAPTER_ID,
      Name: 'Simulated Ethernet adapter',
      Manufacturer: 'Anvil Simulated NICs',
      Model: `Simulated ${hw.nics.length}-port Ethernet`,
      SerialNumber: `NIC-${hw.serial}`,
      Controllers: [{ FirmwarePackageVersion: NIC_FIRMWARE, ControllerCapabilities: { NetworkPortCount: hw.nics.length } }],
      Status: { State: 'Enabled', Health: 'OK' },
    }, 'other');
  }

  private renderThermal(power: 'on' | 'off'): Json {
    const on = power === 'on';
    return this.tag({
      '@odata.id': `${this.chassisPath}/Thermal`,
      '@odata.type': '#Thermal.v1_5_0.Thermal',
      Id: 'Thermal',
      Name: 'Thermal',
      Temperatures: [
        { '@odata.id': `${this.chassisPath}/Thermal#/Temperatures/0`, MemberId: '0', Name: 'CPU1 Temp', ReadingCelsius: on ? 45 : 22, UpperThresholdCritical: 95, PhysicalContext: 'CPU', Status: { State: 'Enabled', Health: 'OK' } },
        { '@odata.id': `${this.chassisPath}/Thermal#/Temperatures/1`, MemberId: '1', Name: 'Inlet Temp', ReadingCelsius: 21, UpperThresholdCritical: 42, PhysicalContext: 'Intake', Status: { State: 'Enabled', Health: 'OK' } },
      ],
      Fans: [{ '@odata.id': `${this.chassisPath}/Thermal#/Fans/0`, MemberId: '0', Name: 'Fan1', Reading: on ? 6000 : 0, ReadingUnits: 'RPM', Status: { State: 'Enabled', Health: 'OK' } }],
    }, 'other');
  }

  private renderPower(power: 'on' | 'off'): Json {
    const watts = power === 'on' ? 230 : 9;
    return this.tag({
      '@odata.id': `${this.chassisPath}/Power`,
      '@odata.type': '#Power.v1_5_0.Power',
      Id: 'Power',
      Name: 'Power',
      PowerControl: [{ '@odata.id': `${this.chassisPath}/Power#/PowerControl/0`, MemberId: '0', Name: 'System Power Control', PowerConsumedWatts: watts }],
      PowerSupplies: [{ '@odata.id': `${this.chassisPath}/Power#/PowerSupplies/0`, MemberId: '0', Name: 'PSU1', PowerCapacityWatts: 800, LastPowerOutputWatts: watts, LineInputVoltage: 230, Status: { State: 'Enabled', Health: 'OK' } }],
    }, 'other');
  }

  private renderBios(): Json {
    const settings: Json = { SettingsObject: link(this.biosSettingsPath) };
    if (this.spec.flavor === 'idrac') settings.SupportedApplyTimes = ['OnReset', 'AtMaintenanceWindowStart', 'InMaintenanceWindowOnReset'];
    return this.tag({
      '@odata.id': this.biosPath,
      '@odata.type': '#Bios.v1_1_0.Bios',
      Id: 'Bios',
      Name: 'BIOS Configuration Current Settings',
      AttributeRegistry: BIOS_REGISTRY_ID,
      // iRMC S4 lists no attributes (its BIOS is set through BSPBR XML files).
      Attributes: this.irmc?.generation === 'S4' ? {} : this.biosAttributes(),
      '@Redfish.Settings': settings,
      Actions: { '#Bios.ResetBios': { target: `${this.biosPath}/Actions/Bios.ResetBios` } },
      ...(this.irmc ? { Oem: this.irmc.biosOem() } : {}),
    }, 'bios');
  }

  private renderBiosSettings(): Json {
    return this.tag({
      '@odata.id': this.biosSettingsPath,
      '@odata.type': '#Bios.v1_1_0.Bios',
      Id: 'Settings',
      Name: 'BIOS Configuration Pending Settings',
      // Only what is staged, as iDRAC and sushy-tools show it (sushy's pending_attributes).
      Attributes: { ...(this.pendingBios ?? {}) },
    }, 'bios');
  }

  private renderJob(job: Job): Json {
    return {
      '@odata.id': `${this.managerPath}/Jobs/${job.id}`,
      '@odata.type': '#DellJob.v1_0_2.DellJob',
      Id: job.id,
      Name: job.type === 'BIOSConfiguration' ? 'Configure: BIOS.Setup.1-1' : job.type,
      JobType: job.type,
      JobState: job.state,
      Message: job.message,
      MessageId: job.state === 'Completed' ? 'PR19' : 'JCP001',
      PercentComplete: job.state === 'Completed' ? 100 : 0,
      TargetSettingsURI: job.target,
      StartTime: 'TIME_NOW',
      EndTime: 'TIME_NA',
    };
  }

  // ---- handling

  /** Handles a request under this system's Systems/, Managers/ or Chassis/ resource; rest = path segments after the id, lower-cased. */
  async handle(kind: 'systems' | 'managers' | 'chassis', rest: string[], req: SimRequest, ctx: BackendContext): Promise<SimResponse | null> {
    const power = await this.machine.powerState();
    const at = rest.join('/');
    if (kind === 'chassis') {
      if (at === '' && req.method === 'PATCH') return this.patchChassis(req);
      if (req.method !== 'GET') return rest.length <= 1 ? notAllowed(req.method, req.path) : null;
      if (at === '') return ok(this.renderChassis(power));
      if (at === 'thermal') return ok(this.renderThermal(power));
      if (at === 'power') return ok(this.renderPower(power));
      if (at === 'networkadapters') return ok(this.renderNetworkAdapters());
      if (rest[0] === 'networkadapters' && rest[1] === NIC_ADAPTER_ID.toLowerCase() && rest.length === 2) return ok(this.renderNetworkAdapter());
      return null;
    }
    if (kind === 'managers') {
      if (at === '') return req.method === 'GET' ? ok(this.renderManager()) : notAllowed(req.method, req.path);
      if (at === 'actions/manager.reset') return req.method === 'POST' ? NO_CONTENT : notAllowed(req.method, req.path);
      if (this.spec.vmediaUnder === 'manager' && rest[0] === 'virtualmedia') return this.handleMedia(rest.slice(1), req);
      if (this.spec.flavor === 'idrac') return this.handleDell(rest, req, ctx);
      return null;
    }
    if (at === '') {
      if (req.method === 'GET') return ok(this.renderSystem(power));
      if (req.method === 'PATCH') return this.patchSystem(req, power);
      return notAllowed(req.method, req.path);
    }
    const oem = this.irmc ? await this.irmc.handle(rest, req, ctx) : null;
    if (oem) return oem;
    if (at === 'actions/computersystem.reset') return req.method === 'POST' ? this.reset(req, ctx) : notAllowed(req.method, req.path);
    if (this.spec.vmediaUnder === 'system' && rest[0] === 'virtualmedia') return this.handleMedia(rest.slice(1), req);
    if (at === this.spec.biosSegment.toLowerCase()) return req.method === 'GET' ? ok(this.renderBios()) : notAllowed(req.method, req.path);
    if (at === `${this.spec.biosSegment.toLowerCase()}/actions/bios.resetbios`) {
      if (req.method !== 'POST') return notAllowed(req.method, req.path);
      // As iDRAC and iLO do: nothing changes until the next reset, which restores the defaults.
      this.biosFactoryReset = true;
      this.pendingBios = null;
      return NO_CONTENT;
    }
    if (at === `${this.spec.biosSegment.toLowerCase()}/settings`) {
      if (req.method === 'GET') return ok(this.renderBiosSettings());
      if (req.method === 'PATCH') return this.patchBios(req, ctx);
      return notAllowed(req.method, req.path);
    }
    if (at === 'secureboot') {
      if (req.method === 'GET') return ok(this.renderSecureBoot());
      if (req.method === 'PATCH') return this.patchSecureBoot(req);
      return notAllowed(req.method, req.path);
    }
    if (rest[0] === 'storage' && rest[2] === 'volumes' && this.spec.storage === 'storage') {
      const answer = this.handleVolumes(rest, req);
      if (answer) return answer;
    }
    if (req.method !== 'GET') return null;
    return this.inventory(rest);
  }

  private renderSecureBoot(): Json {
    return this.tag({
      '@odata.id': `${this.systemPath}/SecureBoot`,
      '@odata.type': '#SecureBoot.v1_1_0.SecureBoot',
      Id: 'SecureBoot',
      Name: 'UEFI Secure Boot',
      SecureBootEnable: this.secureBoot,
      SecureBootCurrentBoot: this.secureBoot ? 'Enabled' : 'Disabled',
      SecureBootMode: 'UserMode',
    }, 'other');
  }

  private inventory(rest: string[]): SimResponse | null {
    const hw = this.machine.hardware;
    const base = this.systemPath;
    const [what, id, sub, subId] = rest;
    const health = { State: 'Enabled', Health: 'OK' };
    if (what === 'resetactioninfo' && !id && this.spec.resetInfo === 'actioninfo') {
      return ok({ '@odata.id': `${base}/ResetActionInfo`, '@odata.type': '#ActionInfo.v1_1_2.ActionInfo', Id: 'ResetActionInfo', Name: 'Reset Action Info', Parameters: [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: this.spec.resetTypes }] });
    }
    if (what === 'processors') {
      if (!id) return ok(collection(`${base}/Processors`, 'ProcessorCollection', 'Processors Collection', [`${base}/Processors/CPU1`]));
      if (id === 'cpu1' && !sub) return ok(this.tag({ '@odata.id': `${base}/Processors/CPU1`, '@odata.type': '#Processor.v1_7_0.Processor', Id: 'CPU1', Name: 'Processor', Socket: 'CPU 1', ProcessorType: 'CPU', ProcessorArchitecture: hw.cpuArch === 'aarch64' ? 'ARM' : 'x86', InstructionSet: hw.cpuArch === 'aarch64' ? 'ARM-A64' : 'x86-64', Manufacturer: 'Simulated', Model: hw.cpuModel, MaxSpeedMHz: 2400, TotalCores: hw.cpus, TotalThreads: hw.cpus, Status: health }, 'other'));
      return null;
    }
    if (what === 'memory') {
      if (!id) return ok(collection(`${base}/Memory`, 'MemoryCollection', 'Memory Module Collection', [`${base}/Memory/DIMM1`]));
      if (id === 'dimm1' && !sub) return ok(this.tag({ '@odata.id': `${base}/Memory/DIMM1`, '@odata.type': '#Memory.v1_7_0.Memory', Id: 'DIMM1', Name: 'DIMM1', CapacityMiB: hw.memoryMb, MemoryDeviceType: 'DDR4', OperatingSpeedMhz: 3200, Status: health }, 'other'));
      return null;
    }
    if (what === 'ethernetinterfaces') {
      if (!id) return ok(collection(`${base}/EthernetInterfaces`, 'EthernetInterfaceCollection', 'Ethernet Interface Collection', hw.nics.map((n) => `${base}/EthernetInterfaces/${n.name}`)));
      const nic = hw.nics.find((n) => n.name.toLowerCase() === id);
      if (!nic || sub) return null;
      return ok(this.tag({ '@odata.id': `${base}/EthernetInterfaces/${nic.name}`, '@odata.type': '#EthernetInterface.v1_5_1.EthernetInterface', Id: nic.name, Name: nic.name, MACAddress: nic.mac.toUpperCase(), PermanentMACAddress: nic.mac.toUpperCase(), SpeedMbps: nic.speedMbps, LinkStatus: 'LinkUp', Status: health }, 'other'));
    }
    if (what === 'simplestorage' && this.spec.storage === 'simple') {
      if (!id) return ok(collection(`${base}/SimpleStorage`, 'SimpleStorageCollection', 'Simple Storage Collection', [`${base}/SimpleStorage/1`]));
      if (id !== '1' || sub) return null;
      return ok(this.tag({ '@odata.id': `${base}/SimpleStorage/1`, '@odata.type': '#SimpleStorage.v1_2_0.SimpleStorage', Id: '1', Name: 'Simple Storage Controller', Devices: hw.disks.map((d) => ({ Name: d.name, Manufacturer: 'Simulated', Model: d.model, CapacityBytes: d.sizeBytes, Status: health })), Status: health }, 'other'));
    }
    if (what === 'storage' && this.spec.storage === 'storage') {
      const ctl = this.spec.flavor === 'idrac' ? 'RAID.Integrated.1-1' : 'DA000000';
      const ctlPath = `${base}/Storage/${ctl}`;
      const driveId = (i: number) => (this.spec.flavor === 'idrac' ? `Disk.Bay.${i}:Enclosure.Internal.0-1:${ctl}` : String(i));
      if (!id) return ok(collection(`${base}/Storage`, 'StorageCollection', 'Storage Collection', [ctlPath]));
      if (id !== ctl.toLowerCase()) return null;
      if (!sub) return ok(this.tag({ '@odata.id': ctlPath, '@odata.type': '#Storage.v1_8_0.Storage', Id: ctl, Name: 'Storage Controller', Drives: hw.disks.map((_, i) => link(`${ctlPath}/Drives/${driveId(i)}`)), 'Drives@odata.count': hw.disks.length, Volumes: link(`${ctlPath}/Volumes`), StorageControllers: [{ '@odata.id': `${ctlPath}#/StorageControllers/0`, MemberId: '0', Name: 'RAID Controller', SupportedRAIDTypes: Object.keys(MIN_DRIVES), Status: health }], Status: health }, 'other'));
      if (sub !== 'drives' || subId === undefined || rest.length > 4) return null;
      const index = hw.disks.findIndex((_, i) => driveId(i).toLowerCase() === subId);
      if (index < 0) return null;
      const d = hw.disks[index];
      return ok(this.tag({ '@odata.id': `${ctlPath}/Drives/${driveId(index)}`, '@odata.type': '#Drive.v1_9_0.Drive', Id: driveId(index), Name: d.name, Model: d.model, SerialNumber: d.serial, CapacityBytes: d.sizeBytes, MediaType: d.rotational ? 'HDD' : 'SSD', Protocol: 'SATA', Status: health }, 'other'));
    }
    return null;
  }

  private storagePaths(): { ctlPath: string; drives: string[] } {
    const ctl = this.spec.flavor === 'idrac' ? 'RAID.Integrated.1-1' : 'DA000000';
    const ctlPath = `${this.systemPath}/Storage/${ctl}`;
    const drives = this.machine.hardware.disks.map((_, i) => `${ctlPath}/Drives/${this.spec.flavor === 'idrac' ? `Disk.Bay.${i}:Enclosure.Internal.0-1:${ctl}` : String(i)}`);
    return { ctlPath, drives };
  }

  private renderVolume(ctlPath: string, v: Volume): Json {
    return this.tag({ '@odata.id': `${ctlPath}/Volumes/${v.id}`, '@odata.type': '#Volume.v1_6_0.Volume', Id: v.id, Name: v.name, RAIDType: v.raidType, CapacityBytes: v.capacityBytes, Links: { Drives: v.drives.map(link) }, Status: { State: 'Enabled', Health: 'OK' } }, 'other');
  }

  /** Storage/{ctl}/Volumes: RAID volumes created (POST, from free drives) and deleted (DELETE) at once. */
  private handleVolumes(rest: string[], req: SimRequest): SimResponse | null {
    const { ctlPath, drives } = this.storagePaths();
    if (rest[1] !== ctlPath.split('/').pop()!.toLowerCase()) return null;
    const base = `${ctlPath}/Volumes`;
    if (rest.length === 3) {
      if (req.method === 'GET') return ok({ ...collection(base, 'VolumeCollection', 'Volume Collection', [...this.volumes.values()].map((v) => `${base}/${v.id}`)), '@Redfish.OperationApplyTimeSupport': { '@odata.type': '#Settings.v1_3_0.OperationApplyTimeSupport', SupportedValues: ['Immediate'] } });
      if (req.method !== 'POST') return notAllowed(req.method, req.path);
      const body = isObject(req.body) ? req.body : {};
      const raidType = body.RAIDType;
      if (typeof raidType !== 'string' || !(raidType in MIN_DRIVES)) return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(raidType)} for the property RAIDType is not in the list of acceptable values.`, `Use one of ${Object.keys(MIN_DRIVES).join(', ')}.`);
      const links = isObject(body.Links) && Array.isArray(body.Links.Drives) ? body.Links.Drives : [];
      const wanted = links.map((d) => (isObject(d) ? String(d['@odata.id'] ?? '') : ''));
      const used = new Set([...this.volumes.values()].flatMap((v) => v.drives.map((d) => d.toLowerCase())));
      const chosen: string[] = [];
      for (const w of wanted) {
        const drive = drives.find((d) => d.toLowerCase() === w.toLowerCase());
        if (!drive) return redfishError(400, 'Base.1.8.ResourceNotFound', `The drive ${w} is not a drive of ${ctlPath}.`);
        if (used.has(drive.toLowerCase()) || chosen.includes(drive)) return redfishError(400, 'Base.1.8.ResourceInUse', `The drive ${w} is already part of a volume.`);
        chosen.push(drive);
      }
      if (chosen.length < MIN_DRIVES[raidType]) return redfishError(400, 'Base.1.8.ActionParameterValueError', `${raidType} needs at least ${MIN_DRIVES[raidType]} drives; ${chosen.length} given in Links/Drives.`);
      const sizes = chosen.map((d) => this.machine.hardware.disks[drives.indexOf(d)].sizeBytes);
      const smallest = Math.min(...sizes);
      const usable = raidType === 'RAID0' ? smallest * chosen.length : raidType === 'RAID1' ? smallest : raidType === 'RAID5' ? smallest * (chosen.length - 1) : raidType === 'RAID6' ? smallest * (chosen.length - 2) : smallest * Math.floor(chosen.length / 2);
      const capacity = body.CapacityBytes === undefined || body.CapacityBytes === null ? usable : Number(body.CapacityBytes);
      if (!Number.isInteger(capacity) || capacity <= 0 || capacity > usable) return redfishError(400, 'Base.1.8.PropertyValueOutOfRange', `The value ${String(body.CapacityBytes)} for CapacityBytes is out of range: at most ${usable} bytes fit on the chosen drives.`);
      const id = this.spec.flavor === 'idrac' ? `Disk.Virtual.${this.nextVolume}:${ctlPath.split('/').pop()}` : String(this.nextVolume);
      this.nextVolume += 1;
      const v: Volume = { id, name: typeof body.Name === 'string' ? body.Name : `Volume ${id}`, raidType, capacityBytes: capacity, drives: chosen };
      this.volumes.set(id.toLowerCase(), v);
      return { status: 201, headers: { Location: `${base}/${id}` }, body: this.renderVolume(ctlPath, v) };
    }
    if (rest.length !== 4) return null;
    const v = this.volumes.get(rest[3]);
    if (!v) return null;
    if (req.method === 'GET') return ok(this.renderVolume(ctlPath, v));
    if (req.method === 'DELETE') { this.volumes.delete(rest[3]); return NO_CONTENT; }
    return notAllowed(req.method, req.path);
  }

  private async reset(req: SimRequest, ctx: BackendContext): Promise<SimResponse> {
    const body = isObject(req.body) ? req.body : {};
    const type = body.ResetType;
    if (typeof type !== 'string') return redfishError(400, 'Base.1.8.ActionParameterMissing', `The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.`);
    const allowed = this.resetTypes(await this.machine.powerState());
    if (!allowed.includes(type) || !isResetType(type)) {
      return redfishError(400, 'Base.1.8.ActionParameterValueNotInList', `The value ${type} for the parameter ResetType in the action ComputerSystem.Reset is not in the list of acceptable values.`, `Choose one of ${allowed.join(', ')}.`);
    }
    if (ctx.faults.for(this.ids.system)?.powerStuck) return NO_CONTENT;
    await applyReset(this.machine, type, this.opts.powerDelayMs);
    return NO_CONTENT;
  }

  private async patchSystem(req: SimRequest, power: 'on' | 'off'): Promise<SimResponse> {
    const failed = this.precondition(req, this.renderSystem(power));
    if (failed) return failed;
    const body = req.body;
    if (!isObject(body)) return redfishError(400, 'Base.1.8.MalformedJSON', 'The request body must be a JSON object.');
    for (const key of Object.keys(body)) {
      if (key === 'PowerState') return redfishError(400, 'Base.1.8.PropertyNotWritable', 'The property PowerState is a read only property and cannot be assigned a value.');
      if (key !== 'Boot' && key !== 'AssetTag' && key !== 'IndicatorLED') return redfishError(400, 'Base.1.8.PropertyUnknown', `The property ${key} is not in the list of valid properties for the resource.`);
    }
    if (body.IndicatorLED !== undefined) {
      if (body.IndicatorLED !== 'Lit' && body.IndicatorLED !== 'Blinking' && body.IndicatorLED !== 'Off') {
        return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(body.IndicatorLED)} for the property IndicatorLED is not in the list of acceptable values.`, 'Choose one of Lit, Blinking, Off.');
      }
      this.systemLed = body.IndicatorLED;
    }
    if (body.Boot === undefined) return NO_CONTENT;
    if (!isObject(body.Boot)) return redfishError(400, 'Base.1.8.PropertyValueTypeError', 'The value for the property Boot is of a different type than the property can accept.');
    const boot = body.Boot;
    if (this.inPost() && this.irmc) return irmcError('inPost');
    if (this.inPost()) {
      return redfishError(400, 'iLO.2.14.UnableToModifyDuringSystemPOST', 'The value for the property cannot be changed while the server is in POST. Please wait for the server to complete POST.', 'Retry the operation after POST completes.');
    }
    const change: Partial<BootOverride> = {};
    for (const [key, value] of Object.entries(boot)) {
      if (key === 'BootSourceOverrideTarget') {
        if (typeof value !== 'string' || !this.spec.bootTargets.includes(value)) {
          return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(value)} for the property BootSourceOverrideTarget is not in the list of acceptable values.`, `Choose one of ${this.spec.bootTargets.join(', ')}.`);
        }
        if (DEVICE_OF[value]) { change.device = DEVICE_OF[value]; this.otherTarget = null; } else { change.device = 'none'; this.otherTarget = value; }
      } else if (key === 'BootSourceOverrideEnabled') {
        if (typeof value !== 'string' || !BOOT_ENABLED.includes(value)) return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(value)} for the property BootSourceOverrideEnabled is not in the list of acceptable values.`);
        if (value === 'Disabled') { change.device = 'none'; this.otherTarget = null; } else change.persistent = value === 'Continuous';
      } else if (key === 'BootSourceOverrideMode') {
        if (!this.spec.overrideModeWritable) return redfishError(400, 'iLO.2.14.PropertyNotWritableOrUnknown', 'The property BootSourceOverrideMode is read only or unknown and cannot be modified.', 'Remove the property from the request body and resubmit the request.');
        if (value !== 'UEFI' && value !== 'Legacy') return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(value)} for the property BootSourceOverrideMode is not in the list of acceptable values.`);
        change.mode = value === 'UEFI' ? 'uefi' : 'bios';
      } else if (key === 'HttpBootUri' && this.spec.bootTargets.includes('UefiHttp')) {
        if (value !== null && (typeof value !== 'string' || !/^https?:\/\/\S+$/i.test(value))) {
          return redfishError(400, 'Base.1.8.PropertyValueFormatError', `The value ${JSON.stringify(value)} for the property HttpBootUri is of a different format than the property can accept.`, 'Give an http or https URI.');
        }
        change.httpBootUri = value;
      } else {
        return redfishError(400, 'Base.1.8.PropertyUnknown', `The property Boot/${key} is not in the list of valid properties for the resource.`);
      }
    }
    this.machine.setBootOverride(change);
    return NO_CONTENT;
  }

  private patchChassis(req: SimRequest): SimResponse {
    const body = req.body;
    if (!isObject(body)) return redfishError(400, 'Base.1.8.MalformedJSON', 'The request body must be a JSON object.');
    for (const key of Object.keys(body)) {
      if (key !== 'LocationIndicatorActive') return redfishError(400, 'Base.1.8.PropertyUnknown', `The property ${key} is not in the list of valid properties for the resource.`);
    }
    if (typeof body.LocationIndicatorActive !== 'boolean') return redfishError(400, 'Base.1.8.PropertyValueTypeError', 'The value for the property LocationIndicatorActive is of a different type than the property can accept.');
    this.chassisLocate = body.LocationIndicatorActive;
    return NO_CONTENT;
  }

  private async patchBios(req: SimRequest, ctx: BackendContext): Promise<SimResponse> {
    const failed = this.precondition(req, this.renderBiosSettings());
    if (failed) return failed;
    const body = req.body;
    if (!isObject(body) || !isObject(body.Attributes)) return redfishError(400, 'Base.1.8.PropertyMissing', 'The property Attributes is a required property and must be included in the request.');
    const attrs: Record<string, BiosValue> = {};
    for (const [name, value] of Object.entries(body.Attributes)) {
      const refused = checkBiosChange(name, value);
      if (refused) return refused;
      attrs[name] = value as BiosValue;
    }
    if (this.inPost()) return this.irmc ? irmcError('inPost') : redfishError(400, 'iLO.2.14.UnableToModifyDuringSystemPOST', 'The value for the property cannot be changed while the server is in POST. Please wait for the server to complete POST.');
    if (this.irmc) {
      // iRMC takes the change as a task (202 + Location); the settings are staged when it completes.
      const fails = ctx.faults.for(this.ids.system)?.taskFails;
      const task = ctx.tasks.create('BIOS Settings', this.opts.taskMs, () => {
        if (fails) throw new Error(fails);
        this.pendingBios = { ...(this.pendingBios ?? {}), ...attrs };
      });
      return { status: 202, headers: { Location: `/redfish/v1/TaskService/Tasks/${task.id}` } };
    }
    if (this.spec.flavor !== 'idrac') {
      this.pendingBios = { ...(this.pendingBios ?? {}), ...attrs };
      return NO_CONTENT;
    }
    if ([...this.jobs.values()].some((j) => j.state === 'Scheduled' || j.state === 'Running')) {
      return redfishError(400, 'IDRAC.2.8.LC068', 'Unable to perform the import or export operation because there are pending attribute changes or a configuration job is in progress.', 'Apply or cancel any pending attribute changes, or wait until the configuration job completes.');
    }
    this.pendingBios = { ...(this.pendingBios ?? {}), ...attrs };
    const applyTime = isObject(body['@Redfish.SettingsApplyTime']) ? body['@Redfish.SettingsApplyTime'].ApplyTime : undefined;
    if (applyTime === undefined) return NO_CONTENT;
    if (applyTime !== 'OnReset') return redfishError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(applyTime)} for @Redfish.SettingsApplyTime/ApplyTime is not supported here; use OnReset.`);
    const job = this.newJob('BIOSConfiguration', this.biosSettingsPath);
    return { status: 202, headers: { Location: `${this.managerPath}/Jobs/${job.id}` } };
  }

  private newJob(type: string, target: string | null): Job {
    const job: Job = { id: `JID_${String(randomInt(1e11, 1e12))}`, type, state: 'Scheduled', message: 'Task successfully scheduled.', target };
    this.jobs.set(job.id.toLowerCase(), job);
    return job;
  }

  private patchSecureBoot(req: SimRequest): SimResponse {
    const body = req.body;
    if (!isObject(body) || typeof body.SecureBootEnable !== 'boolean' || Object.keys(body).length !== 1) {
      return redfishError(400, 'Base.1.8.PropertyValueTypeError', 'Only SecureBootEnable (a boolean) can be changed on this resource.');
    }
    if (body.SecureBootEnable && this.machine.getBootOverride().mode !== 'uefi') {
      return redfishError(400, 'Base.1.8.ActionNotSupported', 'Secure boot can only be enabled in UEFI boot mode.', 'Switch the system to UEFI boot mode first.');
    }
    this.secureBoot = body.SecureBootEnable;
    return NO_CONTENT;
  }

  private async handleMedia(rest: string[], req: SimRequest): Promise<SimResponse | null> {
    const base = this.vmediaBase;
    if (rest.length === 0) return req.method === 'GET' ? ok(collection(base, 'VirtualMediaCollection', 'Virtual Media Services', this.spec.vmedia.map((d) => `${base}/${d.id}`))) : notAllowed(req.method, req.path);
    const current = this.renderMedia(rest[0]);
    if (!current) return null;
    const id = String(current.Id);
    const action = rest.slice(1).join('/');
    if (action === '') {
      if (req.method === 'GET') return ok(current);
      if (req.method !== 'PATCH') return notAllowed(req.method, req.path);
      const failed = this.precondition(req, current);
      if (failed) return failed;
      return this.patchMedia(id, req.body);
    }
    if (req.method !== 'POST') return notAllowed(req.method, req.path);
    const body = isObject(req.body) ? req.body : {};
    if (action === 'actions/virtualmedia.insertmedia' || action === 'actions/oem/hpe/hpeilovirtualmedia.insertvirtualmedia') {
      const image = body.Image;
      if (typeof image !== 'string' || !/^(https?|nfs|cifs|smb):\/\//i.test(image)) {
        return redfishError(400, 'Base.1.8.ActionParameterMissing', `The action VirtualMedia.InsertMedia requires the parameter Image (a URL) to be present in the request body.`);
      }
      if (this.spec.requireTransferProtocol && body.TransferProtocolType === undefined && action === 'actions/virtualmedia.insertmedia') {
        return redfishError(400, 'Base.1.5.ActionParameterMissing', `The action ${req.path} requires the parameter TransferProtocolType to be present in the request body.`, 'Supply the action with the required parameter in the request body when the request is resubmitted.');
      }
      if (current.Inserted) return redfishError(400, 'Base.1.8.ActionNotSupported', `Virtual media ${id} already has ${String(current.Image)} inserted; eject it first.`, 'Eject the media and retry.');
      await this.setSlot(id, { image, inserted: body.Inserted !== false, protocol: typeof body.TransferProtocolType === 'string' ? body.TransferProtocolType : null });
      return NO_CONTENT;
    }
    if (action === 'actions/virtualmedia.ejectmedia' || action === 'actions/oem/hpe/hpeilovirtualmedia.ejectvirtualmedia') {
      if (!current.Inserted && this.spec.flavor === 'idrac') return redfishError(400, 'IDRAC.2.8.VRM0009', 'Virtual Media is detached or Virtual Media devices are already in use.', 'Insert media before ejecting it.');
      await this.setSlot(id, { image: null, inserted: false, protocol: null, bootOnNextReset: false });
      return NO_CONTENT;
    }
    return null;
  }

  private async patchMedia(id: string, body: unknown): Promise<SimResponse> {
    if (!isObject(body)) return redfishError(400, 'Base.1.8.MalformedJSON', 'The request body must be a JSON object.');
    const change: Partial<MediaSlot> = {};
    for (const [key, value] of Object.entries(body)) {
      if (key === 'Image') change.image = typeof value === 'string' && value !== '' ? value : null;
      else if (key === 'Inserted') change.inserted = value === true;
      else if (key === 'WriteProtected' || key === 'TransferProtocolType' || key === 'TransferMethod') continue;
      else if (key === 'Oem' && this.spec.flavor === 'ilo' && isObject(value) && isObject(value.Hpe) && typeof value.Hpe.BootOnNextServerReset === 'boolean') {
        change.bootOnNextReset = value.Hpe.BootOnNextServerReset;
      } else return redfishError(400, 'Base.1.8.PropertyUnknown', `The property ${key} is not in the list of valid properties for the resource.`);
    }
    if (change.image && change.inserted === undefined) change.inserted = true;
    await this.setSlot(id, change);
    return NO_CONTENT;
  }

  private async handleDell(rest: string[], req: SimRequest, ctx: BackendContext): Promise<SimResponse | null> {
    const at = rest.join('/');
    if (at === 'jobs') {
      if (req.method === 'GET') {
        const members = [...this.jobs.values()].map((j) => this.renderJob(j));
        return ok({ '@odata.id': `${this.managerPath}/Jobs`, '@odata.type': '#DellJobCollection.DellJobCollection', Name: 'JobQueue', Members: members, 'Members@odata.count': members.length });
      }
      if (req.method !== 'POST') return notAllowed(req.method, req.path);
      const target = isObject(req.body) ? req.body.TargetSettingsURI : undefined;
      if (typeof target !== 'string') return redfishError(400, 'Base.1.8.PropertyMissing', 'The property TargetSettingsURI is a required property and must be included in the request.');
      if (!this.pendingBios) return redfishError(400, 'IDRAC.2.8.SYS011', 'Pending configuration values are already committed or there are none to commit.', 'Make configuration changes before creating a job.');
      if ([...this.jobs.values()].some((j) => j.state === 'Scheduled')) return redfishError(400, 'IDRAC.2.8.RAC0679', 'Pending configuration values are already committed.', 'Wait for the scheduled job to run.');
      const job = this.newJob('BIOSConfiguration', target);
      return { status: 200, headers: { Location: `${this.managerPath}/Jobs/${job.id}` } };
    }
    if (rest[0] === 'jobs' && rest.length === 2) {
      const job = this.jobs.get(rest[1]);
      if (job) {
        if (req.method === 'GET') return ok(this.renderJob(job));
        if (req.method === 'DELETE') {
          this.jobs.delete(rest[1]);
          if (job.state === 'Scheduled') this.pendingBios = null;
          return ok({});
        }
        return notAllowed(req.method, req.path);
      }
      const task = ctx.tasks.get(rest[1]);
      if (task && req.method === 'GET') {
        const state = task.state === 'Completed' ? 'Completed' : task.state === 'Exception' ? 'Failed' : 'Running';
        return ok(this.renderJob({ id: task.id, type: 'ImportConfiguration', state, message: task.message, target: null }));
      }
      return null;
    }
    if (at === 'actions/oem/eid_674_manager.importsystemconfiguration') {
      if (req.method !== 'POST') return notAllowed(req.method, req.path);
      return this.importConfiguration(req, ctx);
    }
    return null;
  }

  /** iDRAC's Server Configuration Profile import: the OEM way to set a one-time boot from virtual media. */
  private importConfiguration(req: SimRequest, ctx: BackendContext): SimResponse {
    const body = isObject(req.body) ? req.body : {};
    const buffer = body.ImportBuffer;
    if (typeof buffer !== 'string' || !isObject(body.ShareParameters)) {
      return redfishError(400, 'Base.1.8.ActionParameterMissing', 'The action ImportSystemConfiguration requires the parameters ShareParameters and ImportBuffer.');
    }
    const attrs = new Map<string, string>();
    for (const m of buffer.matchAll(/<Attribute\s+Name="([^"]+)"\s*>([^<]*)<\/Attribute>/g)) attrs.set(m[1], m[2].trim());
    if (attrs.size === 0) return redfishError(400, 'IDRAC.2.8.SYS041', 'Unable to parse the ImportBuffer: no Attribute elements found.');
    const first = attrs.get('ServerBoot.1#FirstBootDevice');
    if (first !== undefined && !SCP_DEVICE[first]) return redfishError(400, 'IDRAC.2.8.SYS045', `The value ${first} of ServerBoot.1#FirstBootDevice is not supported.`);
    const id = `JID_${String(randomInt(1e11, 1e12))}`;
    const once = attrs.get('ServerBoot.1#BootOnce');
    ctx.tasks.create('Import Configuration', this.opts.taskMs, () => {
      // As on iDRAC, values are checked when the job runs: the task ends in Exception.
      if (once !== undefined && once !== 'Enabled' && once !== 'Disabled') throw new Error(`SYS055: The value ${once} of ServerBoot.1#BootOnce is not valid; use Enabled or Disabled.`);
      if (first) this.machine.setBootOverride({ device: SCP_DEVICE[first], persistent: attrs.get('ServerBoot.1#BootOnce') !== 'Enabled' });
      const mode = attrs.get('BIOS.Setup.1-1#BootMode');
      if (mode) this.machine.setBootOverride({ mode: /^uefi$/i.test(mode) ? 'uefi' : 'bios' });
    }, id);
    return { status: 202, headers: { Location: `/redfish/v1/TaskService/Tasks/${id}` } };
  }
}
