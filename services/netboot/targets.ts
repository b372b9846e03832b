// Who the netboot role serves, and what it boots: a MAC of a port of a node in a state that
// needs the ramdisk (the boot interface recorded the purpose in driver_internal_info.boot), or a
// static host of the config. Everything else gets no answer.
import type { Knex } from 'knex';
import { fromJson } from '../../db/index.ts';
import { ProvisionState as S } from '../../common/states.ts';
import type { RamdiskPurpose } from '../../drivers/interfaces.ts';
import type { NetbootConfig } from './config.ts';
import { canonicalMac } from '../../common/mac.ts';

/** States in which a node boots the agent ramdisk from the network, and what for. */
export const RAMDISK_STATES: ReadonlyMap<string, RamdiskPurpose> = new Map([
  [S.DEPLOYING, 'deploy'], [S.DEPLOY_WAIT, 'deploy'],
  [S.CLEANING, 'clean'], [S.CLEAN_WAIT, 'clean'],
  [S.INSPECTING, 'inspect'], [S.INSPECT_WAIT, 'inspect'],
  [S.RESCUING, 'rescue'], [S.RESCUE_WAIT, 'rescue'],
  [S.SERVICING, 'clean'], [S.SERVICE_WAIT, 'clean'],
]);

/** Boot interfaces that boot from an ISO, not from the network: their nodes are not answered. */
const NON_NETWORK_BOOT = /virtual-media/;

export interface BootTarget {
  mac: string;
  purpose: RamdiskPurpose;
  /** Absent for static hosts without one and for discovered (unknown) machines. */
  nodeUuid?: string;
  /** Absolute URLs. */
  kernelUrl: string;
  ramdiskUrl: string;
  /** The whole kernel command line after the initrd argument. */
  cmdline: string;
}

export interface TargetDirectory {
  lookup(mac: string): Promise<BootTarget | undefined>;
}

function url(config: NetbootConfig, ref: string): string {
  return /^https?:\/\//.test(ref) ? ref : `${config.http.publicUrl}/${ref.replace(/^\/+/, '')}`;
}

function cmdline(config: NetbootConfig, mac: string, purpose: RamdiskPurpose, nodeUuid: string | undefined, extra: string): string {
  const args = [`ipa-api-url=${config.apiUrl}`];
  if (nodeUuid) args.push(`ipa-node-uuid=${nodeUuid}`);
  args.push(`BOOTIF=${mac}`);
  if (purpose === 'inspect') args.push(`ipa-inspection-callback-url=${config.apiUrl}/v1/continue_inspection`);
  if (extra.trim()) args.push(extra.trim());
  return args.join(' ');
}

/** The boot target of a discovered (unknown) machine: the inspection ramdisk. */
export function discoveryTarget(config: NetbootConfig, mac: string): BootTarget {
  return {
    mac,
    purpose: 'inspect',
    kernelUrl: url(config, config.deployKernel),
    ramdiskUrl: url(config, config.deployRamdisk),
    cmdline: cmdline(config, mac, 'inspect', undefined, config.kernelAppend),
  };
}

export function databaseTargets(knex: Knex, config: NetbootConfig): TargetDirectory {
  const statics = new Map(config.hosts.map((h) => [h.mac, h]));
  return {
    async lookup(macText) {
      const mac = canonicalMac(macText);
      if (!mac) return undefined;
      const row = await knex('ports')
        .join('nodes', 'nodes.id', 'ports.node_id')
        .where('ports.address', mac)
        .first('nodes.uuid', 'nodes.provision_state', 'nodes.driver_info', 'nodes.driver_internal_info', 'nodes.boot_interface', 'ports.pxe_enabled');
      if (row) {
        const state = RAMDISK_STATES.get(row.provision_state as string);
        if (!state || NON_NETWORK_BOOT.test(String(row.boot_interface ?? ''))) return undefined;
        if (!(row.pxe_enabled === true || row.pxe_enabled === 1)) return undefined;
        const info = fromJson<Record<string, unknown>>(row.driver_info as string, {});
        const internal = fromJson<Record<string, unknown>>(row.driver_internal_info as string, {});
        const recorded = (internal.boot as { purpose?: RamdiskPurpose } | undefined)?.purpose;
        const purpose = recorded ?? state;
        const pick = (key: string, fallback: string): string => {
          const v = (purpose === 'rescue' ? info[`rescue_${key}`] : undefined) ?? info[`deploy_${key}`];
          return typeof v === 'string' && v ? v : fallback;
        };
        const append = [config.kernelAppend, typeof info.kernel_append_params === 'string' ? info.kernel_append_params : ''].join(' ');
        return {
          mac,
          purpose,
          nodeUuid: row.uuid as string,
          kernelUrl: url(config, pick('kernel', config.deployKernel)),
          ramdiskUrl: url(config, pick('ramdisk', config.deployRamdisk)),
          cmdline: cmdline(config, mac, purpose, row.uuid as string, append),
        };
      }
      const host = statics.get(mac);
      if (!host) return undefined;
      return {
        mac,
        purpose: host.purpose,
        nodeUuid: host.nodeUuid,
        kernelUrl: url(config, host.kernel ?? config.deployKernel),
        ramdiskUrl: url(config, host.ramdisk ?? config.deployRamdisk),
        cmdline: cmdline(config, mac, host.purpose, host.nodeUuid, [config.kernelAppend, host.append ?? ''].join(' ')),
      };
    },
  };
}
