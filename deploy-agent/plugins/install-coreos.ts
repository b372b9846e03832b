// install_coreos, the deploy step OpenShift's agent image adds (its CoreOSInstallHardwareManager,
// which runs coreos-installer), done the way coreos-installer lays a CoreOS disk out: the disk
// image of instance_info.image_source is written to the root disk as write_image writes any image,
// then the Ignition config (the config drive's user_data) goes to ignition/config.ign (directory
// 0700, file 0600, root's) on the file system labelled `boot`, where CoreOS's first boot reads it.
// Nothing is mounted: the file is written into the ext4 file system with debugfs.
import { configDriveFile, configDriveIso } from '../../images/configdrive.ts';
import { readPartitionTable } from '../disk.ts';
import { extLabel, writeExt4File } from '../ext4.ts';
import type { AgentPlugin, StepContext } from '../plugin-api.ts';

type Json = Record<string, unknown>;

const IGNITION_FILE = 'ignition/config.ign';
const BOOT_LABEL = 'boot';

/** The Ignition config of the node's config drive, checked to be one (a JSON object with ignition.version). */
async function ignitionOf(instanceInfo: Json): Promise<Buffer> {
  const cd = instanceInfo.configdrive;
  let userData: Buffer | null = null;
  if (typeof cd === 'object' && cd !== null && !Array.isArray(cd)) {
    // A config drive kept as JSON (OpenShift's agent accepts only this form).
    const ud = (cd as Json).user_data;
    if (ud !== undefined && ud !== null && ud !== '') userData = Buffer.from(typeof ud === 'string' ? ud : JSON.stringify(ud));
  } else if (typeof cd === 'string' && cd) {
    userData = await configDriveFile(await configDriveIso(cd), 'openstack/latest/user_data');
  }
  if (!userData || userData.length === 0) {
    throw new Error("No Ignition config: the node's config drive has no user_data (deploy with configdrive {\"user_data\": <the Ignition config>})");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData.toString('utf8'));
  } catch (err) {
    throw new Error(`The config drive's user_data is not an Ignition config: it is not JSON (${(err as Error).message})`);
  }
  const version = ((parsed as Json | null)?.ignition as Json | undefined)?.version;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof version !== 'string') {
    throw new Error("The config drive's user_data is not an Ignition config: it has no ignition.version");
  }
  return userData;
}

/** image_info for standby.prepare_image, from instance_info as the conductor sent it. */
function imageInfoOf(ii: Json): Json {
  // image_url: where the conductor serves the image for this agent (a file:// source it alone can read).
  const url = ii.image_url ?? ii.image_source;
  if (typeof url !== 'string' || !url) throw new Error('No image: instance_info.image_source (the CoreOS disk image) is not set');
  const source = typeof ii.image_source === 'string' ? ii.image_source : url;
  return {
    id: source.slice(source.lastIndexOf('/') + 1) || source,
    urls: [url],
    disk_format: ii.image_disk_format ?? null,
    os_hash_algo: ii.image_os_hash_algo,
    os_hash_value: ii.image_os_hash_value,
    checksum: ii.image_checksum,
  };
}

async function installCoreos(_args: Json, ctx: StepContext): Promise<string> {
  const ii = (ctx.node?.instance_info ?? {}) as Json;
  // Both checked before the disk is touched.
  const imageInfo = imageInfoOf(ii);
  const ignition = await ignitionOf(ii);
  await ctx.run('standby.prepare_image', { image_info: imageInfo });
  const disk = await ctx.rootDisk();
  const table = await readPartitionTable(disk.path);
  if (!table) throw new Error(`The image written to ${disk.name} has no partition table: it is not a CoreOS disk image`);
  let boot: { offset: number; label: string | null; number: number } | null = null;
  for (const [i, p] of table.partitions.entries()) {
    const offset = p.start * table.sectorsize;
    const label = await extLabel(disk.path, offset);
    // coreos-installer finds the file system labelled boot; its partition is named boot too.
    if (label === BOOT_LABEL || (!boot && p.name === BOOT_LABEL)) boot = { offset, label, number: i + 1 };
    if (label === BOOT_LABEL) break;
  }
  if (!boot) throw new Error(`The image written to ${disk.name} has no partition labelled "${BOOT_LABEL}": it is not a CoreOS disk image`);
  if (boot.label === null) throw new Error(`Partition ${boot.number} of ${disk.name}, named "${BOOT_LABEL}", holds no ext4 file system`);
  try {
    await writeExt4File(disk.path, boot.offset, IGNITION_FILE, ignition, { dirMode: 0o700, fileMode: 0o600 });
  } catch (err) {
    throw new Error(`Writing the Ignition config to partition ${boot.number} of ${disk.name}: ${(err as Error).message}`);
  }
  ctx.logger.info({ disk: disk.path, partition: boot.number, bytes: ignition.length }, 'Ignition config written');
  return `CoreOS image ${String(imageInfo.id)} written to ${disk.name}, Ignition config (${ignition.length} bytes) in ${IGNITION_FILE} of partition ${boot.number}`;
}

const plugin: AgentPlugin = {
  name: 'CoreOSInstallHardwareManager',
  version: '1',
  steps: [{ kind: 'deploy', step: 'install_coreos', interface: 'deploy', priority: 0, argsinfo: {}, run: installCoreos }],
};

export default plugin;
