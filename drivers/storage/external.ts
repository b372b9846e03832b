// The `external` storage interface (Ironic's ExternalStorage): the node's volumes live on storage
// managed outside Anvil, which only boots them. A node without instance_info.image_source and with a
// volume target of boot_index 0 boots that iSCSI LUN (iPXE's sanboot, written by the boot interface
// as the node's boot record), logging in with its `iqn` volume connector and the target's CHAP
// credentials; its deploy writes no image. The target's properties are the ones Cinder hands Nova
// and Ironic (target_iqn, target_portal(s), target_lun, auth_method, auth_username, auth_password).
import { InvalidInput } from '../../common/errors.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { VolumeTargetRecord } from '../../db/volumes.ts';
import type { IscsiBootVolume, NodeStorage, NodeVolumes, StorageInterface } from '../interfaces.ts';

type Json = Record<string, unknown>;

/**
 * What a value iPXE's script carries may hold: `set` and `sanboot` take the rest of the line, and
 * iPXE gives whitespace, `$`, `|`, `&`, quotes and backslashes a meaning of their own.
 */
const IPXE_SAFE = /^[A-Za-z0-9._~@+=:,/%^*!?[\]-]+$/;

/** Ironic's validation failure (InvalidParameterValue), worded as its external storage interface words it. */
function fail(node: NodeRecord, reason: string): never {
  throw new InvalidInput(`Failed to validate external storage interface for node ${node.uuid}. ${reason}`, 'InvalidParameterValue');
}

function bootTarget(volumes: NodeVolumes): VolumeTargetRecord | undefined {
  return volumes.targets.find((t) => t.boot_index === 0);
}

/** A property as Cinder's connection info gives it: `key`, else the first of `keys` (a multipath target's lists), as Ironic reads it. */
function property(props: Json, key: string): unknown {
  const one = props[key];
  if (one !== undefined && one !== '') return Array.isArray(one) ? one[0] : one;
  const many = props[`${key}s`];
  return Array.isArray(many) ? many[0] : many;
}

/** `host`, `host:port` or `[v6]:port`; iSCSI's default port when none is given. */
function parsePortal(node: NodeRecord, target: string, text: unknown): { host: string; port: number | null } {
  const m = typeof text === 'string' ? /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text.trim()) : null;
  const port = m?.[3] === undefined ? null : Number(m[3]);
  if (!m || (port !== null && (port < 1 || port > 65535))) {
    fail(node, `Volume target ${target} has an invalid target_portal ${JSON.stringify(text)}: use host, host:port or [IPv6]:port.`);
  }
  return { host: m[1] ? `[${m[1]}]` : m[2]!, port };
}

function safeValue(node: NodeRecord, what: string, value: unknown): string {
  if (typeof value !== 'string' || !value) fail(node, `${what} is missing.`);
  if (!IPXE_SAFE.test(value)) fail(node, `${what} holds characters an iPXE script cannot carry (whitespace, $ | & quotes or backslashes).`);
  return value;
}

function chapOf(node: NodeRecord, target: VolumeTargetRecord): IscsiBootVolume['chap'] {
  const p = target.properties;
  const method = p.auth_method;
  if (method !== undefined && method !== null && String(method).toUpperCase() !== 'CHAP' && String(method).toLowerCase() !== 'none') {
    fail(node, `Volume target ${target.uuid} has auth_method ${JSON.stringify(method)}: iSCSI boot supports CHAP only.`);
  }
  const wantsChap = String(method ?? '').toUpperCase() === 'CHAP' || p.auth_username !== undefined || p.auth_password !== undefined;
  if (!wantsChap) return null;
  // Never the password itself in a message: it is a secret.
  return {
    username: safeValue(node, `The CHAP user name (properties.auth_username) of volume target ${target.uuid}`, p.auth_username),
    password: safeValue(node, `The CHAP secret (properties.auth_password) of volume target ${target.uuid}`, p.auth_password),
  };
}

/** The boot volume as iPXE needs it; throws naming what is missing or wrong. */
function iscsiBootVolume(node: NodeRecord, volumes: NodeVolumes): IscsiBootVolume {
  if (node.boot_interface !== 'ipxe') {
    fail(node, `The boot interface must be set to \`\`ipxe\`\` to support network booting to an iSCSI volume; it is ${JSON.stringify(node.boot_interface)}.`);
  }
  const target = bootTarget(volumes);
  if (!target) fail(node, 'No volume target with boot_index 0 is configured for the node: it is the volume the node boots.');
  if (target.volume_type !== 'iscsi') {
    fail(node, `Volume target ${target.uuid} is of an unknown type '${target.volume_type}'. Supported types: 'iscsi'.`);
  }
  const connector = volumes.connectors.find((c) => c.type === 'iqn');
  if (!connector) fail(node, `Volume target ${target.uuid} is configured for 'iscsi', however no iSCSI connectors are configured for the node.`);
  const p = target.properties;
  const iqn = safeValue(node, `The iSCSI name of volume target ${target.uuid} (properties.target_iqn)`, property(p, 'target_iqn'));
  const lunText = property(p, 'target_lun');
  const lun = typeof lunText === 'string' && /^\d+$/.test(lunText) ? Number(lunText) : lunText;
  if (typeof lun !== 'number' || !Number.isInteger(lun) || lun < 0) fail(node, `Volume target ${target.uuid} needs properties.target_lun, the LUN to boot (an integer), got ${JSON.stringify(lunText)}.`);
  const portalTexts = Array.isArray(p.target_portals) && p.target_portals.length ? p.target_portals : [p.target_portal];
  if (portalTexts[0] === undefined) fail(node, `Volume target ${target.uuid} needs properties.target_portal, the address (host:port) of the iSCSI target.`);
  return {
    target: target.uuid,
    portals: portalTexts.map((t) => parsePortal(node, target.uuid, t)),
    iqn,
    lun,
    initiatorIqn: safeValue(node, `The iSCSI initiator name (connector_id of volume connector ${connector.uuid})`, connector.connector_id),
    chap: chapOf(node, target),
  };
}

export const externalStorage: StorageInterface = {
  name: 'external',
  validate(node, _ports, storage?: NodeStorage) {
    if (!storage) return;
    if (node.instance_info.image_source !== undefined && bootTarget(storage.volumes)) {
      fail(node, `instance_info.image_source is set, but the node boots its volume target ${bootTarget(storage.volumes)!.uuid}: Anvil writes no image onto a volume (unset image_source to boot the volume as it is).`);
    }
    iscsiBootVolume(node, storage.volumes);
  },
  // Ironic's: an image to write, or no boot volume, means the deploy writes the image.
  shouldWriteImage: (node, volumes) => node.instance_info.image_source !== undefined || !bootTarget(volumes),
  bootVolume: iscsiBootVolume,
};
