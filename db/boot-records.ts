// boot_records: what a machine boots from the network now, one record per MAC — the only contract
// between the boot interface that decides it (drivers/pxe: prepareRamdisk writes, clean-up and a
// failed operation withdraw) and the netboot role that serves it (DHCP answers a MAC with a
// record, TFTP and HTTP render or hand out exactly what it says). Netboot reads no node.
// Each kind of boot is one member of BootRecord (the deploy ramdisk; an instance on an iSCSI volume); what comes next (virtual media's ISO, discovery
// of unknown machines, DHCPv6 boot-file URLs) adds a kind or a field here, not a rule in netboot.
import type { Knex } from 'knex';
import { normalizeMac } from '../common/mac.ts';
import { now } from './index.ts';

/** What the ramdisk is booted for: the agent is told (inspection gets its callback URL). */
export type RamdiskPurpose = 'deploy' | 'clean' | 'inspect' | 'rescue' | 'service';

interface BootRecordBase {
  /** The MAC that boots, canonical (common/mac.ts). */
  mac: string;
  /** The port it belongs to; the record goes with the port. */
  portId: number | null;
  /** Milliseconds; after it the MAC is no longer answered. null: until withdrawn. */
  expiresAt: number | null;
}

/**
 * The deploy ramdisk over the network: netboot renders the iPXE script (or hands out `ipxeScript`
 * verbatim), the pxelinux and GRUB configs, and names `bootFile` (or the loader for the client's
 * architecture) in its DHCP answer.
 */
export interface RamdiskBoot extends BootRecordBase {
  kind: 'ramdisk';
  purpose: RamdiskPurpose;
  /** URL, or a file under netboot's HTTP root; null: netboot's default deploy kernel / ramdisk. */
  kernel: string | null;
  initrd: string | null;
  /** Arguments of this node (driver_info.kernel_append_params); netboot adds the agent's and the site's. */
  kernelArgs: string;
  ipxeScript: string | null;
  bootFile: string | null;
}

/**
 * The instance on a remote iSCSI volume (boot from volume, the `external` storage interface):
 * netboot renders an iPXE script that logs in as `initiatorIqn` (with CHAP when `chap` is set) and
 * `sanboot`s the first of `sanUrls` that answers. Only iPXE can: no pxelinux or GRUB config is served.
 */
export interface SanBoot extends BootRecordBase {
  kind: 'san';
  /** iPXE SAN URIs, `iscsi:<host>::<port>:<lun>:<target iqn>`, one per portal (multipath). */
  sanUrls: string[];
  initiatorIqn: string;
  /** The target's CHAP credentials, what iPXE's `username` and `password` settings carry; null: no CHAP. */
  chap: { username: string; password: string } | null;
  /** The volume target booted (its UUID), named in the script's comment. */
  volumeTarget: string;
}

export type BootRecord = RamdiskBoot | SanBoot;

/** A stored record, with the node it belongs to. */
export type StoredBootRecord = BootRecord & { nodeId: number | null; nodeUuid: string | null };

/** The `purpose` column of a SAN boot row (the column is the ramdisk's; a volume boots the instance). */
const SAN_PURPOSE = 'instance';

function toRow(r: StoredBootRecord, ts: number): Record<string, unknown> {
  const common = { mac: normalizeMac(r.mac), node_id: r.nodeId, port_id: r.portId, node_uuid: r.nodeUuid, kind: r.kind, expires_at: r.expiresAt, created_at: ts };
  if (r.kind === 'san') {
    return { ...common, purpose: SAN_PURPOSE, san: JSON.stringify({ sanUrls: r.sanUrls, initiatorIqn: r.initiatorIqn, chap: r.chap, volumeTarget: r.volumeTarget }) };
  }
  return {
    ...common, purpose: r.purpose, kernel: r.kernel, initrd: r.initrd, kernel_args: r.kernelArgs, ipxe_script: r.ipxeScript, boot_file: r.bootFile, san: null,
  };
}

function fromRow(row: Record<string, unknown>): StoredBootRecord {
  const common = {
    mac: row.mac as string, nodeId: (row.node_id as number | null) ?? null, portId: (row.port_id as number | null) ?? null, nodeUuid: (row.node_uuid as string | null) ?? null,
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
  };
  if (row.kind === 'san') return { ...common, kind: 'san', ...(JSON.parse(row.san as string) as Pick<SanBoot, 'sanUrls' | 'initiatorIqn' | 'chap' | 'volumeTarget'>) };
  return {
    ...common, kind: 'ramdisk', purpose: row.purpose as RamdiskPurpose, kernel: (row.kernel as string | null) ?? null, initrd: (row.initrd as string | null) ?? null,
    kernelArgs: (row.kernel_args as string) ?? '', ipxeScript: (row.ipxe_script as string | null) ?? null, bootFile: (row.boot_file as string | null) ?? null,
  };
}

/** Replaces what the node's MACs boot with `records` (none: the node boots nothing from the network). */
export async function setBootRecords(knex: Knex, node: { id: number; uuid: string }, records: readonly BootRecord[]): Promise<void> {
  const ts = now();
  const rows = records.map((r) => toRow({ ...r, nodeId: node.id, nodeUuid: node.uuid }, ts));
  if (rows.length === 0) {
    await knex('boot_records').where({ node_id: node.id }).delete();
    return;
  }
  await knex.transaction(async (trx) => {
    await trx('boot_records').where({ node_id: node.id }).delete();
    await trx('boot_records').insert(rows).onConflict('mac').merge();
  });
}

/** Withdraws every record of the node (its operation failed or was taken over). */
export async function withdrawBootRecords(knex: Knex, nodeId: number): Promise<void> {
  await knex('boot_records').where({ node_id: nodeId }).delete();
}

/** What `mac` boots now, if anything (an expired record counts as none). */
export async function bootRecordOf(knex: Knex, mac: string): Promise<StoredBootRecord | undefined> {
  const row = await knex('boot_records').where({ mac: normalizeMac(mac) }).where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now())).first();
  return row ? fromRow(row) : undefined;
}
