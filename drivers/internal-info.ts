// Every key of a node's driver_internal_info, with its owner (the one module that writes it) and
// its readers. The bag holds progress only: what the API asks for travels as a typed request
// (db/requests.ts), and what a node boots is the boot record (db/boot-records.ts). Nothing
// outside this module reads or writes the raw bag; GET /v1/nodes and the agent's lookup show it
// whole, as Ironic does.
import type { NodeRecord } from '../db/nodes.ts';
import type { BootDevice, NetworkPurpose, PlannedStep, RamdiskPurpose, StepKind, VmediaDeviceType, IndicatorState } from './interfaces.ts';
import type { SwitchBatch } from './switch/types.ts';

type Json = Record<string, unknown>;

/** Progress of one kind of steps (deploy, clean): the plan, where it stands, the agent step in flight. */
type StepProgress<K extends StepKind> = {
  /** Owner and reader: the conductor's step engine (services/conductor/steps.ts), which plans at the first heart-beat. */
  [P in `${K}_steps`]?: PlannedStep[];
} & {
  /** Owner and reader: the step engine; the index of the next step to run. */
  [P in `${K}_step_index`]?: number;
} & {
  /** Owner and reader: the step engine; the index of the agent step the agent runs now. */
  [P in `${K}_step_in_flight`]?: number;
} & {
  /** Owner and reader: the in-band agent steps (drivers/in-band/steps.ts): from get_<kind>_steps, sent back with each execute_<kind>_step. */
  [P in `${K}_hardware_manager_version`]?: Json;
};

export type InternalInfo = StepProgress<'deploy'> & StepProgress<'clean'> & StepProgress<'service'> & {
  /** Owner: the conductor's heartbeat task (services/conductor/node-tasks.ts); readers: the in-band agent client, the ramdisk API's heartbeat check. */
  agent_url?: string;
  /** Owner: the heartbeat task; readers: operators (GET /v1/nodes), the heartbeat task itself (kept when a heartbeat omits it). */
  agent_version?: string;
  /** Owner: the heartbeat task; readers: operators (GET /v1/nodes). */
  agent_last_heartbeat?: number;
  /** Owner: the ramdisk API's first lookup of a ramdisk boot; readers: the ramdisk API's heartbeat check, the heartbeat task (is the token it was queued with still the node's?), the in-band agent client. */
  agent_secret_token?: string;
  /** Owner: the ramdisk boot of the in-band interfaces (drivers/in-band/ramdisk-boot.ts); reader: fast track (drivers/in-band/fast-track.ts), which reuses only an agent the node's boot interface booted. */
  agent_boot_interface?: string;
  /** Owner and reader: the fake management interface (drivers/fake), which has no BMC to ask. */
  fake_boot_device?: BootDevice;
  fake_boot_persistent?: boolean;
  /** Owner and reader: the fake management interface; the image attached to each virtual media device (POST /v1/nodes/{id}/vmedia). */
  fake_vmedia?: Partial<Record<VmediaDeviceType, string>>;
  /** Owner and reader: the fake management interface; the state set of each of its indicators, by `name@component`. */
  fake_indicators?: Record<string, IndicatorState>;
  /**
   * Owner: the Redfish virtual-media and redfish-https boot interfaces, while the deploy ISO is
   * mounted or is the UEFI HTTP boot URI (without its signature), with `iso` the image cache key
   * of the node's ISO they built, deleted at clean-up; readers: operators. (Network boots are boot records.)
   */
  boot?: { purpose: RamdiskPurpose; via: 'virtual-media' | 'uefi-http'; image: string; iso?: string };
  /** Owner and reader: the Redfish virtual-media and redfish-https boot interfaces: the image cache key of the instance ISO it built (instance_info kernel + ramdisk) and mounted, deleted at the instance's clean-up. */
  instance_iso?: string;
  /** Owner: the in-band deploy interfaces (drivers/in-band/direct.ts), while servicing runs in the agent ramdisk; reader: their servicing tear-down. */
  service_ramdisk?: true;
  /** Owner and reader: the IPMI management interface: a boot device to set again before each power on (driver_info ipmi_force_boot_device). */
  ipmi_forced_boot_device?: { device: BootDevice; persistent: boolean };
  /** Owner: the conductor's set_console_mode task (services/conductor/console.ts), from the console interface's start; reader: GET /states/console. */
  console_info?: { type?: string; url?: string };
  /**
   * Owner and reader: the switch network interface (drivers/switch): the purpose the node's switch
   * ports were last moved to, and what was applied to each switch (the undo of the next change).
   */
  network_switch_state?: { purpose: NetworkPurpose; batches: Record<string, SwitchBatch> };
};

export type InternalKey = keyof InternalInfo;

/** Keys that belong to one boot of the agent ramdisk: a new boot gets a new token (Ironic's wipe_token_and_url). */
export const AGENT_BOOT_KEYS: readonly InternalKey[] = ['agent_secret_token', 'agent_url', 'agent_last_heartbeat', 'agent_version', 'agent_boot_interface'];

/** The progress keys of one kind of steps. */
export function stepProgressKeys<K extends StepKind>(kind: K) {
  return {
    steps: `${kind}_steps`,
    index: `${kind}_step_index`,
    inFlight: `${kind}_step_in_flight`,
    agentVersion: `${kind}_hardware_manager_version`,
  } as const satisfies Record<string, InternalKey>;
}

/** The node's driver_internal_info, typed. */
export function internalInfo(node: Pick<NodeRecord, 'driver_internal_info'>): Readonly<InternalInfo> {
  return node.driver_internal_info as InternalInfo;
}

/** The fields that save `changes` in the node's driver_internal_info (ctx.save(withInternalInfo(...))). */
export function withInternalInfo(node: Pick<NodeRecord, 'driver_internal_info'>, changes: InternalInfo): Pick<NodeRecord, 'driver_internal_info'> {
  return { driver_internal_info: { ...node.driver_internal_info, ...changes } };
}

/** The fields that drop `keys` from the node's driver_internal_info, and set `changes`. */
export function withoutInternalInfo(node: Pick<NodeRecord, 'driver_internal_info'>, keys: readonly InternalKey[], changes: InternalInfo = {}): Pick<NodeRecord, 'driver_internal_info'> {
  const info: Json = { ...node.driver_internal_info };
  for (const key of keys) delete info[key];
  return { driver_internal_info: { ...info, ...changes } };
}
