// BMO's Prepare (ironic.go) in manageable with an unprepared host: setTargetRAIDCfg (raid.go: the
// raid_interface updater, then PUT /states/raid with the logical disks), then
// buildManualCleaningSteps (BuildRAIDCleanSteps, bios.apply_configuration with the settings that
// differ, firmware.update) as one manual clean.
import type { Host } from './host.ts';
import { nodes } from './gophercloud.ts';
import { untilState } from './host.ts';

type Json = Record<string, unknown>;

/** A BareMetalHost's spec.raid.hardwareRAIDVolumes entry. */
export interface HardwareRAIDVolume { level: string; sizeGibibytes: number; name: string }

export interface PrepareData {
  targetRAID: HardwareRAIDVolume[] | null;
  /** spec.firmware settings (HostFirmwareSettings spec) and what GetFirmwareSettings read. */
  targetFirmwareSettings: Record<string, string | number>;
  actualFirmwareSettings: Record<string, string>;
}

/** buildTargetHardwareRAIDCfg: gophercloud LogicalDisk (size_gb always present; omitempty on the rest); the first is root. */
export function logicalDisks(volumes: HardwareRAIDVolume[]): Json[] {
  return volumes.map((v, i) => ({ size_gb: v.sizeGibibytes, raid_level: v.level, ...(v.name ? { volume_name: v.name } : {}), ...(i === 0 ? { is_root_volume: true } : {}) }));
}

/** getNewFirmwareSettings: the settings whose value differs, as {name, value} (an int stays an int). */
export function newFirmwareSettings(data: PrepareData): Json[] {
  return Object.entries(data.targetFirmwareSettings).filter(([k, v]) => data.actualFirmwareSettings[k] !== String(v)).map(([name, value]) => ({ name, value }));
}

/** The manual clean's steps: CleanStep's args are omitempty, so the RAID steps carry none. */
export function manualCleaningSteps(host: Host, data: PrepareData): Json[] {
  const steps: Json[] = [];
  if (host.access.raidInterface !== 'no-raid' && data.targetRAID) {
    steps.push({ interface: 'raid', step: 'delete_configuration' });
    if (data.targetRAID.length) steps.push({ interface: 'raid', step: 'create_configuration' });
  }
  const settings = newFirmwareSettings(data);
  if (settings.length) steps.push({ interface: 'bios', step: 'apply_configuration', args: { settings } });
  return steps;
}

/** Prepare from manageable: returns the clean steps it sent (none: the host was already prepared). */
export async function prepare(host: Host, node: any, data: PrepareData): Promise<Json[]> {
  if (host.access.raidInterface !== 'no-raid' && data.targetRAID?.length) {
    // The updater's raid_interface is the node's already: no PATCH.
    await nodes.setRAIDConfig(host.client, host.nodeID!, { logical_disks: logicalDisks(data.targetRAID) });
  }
  const steps = manualCleaningSteps(host, data);
  if (steps.length === 0) return steps;
  void node;
  await nodes.changeProvisionState(host.client, host.nodeID!, { target: 'clean', clean_steps: steps });
  await untilState(host, 'manageable');
  return steps;
}
