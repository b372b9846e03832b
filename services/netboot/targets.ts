// Who the netboot role serves, and what it boots: a MAC with a boot record (db/boot-records.ts,
// written by the node's boot interface), a static host of the config, or, with discovery on, a MAC
// no port has (the inspection ramdisk). Everything else gets no answer. This module only turns a record into URLs and a kernel command line
// (or, for an instance on an iSCSI volume, what iPXE's sanboot needs): which machine boots what was
// decided by the boot interface that wrote the record.
import type { Knex } from 'knex';
import { canonicalMac } from '../../common/mac.ts';
import { bootRecordOf, type RamdiskPurpose, type SanBoot, type StoredBootRecord } from '../../db/boot-records.ts';
import { findPortByAddress } from '../../db/ports.ts';
import type { NetbootConfig, StaticHost } from './config.ts';

/** The deploy ramdisk, by kernel and initrd. */
export interface RamdiskTarget {
  kind: 'ramdisk';
  mac: string;
  purpose: RamdiskPurpose;
  /** Absent for static hosts without one and for discovered (unknown) machines. */
  nodeUuid?: string;
  /** Absolute URLs. */
  kernelUrl: string;
  ramdiskUrl: string;
  /** The whole kernel command line after the initrd argument. */
  cmdline: string;
  /** Served as the iPXE script instead of the one rendered from the fields above. */
  ipxeScript?: string;
  /** Named in the DHCP answer instead of the loader for the client's architecture. */
  bootFile?: string;
}

/** An instance on an iSCSI volume, booted by iPXE's sanboot (db/boot-records.ts SanBoot). */
export interface SanTarget extends Omit<SanBoot, 'portId' | 'expiresAt'> {
  nodeUuid?: string;
  /** Always the iPXE loader: only iPXE boots a SAN. */
  bootFile?: undefined;
}

export type BootTarget = RamdiskTarget | SanTarget;

export interface TargetDirectory {
  lookup(mac: string): Promise<BootTarget | undefined>;
}

function url(config: NetbootConfig, ref: string): string {
  return /^https?:\/\//.test(ref) ? ref : `${config.http.publicUrl}/${ref.replace(/^\/+/, '')}`;
}

/** The agent ramdisk's kernel command line (also what a boot interface puts into a node's boot ISO); no BOOTIF without a MAC. */
export function agentCmdline(config: Pick<NetbootConfig, 'apiUrl' | 'apiCa' | 'lldpTimeout' | 'lldpLinkWait'>, mac: string | undefined, purpose: RamdiskPurpose, nodeUuid: string | undefined, extra: string): string {
  const args = [`ipa-api-url=${config.apiUrl}`];
  if (nodeUuid) args.push(`ipa-node-uuid=${nodeUuid}`);
  if (mac) args.push(`BOOTIF=${mac}`);
  if (purpose === 'inspect') args.push(`ipa-inspection-callback-url=${config.apiUrl}/v1/continue_inspection`);
  // As Ironic's inspection boot (its default extra kernel parameters): the agent listens for LLDP,
  // for netboot.lldpTimeout seconds at most and netboot.lldpLinkWait with a link up, when set; a
  // lldpTimeout of 0 spares a network with no LLDP the wait.
  if (purpose === 'inspect' && config.lldpTimeout !== 0) {
    args.push('ipa-collect-lldp=1', ...(config.lldpTimeout === undefined ? [] : [`ipa-lldp-timeout=${config.lldpTimeout}`]));
    if (config.lldpLinkWait !== undefined) args.push(`anvil.lldp_link_wait=${config.lldpLinkWait}`);
  }
  if (config.apiCa && config.apiUrl.startsWith('https://')) args.push(`anvil.api_ca=${config.apiCa}`);
  if (extra.trim()) args.push(extra.trim());
  return args.join(' ');
}

/** The ramdisk boot of a MAC: the record's kernel and initrd (else the config's), the agent's arguments, the site's and the node's. */
function ramdiskTarget(config: NetbootConfig, mac: string, boot: { purpose: RamdiskPurpose; nodeUuid?: string; kernel?: string | null; initrd?: string | null; kernelArgs?: string }): RamdiskTarget {
  return {
    kind: 'ramdisk',
    mac,
    purpose: boot.purpose,
    nodeUuid: boot.nodeUuid,
    kernelUrl: url(config, boot.kernel ?? config.deployKernel),
    ramdiskUrl: url(config, boot.initrd ?? config.deployRamdisk),
    cmdline: agentCmdline(config, mac, boot.purpose, boot.nodeUuid, [config.kernelAppend, boot.kernelArgs ?? ''].join(' ')),
  };
}

function recordTarget(config: NetbootConfig, r: StoredBootRecord): BootTarget {
  if (r.kind === 'san') {
    return { kind: 'san', mac: r.mac, nodeUuid: r.nodeUuid ?? undefined, sanUrls: r.sanUrls, initiatorIqn: r.initiatorIqn, chap: r.chap, volumeTarget: r.volumeTarget };
  }
  const target = ramdiskTarget(config, r.mac, { ...r, nodeUuid: r.nodeUuid ?? undefined });
  if (r.ipxeScript !== null) target.ipxeScript = r.ipxeScript;
  if (r.bootFile !== null) target.bootFile = r.bootFile;
  return target;
}

function staticTarget(config: NetbootConfig, host: StaticHost): RamdiskTarget {
  return ramdiskTarget(config, host.mac, { purpose: host.purpose, nodeUuid: host.nodeUuid, kernel: host.kernel, initrd: host.ramdisk, kernelArgs: host.append });
}

/** The boot target of a discovered (unknown) machine: the inspection ramdisk. */
export function discoveryTarget(config: NetbootConfig, mac: string): RamdiskTarget {
  return ramdiskTarget(config, mac, { purpose: 'inspect' });
}

export function databaseTargets(knex: Knex, config: NetbootConfig): TargetDirectory {
  const statics = new Map(config.hosts.map((h) => [h.mac, staticTarget(config, h)]));
  return {
    async lookup(macText) {
      const mac = canonicalMac(macText);
      if (!mac) return undefined;
      const record = await bootRecordOf(knex, mac);
      if (record) return recordTarget(config, record);
      const host = statics.get(mac);
      if (host) return host;
      // A MAC that is on a node is never discovered again: its node is enrolled, booted by its own record.
      if (config.dhcp.discovery && !(await findPortByAddress(knex, mac))) return discoveryTarget(config, mac);
      return undefined;
    },
  };
}
