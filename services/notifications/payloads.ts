// Ironic's versioned notification payloads (ironic/objects/node.py, notification.py): the payload
// classes, their versions and fields, as data; the event types are baremetal.node.<action>.<status>.
// Secrets never leave: driver_info, instance_info and driver_internal_info go through maskSecrets,
// as every answer of the API does.
import { maskSecrets } from '../../common/secrets.ts';
import type { NodeRecord } from '../../db/nodes.ts';

export type Priority = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export const PRIORITIES: readonly Priority[] = ['debug', 'info', 'warning', 'error', 'critical'];

/** Payload class → its version in Ironic (NodePayload 1.16 and the classes built on it). */
export const PAYLOAD_VERSIONS = {
  NodePayload: '1.16',
  NodeCRUDPayload: '1.14',
  NodeSetPowerStatePayload: '1.16',
  NodeCorrectedPowerStatePayload: '1.16',
  NodeSetProvisionStatePayload: '1.17',
} as const;
export type PayloadName = keyof typeof PAYLOAD_VERSIONS;

/** The node columns NodePayload carries (its SCHEMA), under their own names. */
const NODE_FIELDS = [
  'clean_step', 'conductor_group', 'console_enabled', 'deploy_step', 'description', 'driver', 'extra', 'boot_mode', 'secure_boot',
  'instance_uuid', 'last_error', 'maintenance', 'maintenance_reason', 'fault', 'name',
  'bios_interface', 'boot_interface', 'console_interface', 'deploy_interface', 'inspect_interface', 'management_interface', 'network_interface',
  'power_interface', 'raid_interface', 'rescue_interface', 'storage_interface', 'vendor_interface',
  'owner', 'lessee', 'power_state', 'properties', 'protected', 'protected_reason', 'provision_state', 'resource_class', 'retired', 'retired_reason',
  'target_power_state', 'target_provision_state', 'uuid',
] as const satisfies readonly (keyof NodeRecord)[];
const TIME_FIELDS = ['created_at', 'updated_at', 'provision_updated_at', 'inspection_started_at', 'inspection_finished_at'] as const satisfies readonly (keyof NodeRecord)[];

/** Extra fields of each payload class beyond NodePayload's. */
const EXTRA_NODE_FIELDS: Record<PayloadName, readonly ('instance_info' | 'driver_info' | 'driver_internal_info')[]> = {
  NodePayload: [],
  NodeCRUDPayload: ['instance_info', 'driver_info'],
  NodeSetPowerStatePayload: [],
  NodeCorrectedPowerStatePayload: [],
  NodeSetProvisionStatePayload: ['instance_info', 'driver_internal_info'],
};

/** oslo.versionedobjects' DateTimeField: ISO 8601 with the UTC offset. */
function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00').replace(/Z$/, '+00:00');
}

export interface NodeContext {
  traits: readonly string[];
  /** NodeCRUDPayload only. */
  chassis_uuid?: string | null;
}

/** The versioned object of one payload: ironic_object.{name,namespace,version,data}. */
export function nodePayload(name: PayloadName, node: NodeRecord, context: NodeContext, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const f of NODE_FIELDS) data[f] = node[f] ?? null;
  for (const f of TIME_FIELDS) data[f] = isoTime(node[f] ?? null);
  data.traits = [...context.traits];
  for (const f of EXTRA_NODE_FIELDS[name]) data[f] = maskSecrets(node[f] ?? {});
  if (name === 'NodeCRUDPayload') data.chassis_uuid = context.chassis_uuid ?? null;
  Object.assign(data, extra);
  return {
    'ironic_object.name': name,
    'ironic_object.namespace': 'ironic',
    'ironic_object.version': PAYLOAD_VERSIONS[name],
    'ironic_object.data': data,
  };
}

/**
 * The status of a provision_set notification, as Ironic's task manager decides it: a 'fail' event
 * is an error; from a stable to a working state a start, back an end; otherwise a success.
 */
export function provisionStatus(event: string, prevUnstable: boolean, newUnstable: boolean): { status: 'start' | 'end' | 'success' | 'error'; priority: Priority } {
  if (event === 'fail' || event === 'error') return { status: 'error', priority: 'error' };
  if (!prevUnstable && newUnstable) return { status: 'start', priority: 'info' };
  if (prevUnstable && !newUnstable) return { status: 'end', priority: 'info' };
  return { status: 'success', priority: 'info' };
}
