// What a client may write on a node: the JSON schema of each field (POST /v1/nodes and the
// result of a PATCH), the version that introduced it, and the checks beyond types.
import type { Knex } from 'knex';
import { InvalidInput, Conflict } from '../../common/errors.ts';
import { checkNetworkData } from '../../common/network-data.ts';
import { findChassis } from '../../db/chassis.ts';
import { findNode, INTERFACE_NAMES, nodeIdByName, type InterfaceName } from '../../db/nodes.ts';
import { checkInterface } from '../../drivers/registry.ts';
import type { HardwareType } from '../../drivers/interfaces.ts';
import { NODE_FIELD_VERSIONS } from './nodeView.ts';
import { BOOL, checkName, checkUuid, coerceBooleans, NULLABLE_BOOL, nullable, object } from './validation.ts';
import { requireMinor } from './version.ts';

const str = (max?: number) => nullable('string', max ? { maxLength: max } : {});

/** Writable node fields (Ironic's node_schema) and their JSON schemas. */
export const NODE_INPUT_SCHEMAS: Record<string, Record<string, unknown>> = {
  uuid: { type: 'string' },
  name: str(255),
  driver: { type: 'string', minLength: 1, maxLength: 64 },
  driver_info: object,
  instance_info: object,
  properties: object,
  extra: object,
  network_data: object,
  resource_class: str(80),
  conductor_group: { type: 'string', maxLength: 255 },
  automated_clean: NULLABLE_BOOL,
  chassis_uuid: str(36),
  owner: str(255),
  lessee: str(255),
  description: str(4096),
  parent_node: str(255),
  shard: str(255),
  retired: BOOL,
  retired_reason: str(),
  maintenance: BOOL,
  maintenance_reason: str(),
  protected: BOOL,
  protected_reason: str(),
  console_enabled: BOOL,
  instance_uuid: str(36),
  instance_name: nullable('string', { minLength: 1, maxLength: 255 }),
  boot_mode: str(16),
  secure_boot: NULLABLE_BOOL,
  disable_power_off: NULLABLE_BOOL,
  ...Object.fromEntries(INTERFACE_NAMES.map((i) => [`${i}_interface`, str(255)])),
};

const NODE_BOOLEAN_FIELDS = ['automated_clean', 'retired', 'maintenance', 'protected', 'console_enabled', 'secure_boot', 'disable_power_off'];

/** Fields POST /v1/nodes accepts. */
export const NODE_CREATE_FIELDS = Object.keys(NODE_INPUT_SCHEMAS).filter((f) => f !== 'maintenance_reason' && f !== 'protected' && f !== 'protected_reason');

/** Root fields PATCH may change (node.py PATCH_ALLOWED_FIELDS). */
export const NODE_PATCH_FIELDS: ReadonlySet<string> = new Set(Object.keys(NODE_INPUT_SCHEMAS).filter((f) => !['uuid', 'console_enabled', 'boot_mode', 'secure_boot'].includes(f)));

export const NODE_CREATE_SCHEMA = {
  type: 'object',
  required: ['driver'],
  additionalProperties: false,
  properties: Object.fromEntries(NODE_CREATE_FIELDS.map((f) => [f, NODE_INPUT_SCHEMAS[f]])),
};

/** Value of a root field after `remove` (Ironic resets it to the field's default). */
export function defaultAfterRemove(field: string, hw: HardwareType | undefined): unknown {
  if (['driver_info', 'instance_info', 'properties', 'extra', 'network_data'].includes(field)) return {};
  if (['maintenance', 'retired', 'protected', 'console_enabled', 'disable_power_off'].includes(field)) return false;
  if (field === 'conductor_group') return '';
  if (field.endsWith('_interface') && hw) return hw.interfaces[field.slice(0, -'_interface'.length) as InterfaceName][0];
  return null;
}

export function fieldVersion(field: string): number {
  return NODE_FIELD_VERSIONS[field] ?? (field === 'maintenance_reason' ? 1 : 999);
}

/** 406 for a field newer than the request's version. */
export function checkFieldVersions(version: number, fields: Iterable<string>): void {
  for (const f of fields) requireMinor(version, fieldVersion(f), `Field ${f}`);
}

export function normalizeConductorGroup(group: string): string {
  if (!/^[a-zA-Z0-9_\-.:]*$/.test(group)) throw new InvalidInput(`Invalid conductor_group "${group}": use letters, digits, and _ - . :`);
  return group.toLowerCase();
}

/**
 * `parent_node` is given as a name or UUID and stored as the parent's UUID. As in Ironic
 * (authorize_node_link), a parent that does not exist or has another owner gets one same 400,
 * so the answer does not tell which.
 */
async function parentNodeUuid(knex: Knex, ident: string, owner: string | null): Promise<string> {
  const parent = await findNode(knex, ident);
  if (!parent || parent.owner !== owner) throw new InvalidInput(`Unable to apply the requested parent_node '${ident}'. Requested value was invalid.`);
  return parent.uuid;
}

/** Checks and converts the writable fields that need more than a type check (`owner`: the node's, for links to other nodes). */
export async function checkNodeFields(knex: Knex, fields: Record<string, unknown>, hw: HardwareType, nodeId?: number, owner: string | null = null): Promise<Record<string, unknown>> {
  const out = coerceBooleans({ ...fields }, NODE_BOOLEAN_FIELDS);
  if (typeof out.name === 'string') {
    checkName(out.name, 'node');
    const clash = await nodeIdByName(knex, out.name);
    if (clash !== undefined && clash !== nodeId) throw new Conflict(`A node with name ${out.name} already exists.`, 'DuplicateName');
  }
  if (typeof out.uuid === 'string') out.uuid = checkUuid(out.uuid, 'uuid');
  if (typeof out.instance_uuid === 'string') out.instance_uuid = checkUuid(out.instance_uuid, 'instance_uuid');
  if (typeof out.conductor_group === 'string') out.conductor_group = normalizeConductorGroup(out.conductor_group);
  if (out.disable_power_off === null) out.disable_power_off = false;
  if (typeof out.parent_node === 'string') {
    out.parent_node = await parentNodeUuid(knex, out.parent_node, 'owner' in out ? (out.owner as string | null) : owner);
    if (nodeId !== undefined && (await findNode(knex, out.parent_node as string))?.id === nodeId) throw new InvalidInput('A node cannot be its own parent_node.');
  }
  if ('chassis_uuid' in out) {
    const uuid = out.chassis_uuid;
    delete out.chassis_uuid;
    if (typeof uuid === 'string') {
      const chassis = await findChassis(knex, uuid);
      if (!chassis) throw new InvalidInput(`Chassis ${uuid} could not be found.`, 'ChassisNotFound');
      out.chassis_id = chassis.id;
    } else out.chassis_id = null;
  }
  for (const iface of INTERFACE_NAMES) {
    const v = out[`${iface}_interface`];
    if (typeof v === 'string') checkInterface(hw, iface, v);
  }
  if (out.network_data !== undefined && out.network_data !== null) checkNetworkData(out.network_data);
  return out;
}
