// The Redfish raid interface (Ironic's redfish/raid.py, its own way): target_raid_config's logical
// disks become Volumes on the system's storage controller (POST Storage/{ctl}/Volumes with the
// RAID type, capacity and drives), delete_configuration deletes every volume; raid_config records
// what was built. Both are clean and service steps.
import { InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import type { RaidInterface, StepDefinition, StepKind, TaskContext } from '../interfaces.ts';
import type { Json } from './client.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { isObject, linkOf, memberLinks, RedfishNode } from './system.ts';

/** Ironic's RAID levels (raid_config_schema.json) and the Redfish RAIDType and drive count of each. */
const LEVELS: Record<string, { type: string; drives: number }> = {
  '0': { type: 'RAID0', drives: 1 }, '1': { type: 'RAID1', drives: 2 }, '5': { type: 'RAID5', drives: 3 },
  '6': { type: 'RAID6', drives: 4 }, '1+0': { type: 'RAID10', drives: 4 },
};

/** What GET /v1/drivers/{name}/raid/logical_disk_properties lists (Ironic's schema descriptions). */
export const LOGICAL_DISK_PROPERTIES: Readonly<Record<string, string>> = {
  raid_level: `RAID level for the logical disk. One of ${Object.keys(LEVELS).join(', ')}. Required.`,
  size_gb: 'Size in GiB (integer) for the logical disk, or "MAX" for the rest of the drives. Required.',
  volume_name: 'Name of the volume. Optional.',
  is_root_volume: 'Whether this is the root volume (true or false). Optional.',
  physical_disks: 'The drives (Redfish Drive Ids) to build it on; by default the first free ones. Optional.',
  controller: 'The storage controller (its Redfish Id) to build it on; by default the first with volumes. Optional.',
};

interface LogicalDisk { raid_level: string; size_gb: number | 'MAX'; volume_name?: string; is_root_volume?: boolean; physical_disks?: string[]; controller?: string }

/** Checks target_raid_config as Ironic's validate_configuration does, naming the bad key. */
export function logicalDisks(target: Json): LogicalDisk[] {
  const list = target.logical_disks;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidInput('The node has no target_raid_config logical_disks: set them with PUT /v1/nodes/{node}/states/raid');
  return list.map((d, i) => {
    if (!isObject(d)) throw new InvalidInput(`target_raid_config logical_disks[${i}] must be an object`);
    const level = String(d.raid_level ?? '');
    if (!(level in LEVELS)) throw new InvalidInput(`target_raid_config logical_disks[${i}].raid_level "${level}" is not supported; use ${Object.keys(LEVELS).join(', ')}`);
    if (d.size_gb !== 'MAX' && !(Number.isInteger(d.size_gb) && (d.size_gb as number) > 0)) throw new InvalidInput(`target_raid_config logical_disks[${i}].size_gb must be a positive integer or "MAX"`);
    if (d.physical_disks !== undefined && (!Array.isArray(d.physical_disks) || d.physical_disks.some((p) => typeof p !== 'string'))) throw new InvalidInput(`target_raid_config logical_disks[${i}].physical_disks must be a list of drive ids`);
    return { raid_level: level, size_gb: d.size_gb as number | 'MAX', volume_name: typeof d.volume_name === 'string' ? d.volume_name : undefined, is_root_volume: d.is_root_volume === true, physical_disks: d.physical_disks as string[] | undefined, controller: typeof d.controller === 'string' ? d.controller : undefined };
  });
}

interface Controller { path: string; id: string; volumes: string; drives: { path: string; id: string }[] }

async function controllers(rn: RedfishNode): Promise<Controller[]> {
  const storage = linkOf((await rn.system()).Storage);
  if (!storage) throw new UnsupportedOperation(`The system of node ${rn.node.uuid} has no Storage collection (RAID needs a storage controller)`);
  const out: Controller[] = [];
  for (const path of memberLinks(await rn.client.getJson(storage))) {
    const doc = await rn.client.getJson(path);
    const volumes = linkOf(doc.Volumes);
    if (!volumes) continue;
    const drives = Array.isArray(doc.Drives) ? doc.Drives.map(linkOf).filter((p): p is string => p !== null) : [];
    out.push({ path, id: String(doc.Id ?? path.split('/').pop()), volumes, drives: drives.map((p) => ({ path: p, id: p.split('/').pop()! })) });
  }
  if (out.length === 0) throw new UnsupportedOperation(`No storage controller of node ${rn.node.uuid} has a Volumes collection`);
  return out;
}

async function createConfiguration(ctx: TaskContext): Promise<void> {
  const disks = logicalDisks(ctx.node.target_raid_config);
  const rn = await RedfishNode.open(ctx);
  const ctls = await controllers(rn);
  const used = new Set<string>();
  for (const c of ctls) for (const v of memberLinks(await rn.client.getJson(c.volumes))) {
    const doc = await rn.client.getJson(v);
    for (const d of isObject(doc.Links) && Array.isArray(doc.Links.Drives) ? doc.Links.Drives : []) { const p = linkOf(d); if (p) used.add(p); }
  }
  const built: Json[] = [];
  // Ironic builds the root volume first.
  for (const disk of [...disks].sort((a, b) => Number(b.is_root_volume) - Number(a.is_root_volume))) {
    const ctl = disk.controller ? ctls.find((c) => c.id === disk.controller) : ctls[0];
    if (!ctl) throw new InvalidInput(`Controller ${disk.controller} is not a storage controller of node ${rn.node.uuid} (it has ${ctls.map((c) => c.id).join(', ')})`);
    const level = LEVELS[disk.raid_level];
    let drives: { path: string; id: string }[];
    if (disk.physical_disks) {
      drives = disk.physical_disks.map((id) => {
        const found = ctl.drives.find((d) => d.id === id);
        if (!found) throw new InvalidInput(`Drive ${id} is not on controller ${ctl.id} of node ${rn.node.uuid}`);
        return found;
      });
    } else {
      drives = ctl.drives.filter((d) => !used.has(d.path)).slice(0, level.drives);
      if (drives.length < level.drives) throw new InvalidInput(`RAID ${disk.raid_level} needs ${level.drives} free drives on controller ${ctl.id} of node ${rn.node.uuid}; ${drives.length} are free`);
    }
    for (const d of drives) used.add(d.path);
    const body: Json = { RAIDType: level.type, Links: { Drives: drives.map((d) => ({ '@odata.id': d.path })) } };
    if (disk.volume_name) body.Name = disk.volume_name;
    if (disk.size_gb !== 'MAX') body.CapacityBytes = disk.size_gb * 1024 ** 3;
    const res = await rn.client.post(ctl.volumes, body);
    const volume = res.headers.location ? await rn.client.getJson(res.headers.location) : res.data;
    const size = typeof volume.CapacityBytes === 'number' ? Math.floor(volume.CapacityBytes / 1024 ** 3) : disk.size_gb;
    built.push({ ...disk, size_gb: size, controller: ctl.id, physical_disks: drives.map((d) => d.id), volume_name: volume.Name ?? disk.volume_name ?? null });
    await ctx.note(`RAID ${disk.raid_level} volume ${String(volume.Id ?? '')} created on ${ctl.id} (${drives.map((d) => d.id).join(', ')})`);
  }
  await ctx.save({ raid_config: { logical_disks: built } });
}

async function deleteConfiguration(ctx: TaskContext): Promise<void> {
  const rn = await RedfishNode.open(ctx);
  let count = 0;
  for (const c of await controllers(rn)) {
    for (const v of memberLinks(await rn.client.getJson(c.volumes))) {
      await rn.client.delete(v);
      count += 1;
    }
  }
  await ctx.note(`Deleted ${count} RAID volume(s)`);
  await ctx.save({ raid_config: {} });
}

export function redfishRaid(name: string): RaidInterface {
  const kinds: StepKind[] = ['clean', 'service'];
  const steps: StepDefinition[] = kinds.flatMap((kind): StepDefinition[] => [
    { kind, step: 'create_configuration', priority: 0, requiresRamdisk: false, abortable: false, run: createConfiguration },
    { kind, step: 'delete_configuration', priority: 0, requiresRamdisk: false, abortable: false, run: deleteConfiguration },
  ]);
  return {
    name,
    properties: REDFISH_PROPERTIES,
    steps,
    logicalDiskProperties: LOGICAL_DISK_PROPERTIES,
    validate: (node) => void parseRedfishInfo(node),
    validateRaidConfig: (target) => void logicalDisks(target),
  };
}
