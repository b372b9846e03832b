// The driver contract. As in Ironic, a hardware type is a list of interface implementations, one
// chosen per node for each interface. An implementation is a plain object that satisfies one of
// the interfaces below: it validates, then does one verb per method. It never touches the
// database: it gets a task context and returns results or throws typed errors (common/errors.ts).
import type { AnvilConfig } from '../common/config.ts';
import type { Logger } from '../common/logger.ts';
import type { NodeRecord, InterfaceName } from '../db/nodes.ts';
import type { PortRecord } from '../db/ports.ts';
import type { BootRecord, RamdiskPurpose } from '../db/boot-records.ts';
import type { RequestedStep } from '../db/requests.ts';
import type { NetworkRecord } from '../db/networks.ts';
import type { PortgroupRecord } from '../db/portgroups.ts';
import type { VolumeConnectorRecord, VolumeTargetRecord } from '../db/volumes.ts';

export type { BootRecord, InterfaceName, RamdiskPurpose };
type Json = Record<string, unknown>;

/** Ironic's boot devices (ironic/common/boot_devices.py): what the API accepts and management interfaces set. */
export const BOOT_DEVICES = ['pxe', 'disk', 'cdrom', 'bios', 'safe', 'wanboot', 'uefi http'] as const;
export type BootDevice = (typeof BOOT_DEVICES)[number];
export type SettablePowerState = 'power on' | 'power off' | 'soft power off';
export type BootMode = 'uefi' | 'bios';

/** What the conductor hands a driver: the locked node and what it may need around it. */
export interface TaskContext {
  /** The locked node as last saved (save() keeps it current). */
  readonly node: NodeRecord;
  readonly ports: readonly PortRecord[];
  /** The node's own interface implementations, so one interface can use another (deploy uses power). */
  readonly driver: ResolvedDriver;
  readonly logger: Logger;
  readonly config: AnvilConfig;
  /** Aborted when the conductor stops or the operation is aborted. */
  readonly signal: AbortSignal;
  /** Saves fields of the node (progress in driver_internal_info, see internal-info.ts; discovered properties...). */
  save(fields: Partial<NodeRecord>): Promise<void>;
  /** A line in the node's history for the person watching (`baremetal node history list`). */
  note(message: string, severity?: 'info' | 'warning' | 'error'): Promise<void>;
  /** Replaces what the node's MACs boot from the network (db/boot-records.ts); [] withdraws it. The boot interface's to call. */
  setBootRecords(records: readonly BootRecord[]): Promise<void>;
  /** Replaces the node's cached BIOS settings (db/bios.ts, GET /v1/nodes/{id}/bios). The bios interface's to call. */
  saveBiosSettings(settings: readonly BiosSetting[]): Promise<void>;
  /** Records the firmware versions the BMC reports (db/firmware.ts, GET /v1/nodes/{id}/firmware). The firmware interface's to call. */
  saveFirmwareComponents(components: readonly FirmwareComponent[]): Promise<void>;
  /** The node's volume connectors and targets (API 1.32), boot volume (boot_index 0) first: what its storage interface reads (the conductor's contexts have it; without it, none). */
  volumes?(): Promise<NodeVolumes>;
  /**
   * Deletes the node's volume targets, as Ironic's tear_down_storage_configuration does when an
   * instance is torn down (the next instance brings its own). The deploy interface's to call.
   */
  deleteVolumeTargets?(): Promise<void>;
  /** The node's port groups, VIFs and a network lookup, for the network interface (the conductor's contexts have it). */
  wiring?(): Promise<NodeWiring>;
  /**
   * Has the conductor handle a heart-beat of the node's running agent (its recorded URL and token)
   * as soon as this work ends, rather than at the agent's next one: fast track's steps start at once.
   */
  resumeAgent?(): Promise<void>;
}

/** A VIF: one of the node's networks, on a port or a port group, with the address it got from the network's subnet. */
export interface Vif {
  network: NetworkRecord;
  port_id: number | null;
  portgroup_id: number | null;
  address: string | null;
}

export interface NodeWiring {
  portgroups: readonly PortgroupRecord[];
  vifs: readonly Vif[];
  /** A network by UUID or name (driver_info.cleaning_network, the configured defaults). */
  findNetwork(ident: string): Promise<NetworkRecord | undefined>;
  /** The node's ports as they are now (trait-based networking regroups them within a task). */
  currentPorts(): Promise<PortRecord[]>;
  /** Trait-based networking: an LACP port group of these ports with dynamic_portgroup true; its id. */
  createDynamicPortgroup(portIds: readonly number[], physicalNetwork: string | null): Promise<number>;
  /** Puts the node's VIF of a network on a port or a port group. */
  moveVif(networkId: number, to: { port_id: number | null; portgroup_id: number | null }): Promise<void>;
  /** Undoes the node's dynamic port groups (their VIFs back on a member port); how many there were. */
  removeDynamicPortgroups(): Promise<number>;
}

/** A firmware component as read from the BMC (`bios`, `bmc`); last_version_flashed when firmware.update just flashed it. */
export interface FirmwareComponent {
  component: string;
  current_version: string;
  last_version_flashed?: string;
  /** What the component is, as the BMC names it (API 1.114); absent when the BMC does not say. */
  vendor?: string;
  model?: string;
  serial_number?: string;
}

/**
 * One BIOS setting as Ironic caches it (BIOSSetting): the value as a string, and the fields of the
 * BMC's attribute registry (API 1.74), null where the registry says nothing.
 */
export interface BiosSetting {
  name: string;
  value: string | null;
  attribute_type: string | null;
  allowable_values: string[] | null;
  lower_bound: number | null;
  upper_bound: number | null;
  min_length: number | null;
  max_length: number | null;
  read_only: boolean | null;
  reset_required: boolean | null;
  unique: boolean | null;
}

/** A node's volume connectors and targets (db/volumes.ts). */
export interface NodeVolumes {
  connectors: readonly VolumeConnectorRecord[];
  targets: readonly VolumeTargetRecord[];
}

/** An iSCSI LUN a node boots from instead of a disk Anvil wrote (boot from volume), as its storage interface reads it. */
export interface IscsiBootVolume {
  /** The volume target's UUID. */
  target: string;
  /** Where the target listens; more than one: multipath. A null port is iSCSI's default (3260). */
  portals: { host: string; port: number | null }[];
  iqn: string;
  lun: number;
  /** The node's initiator name (its volume connector of type `iqn`). */
  initiatorIqn: string;
  chap: { username: string; password: string } | null;
}

/** What the node's storage interface makes of its volumes (drivers/storage/node-storage.ts). */
export interface NodeStorage {
  volumes: NodeVolumes;
  /** false: the node boots a volume, its deploy writes no image (Ironic's should_write_image). */
  writesImage: boolean;
}

/** Whether an interface is usable for a node, as `GET /v1/nodes/{id}/validate` reports it. */
export interface DriverInterface {
  /** The implementation's name as it appears in `*_interface` fields (e.g. `redfish`, `fake`). */
  readonly name: string;
  /**
   * Throws MissingParameter / InvalidInput with a message naming the key when the node can't use it.
   * `storage`: the node's volumes as its storage interface reads them, given where they matter
   * (storage and deploy interfaces, in the API's validate and the deploy).
   */
  validate(node: NodeRecord, ports: readonly PortRecord[], storage?: NodeStorage): void | Promise<void>;
  /** driver_info keys this implementation reads, with a description (GET /v1/drivers/{name}/properties). */
  readonly properties?: Readonly<Record<string, string>>;
  /** The clean, deploy and service steps it implements (see StepDefinition). */
  readonly steps?: readonly StepDefinition[];
}

export interface PowerInterface extends DriverInterface {
  /** null only for drivers that cannot know (fake hardware never powered by Anvil). */
  getPowerState(ctx: TaskContext): Promise<'power on' | 'power off' | null>;
  /** Changes the power state and waits until the BMC reports it (or timeoutSec passes: throws). */
  setPowerState(ctx: TaskContext, target: SettablePowerState, timeoutSec?: number): Promise<void>;
  reboot(ctx: TaskContext, soft: boolean, timeoutSec?: number): Promise<void>;
}

export interface BootDeviceSetting {
  boot_device: BootDevice | null;
  persistent: boolean | null;
}

export interface SensorReading {
  [sensorType: string]: Record<string, Json>;
}

/** Virtual media device kinds of the vmedia API (Ironic's boot_devices.VMEDIA_DEVICES). */
export const VMEDIA_DEVICE_TYPES = ['disk', 'cdrom', 'floppy'] as const;
export type VmediaDeviceType = (typeof VMEDIA_DEVICE_TYPES)[number];

/** One virtual media device as GET /v1/nodes/{id}/vmedia shows it. */
export interface VirtualMedia {
  image: string | null;
  inserted: boolean;
  media_types: string[];
}

/** Indicator states and the components that carry indicators (Ironic's indicator_states, components). */
export const INDICATOR_STATES = ['ON', 'OFF', 'BLINKING', 'UNKNOWN'] as const;
export type IndicatorState = (typeof INDICATOR_STATES)[number];
export const INDICATOR_COMPONENTS = ['system', 'chassis', 'disk', 'power', 'nic'] as const;
export type IndicatorComponent = (typeof INDICATOR_COMPONENTS)[number];
/** What a node's management interface offers: per component, its indicators by name. */
export type SupportedIndicators = Partial<Record<IndicatorComponent, Record<string, { readonly: boolean; states: IndicatorState[] }>>>;

/** The health of a node's hardware as its BMC judges it (Ironic's health_states, API 1.109). */
export type NodeHealth = 'OK' | 'Warning' | 'Critical';

export interface ManagementInterface extends DriverInterface {
  supportedBootDevices(ctx: TaskContext): Promise<BootDevice[]>;
  getBootDevice(ctx: TaskContext): Promise<BootDeviceSetting>;
  setBootDevice(ctx: TaskContext, device: BootDevice, persistent: boolean): Promise<void>;
  getBootMode?(ctx: TaskContext): Promise<BootMode | null>;
  setBootMode?(ctx: TaskContext, mode: BootMode): Promise<void>;
  setSecureBoot?(ctx: TaskContext, enabled: boolean): Promise<void>;
  getSensorsData?(ctx: TaskContext): Promise<SensorReading>;
  /** The BMC's verdict on the hardware, null when it gives none; read by the power sync. */
  getHealth?(ctx: TaskContext): Promise<NodeHealth | null>;
  injectNmi?(ctx: TaskContext): Promise<void>;
  /** The vmedia API (1.89/1.93): what the BMC has attached, attach an image by URL, detach by kind (all when none given). */
  getVirtualMedia?(ctx: TaskContext): Promise<VirtualMedia[]>;
  attachVirtualMedia?(ctx: TaskContext, device: VmediaDeviceType, imageUrl: string): Promise<void>;
  detachVirtualMedia?(ctx: TaskContext, devices?: readonly VmediaDeviceType[]): Promise<void>;
  /** Indicator LEDs (1.63): what there is, and the state of one (Ironic's get_supported_indicators, get/set_indicator_state). */
  getSupportedIndicators?(ctx: TaskContext): Promise<SupportedIndicators>;
  getIndicatorState?(ctx: TaskContext, component: IndicatorComponent, name: string): Promise<IndicatorState>;
  setIndicatorState?(ctx: TaskContext, component: IndicatorComponent, name: string, state: IndicatorState): Promise<void>;
}

export interface BootInterface extends DriverInterface {
  /** Makes the node's next boot load the deploy ramdisk (PXE files, virtual media...) and sets the boot device. */
  prepareRamdisk(ctx: TaskContext, purpose: RamdiskPurpose): Promise<void>;
  cleanUpRamdisk(ctx: TaskContext): Promise<void>;
  /** Makes the node boot its deployed instance (local disk, or instance_info.boot_iso where bootsInstanceIso). */
  prepareInstance(ctx: TaskContext): Promise<void>;
  cleanUpInstance(ctx: TaskContext): Promise<void>;
  /** Whether prepareInstance boots instance_info.boot_iso, a live ISO (the ramdisk deploy interface needs it). */
  readonly bootsInstanceIso?: boolean;
}

/** `done` finishes the operation; `wait` parks the node in the matching wait state until heartbeats move it on. */
export type Outcome = 'done' | 'wait';

/** A step as the user names it (deploy_steps, clean_steps): the request's, db/requests.ts. */
export type Step = RequestedStep;

export type StepKind = 'deploy' | 'clean' | 'service';

/**
 * A step an interface implementation offers, declared on it as data (Ironic's @clean_step,
 * @deploy_step, @service_step). The conductor collects the steps of all the node's interfaces and
 * those the ramdisk agent reports, plans them with the request's steps, sorts them as Ironic does
 * and runs them (services/conductor/steps.ts). BIOS, RAID and firmware steps (apply_configuration,
 * factory_reset, create_configuration, delete_configuration, update) go in the `steps` of their
 * family's bios, raid and firmware implementations (a bios.ts beside the family's power.ts);
 * network-switch steps in the network interface's, as switch_to_tenant_network is in drivers/noop.
 */
export interface StepDefinition {
  kind: StepKind;
  step: string;
  /** Order among automated steps, highest first; 0: only when asked for (manual cleaning, deploy_steps). */
  priority: number;
  /** The arguments it takes (Ironic's argsinfo); a user's args are checked against them. */
  argsinfo?: Readonly<Record<string, { description: string; required?: boolean }>>;
  /** Needs the node booted into the ramdisk (Ironic's requires_ramdisk). */
  requiresRamdisk: boolean;
  /** May be aborted while it runs (Ironic's abortable). */
  abortable: boolean;
  /** Runs the step in the conductor, the node locked. */
  run?(ctx: TaskContext, args: Json): Promise<void>;
  /** Or the agent runs it: the arguments the conductor adds (write_image's image_info). */
  agentArgs?(ctx: TaskContext, args: Json): Promise<Json>;
}

/** A step in a node's plan, as the step engine runs it. */
export interface PlannedStep {
  interface: string;
  step: string;
  priority: number;
  args: Json;
  /** Run by the agent (execute_<kind>_step) rather than by the conductor. */
  agent: boolean;
}

/** The steps a ramdisk agent runs (ironic-python-agent's get_<kind>_steps, execute_<kind>_step). */
export interface AgentSteps {
  /** What the agent offers for `kind`, with the priorities this conductor gives them. */
  offered(ctx: TaskContext, kind: StepKind): Promise<PlannedStep[]>;
  /** Starts a step on the agent; false when the agent is busy (the next heart-beat tries again). */
  start(ctx: TaskContext, kind: StepKind, step: PlannedStep): Promise<boolean>;
  /** Whether the step started last is still running; throws with the agent's error when it failed. */
  status(ctx: TaskContext, kind: StepKind, step: PlannedStep): Promise<'running' | 'done'>;
}

/** The conductor's step engine, handed to a deploy interface that runs an operation's steps through the agent. */
export interface StepRunner {
  /** Plans at the first call (the interfaces' steps, the agent's, the request's), then runs steps until one waits for the agent. */
  run(kind: StepKind, agent: AgentSteps): Promise<Outcome>;
}

/** What a deploy request carries to the deploy interface. */
export interface DeployArgs {
  /** The user's deploy_steps: priority and argument overrides, or steps the agent offers. */
  steps?: Step[];
  /** The config drive asked for (a URL, base64 gzipped ISO, or its contents); a rebuild without one keeps the instance's. */
  configdrive?: string | Json;
}

/** What a clean request carries to the deploy interface. */
export interface CleanArgs {
  /** Manual cleaning's steps, run in this order; undefined for automated cleaning. */
  steps?: Step[];
  /** Clean without booting the ramdisk (API 1.70). */
  disableRamdisk?: boolean;
}

export interface Heartbeat {
  callback_url: string;
  agent_version?: string;
  agent_status?: string;
  agent_status_message?: string;
}

export interface DeployInterface extends DriverInterface {
  /** The node is `deploying`, with what the request asked for. */
  deploy(ctx: TaskContext, args: DeployArgs): Promise<Outcome>;
  /** The node is `deleting`: power off and undo the instance's boot setup. */
  tearDown(ctx: TaskContext): Promise<void>;
  /** The node is `cleaning`: automated cleaning when `args.steps` is undefined. */
  clean(ctx: TaskContext, args: CleanArgs): Promise<Outcome>;
  /**
   * An agent heart-beat while the node waits (`wait call-back`, `clean wait`, `rescue wait`,
   * `service wait`); `steps` runs the operation's steps.
   */
  heartbeat(ctx: TaskContext, heartbeat: Heartbeat, steps: StepRunner): Promise<Outcome>;
  /** Abort of a wait state: stop the agent's work; the node then goes to the failure state. */
  abort?(ctx: TaskContext): Promise<void>;
  /**
   * The node is `servicing` with steps that need the agent (Ironic's prepare_service): boot the
   * ramdisk; its heart-beats in `service wait` run the steps. Without it, servicing runs only
   * out-of-band steps.
   */
  service?(ctx: TaskContext): Promise<Outcome>;
  /**
   * Ends servicing in the ramdisk (Ironic's tear_down_service): the ramdisk goes, the instance boots
   * again. Called when the steps are done, and on abort from `service wait` or `service failed`.
   */
  tearDownService?(ctx: TaskContext): Promise<void>;
}

/**
 * Rescue (Ironic's RescueInterface): boot the node into a rescue ramdisk whose `rescue` user logs in
 * with the password the user gave (the conductor holds only its sha512-crypt hash,
 * instance_info.hashed_rescue_password), and back into its instance. Interfaces without rescue
 * (no-rescue) refuse the verbs.
 */
export interface RescueInterface extends DriverInterface {
  /** The node is `rescuing`: boot the rescue ramdisk; 'wait' parks it in `rescue wait` for the agent. */
  rescue?(ctx: TaskContext): Promise<Outcome>;
  /** An agent heart-beat in `rescue wait`: hand the agent the password's hash, take the ramdisk's boot setup down. */
  finishRescue?(ctx: TaskContext): Promise<void>;
  /** The node is `unrescuing`: the rescue ramdisk goes, the instance boots again. */
  unrescue?(ctx: TaskContext): Promise<void>;
  /** Abort of `rescue wait`, or a rescue that failed: the ramdisk's boot setup goes (the node is then powered off). */
  cleanUp?(ctx: TaskContext): Promise<void>;
}

export interface InspectedPort {
  address: string;
  pxe_enabled?: boolean;
  local_link_connection?: Json;
  physical_network?: string;
}

export interface InspectionResult {
  /** Merged into node.properties (cpus, cpu_arch, memory_mb, local_gb, capabilities...). */
  properties?: Json;
  /** Stored as the node's inventory (GET /v1/nodes/{id}/inventory), IPA-shaped. */
  inventory?: Json;
  plugin_data?: Json;
  /** NICs found: a port is created for each new MAC. */
  ports?: InspectedPort[];
}

export type InspectOutcome = { outcome: 'done'; result: InspectionResult } | { outcome: 'wait' };

export interface InspectInterface extends DriverInterface {
  inspect(ctx: TaskContext): Promise<InspectOutcome>;
  /** Data the ramdisk posted to /v1/continue_inspection while the node was in `inspect wait`. */
  continueInspection?(ctx: TaskContext, data: Json): Promise<InspectionResult>;
  abort?(ctx: TaskContext): Promise<void>;
}

/** What a node's switch ports are on: a node-wide network of its kind, or its tenant networks (its VIFs). */
export type NetworkPurpose = 'provisioning' | 'cleaning' | 'rescuing' | 'inspection' | 'servicing' | 'tenant';

export interface NetworkInterface extends DriverInterface {
  /**
   * Moves the node's switch ports to the network of `purpose` (Ironic's add_provisioning_network,
   * add_cleaning_network, configure_tenant_networks...), whole or not at all. The conductor calls
   * it as the node enters deploying, deleting and cleaning; switch_to_tenant_network calls it with
   * 'tenant'. No-op interfaces leave it out.
   */
  attach?(ctx: TaskContext, purpose: NetworkPurpose): Promise<void>;
  /** The purpose the node's ports were last moved to (undefined: never, or not tracked). */
  currentPurpose?(ctx: TaskContext): NetworkPurpose | undefined;
}

/** What GET /v1/nodes/{id}/states/console shows of an enabled console (Ironic's console_info); the fake console's is empty, as Ironic's. */
export type ConsoleInfo = { type: 'tcp' | 'shellinabox' | 'socat' | 'vnc'; url: string } | Record<string, never>;

/**
 * A serial console (Ironic's ConsoleInterface): start serves it (a proxy process on the conductor's
 * host) and answers where it listens; stop ends it. Interfaces without start (no-console) refuse
 * console requests. `running` says whether this process serves the node's console now, so a
 * restarted or new owner conductor starts again the consoles recorded as enabled.
 */
export interface ConsoleInterface extends DriverInterface {
  start?(ctx: TaskContext): Promise<ConsoleInfo>;
  stop?(ctx: TaskContext): Promise<void>;
  running?(node: NodeRecord): boolean;
}

/** Interfaces that only validate (the no-op ones). */
export type GenericInterface = DriverInterface;

/**
 * Storage (Ironic's StorageInterface): which of the node's volumes it boots. `noop` knows none;
 * `external` (drivers/storage) boots the iSCSI volume target of boot_index 0, managed outside
 * Anvil, and its validate refuses volumes it cannot boot.
 */
export interface StorageInterface extends DriverInterface {
  /** Ironic's should_write_image: false when the node boots a volume instead. Never throws; absent: true. */
  shouldWriteImage?(node: NodeRecord, volumes: NodeVolumes): boolean;
  /** The volume a node that writes no image boots; throws InvalidInput naming what is missing, as validate does. */
  bootVolume?(node: NodeRecord, volumes: NodeVolumes): IscsiBootVolume;
}

export interface BiosInterface extends DriverInterface {
  /**
   * Reads the BIOS settings (with their registry) from the BMC and saves them (ctx.saveBiosSettings),
   * as Ironic's cache_bios_settings; the conductor calls it after verification, inspection and
   * before cleaning and servicing. No-op implementations leave it out.
   */
  cacheSettings?(ctx: TaskContext): Promise<void>;
}

/** A vendor passthru method (Ironic's @passthru): called through /v1/nodes/{id}/vendor_passthru?method=NAME. */
export interface VendorMethod {
  /** The HTTP methods it answers (GET, POST, PUT, PATCH, DELETE). */
  httpMethods: readonly string[];
  description: string;
  /** The request body's keys it reads; a required one missing is refused before the call. */
  argsinfo?: Readonly<Record<string, { description: string; required?: boolean }>>;
  /** Its answer (200 with it as the body; nothing: 204). */
  run(ctx: TaskContext, args: Json): Promise<unknown>;
}

export interface VendorInterface extends DriverInterface {
  readonly methods?: Readonly<Record<string, VendorMethod>>;
}

export interface RaidInterface extends DriverInterface {
  /** The keys a logical disk of target_raid_config takes, with descriptions (GET /v1/drivers/{d}/raid/logical_disk_properties). */
  readonly logicalDiskProperties?: Readonly<Record<string, string>>;
  /** Throws InvalidInput naming the bad key of a target_raid_config (PUT /v1/nodes/{id}/states/raid). */
  validateRaidConfig?(target: Json): void;
}

export interface FirmwareInterface extends DriverInterface {
  /** Reads the firmware components' versions from the BMC and records them (Ironic's cache_firmware_components). */
  cacheComponents?(ctx: TaskContext): Promise<void>;
}

export interface InterfaceTypes {
  power: PowerInterface;
  management: ManagementInterface;
  boot: BootInterface;
  deploy: DeployInterface;
  inspect: InspectInterface;
  bios: BiosInterface;
  console: ConsoleInterface;
  firmware: FirmwareInterface;
  network: NetworkInterface;
  raid: RaidInterface;
  rescue: RescueInterface;
  storage: StorageInterface;
  vendor: VendorInterface;
}

export type ResolvedDriver = { readonly [K in InterfaceName]: InterfaceTypes[K] } & { readonly hardwareType: HardwareType };

/** A hardware type: for each interface, the implementation names it supports, the default first. */
export interface HardwareType {
  readonly name: string;
  readonly interfaces: { readonly [K in InterfaceName]: readonly string[] };
  /**
   * Also every other implementation Anvil has, after the listed ones (Ironic's fake-hardware
   * accepts any enabled implementation: a lab's fake node may boot with ipxe, and so on).
   */
  readonly acceptsEveryImplementation?: boolean;
}

/** What a driver family folder exports (drivers/<family>/index.ts). */
export interface DriverFamily {
  readonly implementations: { readonly [K in InterfaceName]?: readonly InterfaceTypes[K][] };
  readonly hardwareTypes: readonly HardwareType[];
  /**
   * Lets go of what the family keeps across nodes (client caches, BMC sessions, sockets, servers),
   * when the process's last conductor stops (registry.ts holdDriverFamilies). A later call opens anew.
   */
  close?(): Promise<void>;
}
