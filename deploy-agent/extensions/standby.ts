// standby: writing an image to the root disk and the machine's power, as IPA's standby extension.
import { convertToRaw, inspectForDeploy } from '../../images/qemu-img.ts';
import { checksumFrom } from '../../images/checksum.ts';
import { streamRawImage } from '../../images/download.ts';
import { configDriveIso } from '../../images/configdrive.ts';
import { partitionUuids, writeConfigDrivePartition } from '../disk.ts';
import { AgentCommandError, checkInjected, rootDiskOf, type AgentRuntime, type Extension } from '../commands.ts';

type Json = Record<string, unknown>;

/** Download, verify, inspect, write (a raw image streamed onto the disk in one pass); then the config drive partition. IPA's prepare_image. */
async function prepareImage(params: Json, rt: AgentRuntime): Promise<string> {
  checkInjected(rt, 'standby.prepare_image');
  const info = (params.image_info ?? {}) as Json;
  const urls = Array.isArray(info.urls) ? info.urls.map(String) : [];
  if (urls.length === 0) throw new AgentCommandError('image_info.urls is missing: nothing to write', 'ImageDownloadError', 400);
  const checksum = checksumFrom({ os_hash_algo: info.os_hash_algo, os_hash_value: info.os_hash_value, checksum: info.checksum });
  const disk = await rootDiskOf(rt);
  const declared = typeof info.disk_format === 'string' ? info.disk_format : null;
  checkInjected(rt, 'download');
  if (declared === 'raw' && info.stream_raw_images === true) {
    // IPA's stream_raw_images: straight onto the disk while downloading, the checksum in the same pass.
    rt.logger.info({ image: info.id, disk: disk.path }, 'streaming raw image');
    checkInjected(rt, 'write');
    try {
      await streamRawImage(urls[0], disk.path, checksum, { dispatcher: rt.downloadDispatcher, maxBytes: disk.sizeBytes });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new AgentCommandError(`Error streaming image to device ${disk.path}: ${(err as Error).message}`, code === 'ImageChecksumError' ? 'ImageChecksumError' : code === 'InvalidImage' ? 'InvalidImage' : 'ImageWriteError');
    }
    rt.logger.info({ disk: disk.path }, 'image written');
  } else {
    await downloadAndConvert(rt, info, urls[0], checksum, disk, declared);
  }
  await writeConfigDrive(rt, params, disk);
  return `image (${String(info.id ?? urls[0])}) written to device ${disk.path} `;
}

/** The image to a temporary file (its checksum verified as it streams), inspected, then converted onto the disk. */
async function downloadAndConvert(rt: AgentRuntime, info: Json, url: string, checksum: ReturnType<typeof checksumFrom>, disk: Awaited<ReturnType<typeof rootDiskOf>>, declared: string | null): Promise<void> {
  rt.logger.info({ image: info.id, disk: disk.path }, 'downloading image');
  let image;
  try {
    image = await rt.images.fetch(url, checksum, { dispatcher: rt.downloadDispatcher });
  } catch (err) {
    throw new AgentCommandError(`Error downloading image: ${(err as Error).message}`, (err as { code?: string }).code === 'ImageChecksumError' ? 'ImageChecksumError' : 'ImageDownloadError');
  }
  try {
    let inspected;
    try {
      inspected = await inspectForDeploy(image.path, { declaredFormat: declared, diskBytes: disk.sizeBytes });
    } catch (err) {
      throw new AgentCommandError(`Image ${String(info.id ?? url)} refused: ${(err as Error).message}`, 'InvalidImage', 400);
    }
    checkInjected(rt, 'write');
    rt.logger.info({ format: inspected.format, virtualSize: inspected.virtualSize, disk: disk.path }, 'writing image');
    try {
      await convertToRaw(image.path, disk.path, { sourceFormat: inspected.format, existingTarget: true, blockDevice: disk.blockDevice });
    } catch (err) {
      throw new AgentCommandError(`Error writing image to device ${disk.path}: ${(err as Error).message}`, 'ImageWriteError');
    }
  } finally {
    await image.release();
  }
}

/** The config drive (if any) in a new partition at the disk's end. */
async function writeConfigDrive(rt: AgentRuntime, params: Json, disk: Awaited<ReturnType<typeof rootDiskOf>>): Promise<void> {
  const configdrive = typeof params.configdrive === 'string' && params.configdrive ? params.configdrive : null;
  if (configdrive) {
    checkInjected(rt, 'configdrive');
    try {
      const iso = await configDriveIso(configdrive);
      const { partition } = await writeConfigDrivePartition(disk.path, disk.sizeBytes, iso, disk.blockDevice);
      rt.logger.info({ start: partition.start, bytes: iso.length }, 'config drive written');
    } catch (err) {
      throw new AgentCommandError(`Error writing the config drive to ${disk.path}: ${(err as Error).message}`, 'InstanceDeployFailure');
    }
  }
}

/** The machine goes off right after the result is recorded, as it would when really powering off. */
function later(action: () => Promise<void>, rt: AgentRuntime): void {
  setTimeout(() => {
    action().catch((err) => rt.logger.error({ err }, 'power action failed'));
  }, 50);
}

export const standby: Extension = {
  prepare_image: { async: true, run: prepareImage },
  get_partition_uuids: {
    async: false,
    async run(_params, rt) {
      checkInjected(rt, 'standby.get_partition_uuids');
      return partitionUuids((await rootDiskOf(rt)).path);
    },
  },
  power_off: {
    async: true,
    async run(_params, rt) {
      checkInjected(rt, 'standby.power_off');
      later(() => rt.hardware.powerOff(), rt);
      return null;
    },
  },
  reboot: {
    async: true,
    async run(_params, rt) {
      checkInjected(rt, 'standby.reboot');
      later(() => rt.hardware.reboot(), rt);
      return null;
    },
  },
  sync: {
    async: false,
    async run() {
      return null;
    },
  },
};
