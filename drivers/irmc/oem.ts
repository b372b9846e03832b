// What Fujitsu's iRMC does its own way, on its OEM resources under the system
// (Systems/0/Oem/ts_fujitsu/..., Oem/Fsas/... on PRIMERGY M8): the boot device through BootConfig,
// the remote image mount (an NFS or SMB share) where the standard VirtualMedia collection is
// empty (iRMC S4 and early S5 firmware), the BIOS POST flag a power-on settles on, and the
// firmware versions Ironic's irmc inspection records as capabilities.
import { BmcTimeout, DriverError, InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { BootDevice } from '../interfaces.ts';
import { RedfishError, type Json } from '../redfish/client.ts';
import { standardSetBootDevice } from '../redfish/management.ts';
import { isObject, linkOf, type RedfishNode } from '../redfish/system.ts';

/** iRMC's BootConfig.BootDevice values (the system's override targets on iRMC S4/S5). */
const BOOT_DEVICES: Partial<Record<BootDevice, string>> = { pxe: 'Pxe', disk: 'Hdd', cdrom: 'Cd', bios: 'BiosSetup' };

/** The OEM key of the system: ts_fujitsu, or Fsas since the PRIMERGY M8 generation. */
export function oemKey(system: Json): string {
  return isObject(system.Oem) && isObject(system.Oem.Fsas) ? 'Fsas' : 'ts_fujitsu';
}

async function oemPath(rn: RedfishNode, resource: string, system?: Json): Promise<string> {
  return `${rn.systemPath}/Oem/${oemKey(system ?? (await rn.system()))}/${resource}`;
}

/** An OEM resource, or null when this iRMC does not have it (404). */
async function optionalGet(rn: RedfishNode, path: string): Promise<Json | null> {
  try {
    return await rn.client.getJson(path);
  } catch (err) {
    if (err instanceof RedfishError && err.status === 404) return null;
    throw err;
  }
}

/**
 * PATCHes an OEM resource with the If-Match it requires: the resource's @odata.etag as iRMC
 * writes it, bare (iRMC answers 412 to the quoted form the standard would have).
 */
async function oemPatch(rn: RedfishNode, path: string, doc: Json, body: Json): Promise<void> {
  const etag = typeof doc['@odata.etag'] === 'string' ? doc['@odata.etag'].replace(/^W\//, '').replace(/^"(.*)"$/, '$1') : null;
  const res = await rn.client.request('PATCH', path, body, etag ? { 'If-Match': etag } : {});
  // iRMC runs some changes as a task (202 + its Location): the change is made when the task completes.
  if (res.status === 202 && res.headers.location) await rn.client.waitTask(res.headers.location);
}

/**
 * Runs a change; one that iRMC refuses because the BIOS is in POST (Fujitsu.1.0.BiosInPostPhase,
 * when someone else powered the host on) runs again once POST is over.
 */
async function outsidePost(rn: RedfishNode, change: () => Promise<void>): Promise<void> {
  try {
    await change();
  } catch (err) {
    if (!(err instanceof RedfishError && err.hasMessage('BiosInPostPhase'))) throw err;
    await settlePower(rn, 'power on');
    await change();
  }
}

/** Sets the next (or every) boot device through the OEM BootConfig; the standard override where there is none. */
export async function setBootDevice(rn: RedfishNode, device: BootDevice, persistent: boolean): Promise<void> {
  const path = await oemPath(rn, 'BootConfig');
  if (!(await optionalGet(rn, path))) {
    await outsidePost(rn, () => standardSetBootDevice(rn, device, persistent));
    return;
  }
  const target = BOOT_DEVICES[device];
  if (!target) throw new InvalidInput(`Boot device ${device} is not supported by the iRMC of node ${rn.node.uuid} (its BootConfig offers ${Object.keys(BOOT_DEVICES).join(', ')})`);
  // Read at each try: the ETag of the If-Match must be the current one.
  await outsidePost(rn, async () => oemPatch(rn, path, await rn.client.getJson(path), { BootDevice: target, NextBootOnlyEnabled: !persistent }));
}

/** After power-on the BIOS runs POST; iRMC refuses boot and BIOS changes until it is over (Bios Oem IsBiosInPostPhase). */
export async function settlePower(rn: RedfishNode, state: 'power on' | 'power off'): Promise<void> {
  if (state !== 'power on') return;
  const system = await rn.system();
  const bios = linkOf(system.Bios);
  if (!bios) return;
  const key = oemKey(system);
  const inPost = async () => {
    const doc = await rn.client.getJson(bios);
    const oem = isObject(doc.Oem) && isObject(doc.Oem[key]) ? doc.Oem[key] : {};
    return oem.IsBiosInPostPhase === true;
  };
  await pollUntil(async () => ((await inPost()) ? undefined : true), {
    timeoutSec: rn.powerTimeoutSec, signal: rn.signal, intervalMs: 100, maxIntervalMs: 2000,
    timedOut: () => new BmcTimeout(`The BIOS of node ${rn.node.uuid} was still in POST ${rn.powerTimeoutSec} s after the iRMC at ${rn.client.info.origin} reported it powered on`),
  });
}

interface Share { ShareType: 'NFS' | 'SMB'; Server: string; ShareName: string; ImageName: string; UserName?: string; Password?: string }

/** The remote image mount takes an image on a share: nfs://server/export/dir/image.iso or cifs|smb://[user:password@]server/share/dir/image.iso. */
export function shareOf(image: string): Share | null {
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    return null;
  }
  const type = url.protocol === 'nfs:' ? 'NFS' : url.protocol === 'cifs:' || url.protocol === 'smb:' ? 'SMB' : null;
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (!type || !url.hostname || parts.length < 2) return null;
  const dir = parts.slice(0, -1).join('/');
  return {
    ShareType: type,
    Server: url.hostname,
    ShareName: type === 'NFS' ? `/${dir}` : dir,
    ImageName: parts[parts.length - 1],
    ...(url.username ? { UserName: decodeURIComponent(url.username), Password: decodeURIComponent(url.password) } : {}),
  };
}

/** The OEM VirtualMedia action on the system and the name of its parameter (FTSVirtualMediaAction; VirtualMediaAction on iRMC S4). */
function mediaAction(system: Json): { target: string; param: string; allowed: string[] } | null {
  const oem = isObject(system.Actions) && isObject(system.Actions.Oem) ? system.Actions.Oem : {};
  const action = Object.entries(oem).find(([name]) => name.endsWith('ComputerSystem.VirtualMedia'))?.[1];
  if (!isObject(action) || typeof action.target !== 'string') return null;
  const key = Object.keys(action).find((k) => k.endsWith('VirtualMediaAction@Redfish.AllowableValues'));
  if (!key) return null;
  return { target: action.target, param: key.replace('@Redfish.AllowableValues', ''), allowed: Array.isArray(action[key]) ? action[key].map(String) : [] };
}

/** Mounts the ISO through the remote image mount: the CD image's share set on the OEM VirtualMedia, then ConnectCD. */
async function remoteMount(rn: RedfishNode, image: string): Promise<void> {
  const share = shareOf(image);
  if (!share) {
    throw new UnsupportedOperation(`The iRMC at ${rn.client.info.origin} of node ${rn.node.uuid} has no standard virtual CD, and its remote image mount takes an image on an NFS or SMB share (nfs://server/export/image.iso, cifs://server/share/image.iso), not ${new URL(image).protocol.replace(':', '')}`);
  }
  const system = await rn.system();
  const action = mediaAction(system);
  const path = await oemPath(rn, 'VirtualMedia', system);
  const config = await optionalGet(rn, path);
  if (!action || !config) throw new UnsupportedOperation(`The iRMC at ${rn.client.info.origin} of node ${rn.node.uuid} offers neither a standard virtual CD nor the remote image mount (${path})`);
  if (action.allowed.includes('DisconnectCD')) await rn.client.post(action.target, { [action.param]: 'DisconnectCD' });
  const current = isObject(config.CDImage) ? config.CDImage : {};
  const devices = typeof current.MaximumNumberOfDevices === 'number' && current.MaximumNumberOfDevices > 0 ? current.MaximumNumberOfDevices : 1;
  // The CD image slots are off (MaximumNumberOfDevices 0) and the mount disabled on a fresh iRMC.
  await oemPatch(rn, path, config, { RemoteMountEnabled: true, CDImage: { ...share, MaximumNumberOfDevices: devices } });
  const after = mediaAction(await rn.system());
  if (!after?.allowed.includes('ConnectCD')) throw new DriverError(`The iRMC at ${rn.client.info.origin} of node ${rn.node.uuid} does not offer ConnectCD after the CD image was set (it offers ${after?.allowed.join(', ') || 'nothing'})`);
  await rn.client.post(after.target, { [after.param]: 'ConnectCD' });
}

/** The standard virtual CD when the iRMC has one (S6, later S5 firmware), else the remote image mount. */
export async function insertBootMedia(rn: RedfishNode, image: string): Promise<void> {
  let device;
  try {
    device = await rn.cdDevice();
  } catch (err) {
    if (!(err instanceof UnsupportedOperation)) throw err;
    await remoteMount(rn, image);
    return;
  }
  await rn.insertMedia(device, image);
}

export async function ejectBootMedia(rn: RedfishNode): Promise<void> {
  const devices = await rn.mediaDevices();
  for (const d of devices) await rn.ejectMedia(d);
  const action = mediaAction(await rn.system());
  if (action?.allowed.includes('DisconnectCD')) await rn.client.post(action.target, { [action.param]: 'DisconnectCD' });
}

/** Ironic's irmc inspection records the server model and the BIOS and iRMC firmware versions as capabilities. */
export async function oemCapabilities(rn: RedfishNode): Promise<Record<string, string>> {
  const system = await rn.system();
  const firmware = await optionalGet(rn, await oemPath(rn, 'FirmwareInventory', system));
  const caps: Record<string, string> = {};
  if (typeof system.Model === 'string') caps.server_model = system.Model;
  if (typeof system.BiosVersion === 'string') caps.rom_firmware_version = system.BiosVersion;
  let bmc = firmware && typeof firmware.BMCFirmware === 'string' ? firmware.BMCFirmware : null;
  if (!bmc) {
    const [manager] = await rn.managers(system);
    const doc = manager ? await optionalGet(rn, manager) : null;
    bmc = doc && typeof doc.FirmwareVersion === 'string' ? doc.FirmwareVersion : null;
  }
  if (bmc) caps.irmc_firmware_version = bmc;
  return caps;
}

/** The OEM inventory beside the standard one: the mainboard and the iRMC firmware. */
export async function oemInventory(rn: RedfishNode): Promise<Json> {
  const system = await rn.system();
  const key = oemKey(system);
  const oem = isObject(system.Oem) && isObject(system.Oem[key]) ? system.Oem[key] : {};
  const firmware = await optionalGet(rn, await oemPath(rn, 'FirmwareInventory', system));
  return { mainboard: isObject(oem.MainBoard) ? oem.MainBoard : null, firmware: firmware ? Object.fromEntries(Object.entries(firmware).filter(([k]) => !k.startsWith('@'))) : null };
}

/** BIOS attributes are staged in Bios/Settings with the bare If-Match iRMC requires; they apply at the next reset, with no job to follow. */
export async function stageBiosSettings(rn: RedfishNode, settingsPath: string, attributes: Json): Promise<null> {
  await outsidePost(rn, async () => oemPatch(rn, settingsPath, await rn.client.getJson(settingsPath), { Attributes: attributes }));
  return null;
}
