// BMO's HostFirmwareSettings and HostFirmwareComponents readers (ironic.go GetFirmwareSettings,
// GetFirmwareComponents): the BIOS settings with their registry schema, the bios/bmc/NIC versions.
import { expect } from 'vitest';
import type { Host } from './host.ts';
import { nodes } from './gophercloud.ts';

/** GetFirmwareSettings(includeSchema=true): settings name → value, and the schema BMO keeps. */
export async function getFirmwareSettings(host: Host): Promise<{ settings: Record<string, string>; schema: Record<string, any> }> {
  const list = await nodes.listBIOSSettings(host.client, host.nodeID!, true);
  const settings: Record<string, string> = {};
  const schema: Record<string, any> = {};
  for (const s of list) {
    settings[s.name] = s.value;
    schema[s.name] = { attributeType: s.attribute_type, allowableValues: s.allowable_values, lowerBound: s.lower_bound, upperBound: s.upper_bound, minLength: s.min_length, maxLength: s.max_length, readOnly: s.read_only, unique: s.unique };
  }
  return { settings, schema };
}

/** GetFirmwareComponents: bios, bmc and nic:* components; others are ignored as BMO does. */
export async function getFirmwareComponents(host: Host): Promise<{ component: string; initialVersion: string; currentVersion: string; lastVersionFlashed: string | null; updatedAt: string | null }[]> {
  const list = await nodes.listFirmware(host.client, host.nodeID!);
  return list
    .filter((c) => c.component === 'bios' || c.component === 'bmc' || String(c.component).startsWith('nic:'))
    .map((c) => {
      expect(typeof c.current_version).toBe('string');
      return { component: c.component, initialVersion: c.initial_version, currentVersion: c.current_version, lastVersionFlashed: c.last_version_flashed ?? null, updatedAt: c.updated_at ?? null };
    });
}
