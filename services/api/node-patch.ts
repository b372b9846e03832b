// PATCH /v1/nodes/{ident} as data (ironic node.py NodeController.patch, manager.py update_node):
// when a node may be patched, the document a patch applies to, and per field the rules beyond its
// schema and what a change resets with it. The route finds the node, asks nodeChanges() and
// withFieldRules(), and writes.
import { Conflict, InvalidInput } from '../../common/errors.ts';
import { ProvisionState as S, UPDATE_ALLOWED_STATES } from '../../common/states.ts';
import { INTERFACE_NAMES, type NodeRecord } from '../../db/nodes.ts';
import { getHardwareType, type InterfaceChoice } from '../../drivers/registry.ts';
import type { HardwareType } from '../../drivers/interfaces.ts';
import { optionalBool, type Query } from './http.ts';
import type { JsonLimits } from './body.ts';
import { applyPatch, patchRoots, type PatchOp } from './jsonPatch.ts';
import { checkFieldVersions, defaultAfterRemove, NODE_INPUT_SCHEMAS, NODE_PATCH_FIELDS } from './nodeInput.ts';
import { NODE_FIELD_VERSIONS, NODE_MASKED_FIELDS, visibleNodeFields } from './nodeView.ts';
import { validateSchema } from './validation.ts';
import { requireMinor } from './version.ts';

/** States in which interfaces (and the driver) may change without maintenance (manager.py update_node). */
const INTERFACE_CHANGE_STATES = new Set<string>([S.ENROLL, S.INSPECTING, S.INSPECT_WAIT, S.MANAGEABLE, S.AVAILABLE]);

interface FieldRule {
  /** Refuses the new value on this node (`changes`: all the patch changes). */
  check?(value: unknown, node: NodeRecord, ident: string, changes: Readonly<Record<string, unknown>>): void;
  /** Fields a change sets with it (`changes`: all the patch changes). */
  also?(value: unknown, node: NodeRecord, changes: Readonly<Record<string, unknown>>): Partial<NodeRecord>;
  /** Conductors must hear of the change (maintenance stops or resumes their work). */
  wakes?: boolean;
}

const interfaceRule: FieldRule = {
  check(_value, node, ident) {
    if (!node.maintenance && !INTERFACE_CHANGE_STATES.has(node.provision_state)) {
      throw new Conflict(`Node ${ident} can not change its driver or interfaces in state "${node.provision_state}"; allowed in ${[...INTERFACE_CHANGE_STATES].join(', ')} or in maintenance.`, 'InvalidState');
    }
  },
};

/** Rules of the fields that have any beyond their schema. */
const FIELD_RULES: Readonly<Record<string, FieldRule>> = {
  driver: interfaceRule,
  ...Object.fromEntries(INTERFACE_NAMES.map((i) => [`${i}_interface`, interfaceRule])),
  instance_uuid: {
    check(value, node) {
      if (node.instance_uuid && value && value !== node.instance_uuid) throw new Conflict(`Node ${node.uuid} is associated with instance ${node.instance_uuid}.`, 'NodeAssociated');
    },
  },
  protected: {
    check(value, node) {
      if (value === true && node.provision_state !== S.ACTIVE) throw new Conflict('Protection can only be set in the "active" state.', 'InvalidState');
    },
    also: (value) => (value === false ? { protected_reason: null } : {}),
  },
  protected_reason: {
    check(value, node, _ident, changes) {
      const isProtected = 'protected' in changes ? changes.protected === true : node.protected;
      if (value && !isProtected) throw new InvalidInput('Cannot set protected_reason without protected=True', 'InvalidParameterValue');
    },
  },
  // 1.104: a display_name written into instance_info names the instance, unless it has a name.
  instance_info: {
    also(value, node, changes) {
      const name = 'instance_name' in changes ? changes.instance_name : node.instance_name;
      const display = (value as Record<string, unknown>).display_name;
      return !name && typeof display === 'string' && display !== '' ? { instance_name: display } : {};
    },
  },
  maintenance: { also: (value) => (value === false ? { maintenance_reason: null, fault: null } : {}), wakes: true },
  retired: { also: (value) => (value === false ? { retired_reason: null } : {}) },
};

function checkUpdatable(node: NodeRecord, ident: string, version: number): void {
  if (node.target_provision_state && !UPDATE_ALLOWED_STATES.has(node.provision_state)) {
    throw new Conflict(`Node ${ident} can not be updated while a state transition is in progress.`, 'InvalidState');
  }
  if (node.provision_state === S.INSPECTING && version >= 39) {
    throw new Conflict(`Cannot update node "${ident}" while it is in state "${node.provision_state}".`, 'InvalidState');
  }
}

/** Interfaces a new driver does not support are reset when asked (?reset_interfaces=true), else refused. */
function interfacesForDriver(node: NodeRecord, hw: HardwareType, touched: ReadonlySet<string>, resetAll: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of INTERFACE_NAMES) {
    const key = `${i}_interface`;
    if (touched.has(key)) continue;
    const current = (node as unknown as Record<string, unknown>)[key] as string | null;
    if (resetAll || (current && !hw.interfaces[i].includes(current))) {
      if (!resetAll && current) throw new InvalidInput(`The ${key} "${current}" is not supported by hardware type ${hw.name}; pass reset_interfaces=true or set ${key} too.`, 'InterfaceNotFoundInEntrypoint');
      out[key] = hw.interfaces[i][0];
    }
  }
  return out;
}

export interface PatchRequest {
  ident: string;
  version: number;
  query: Query;
  /** The uuid of the node's chassis, shown in the patched document as chassis_uuid. */
  chassisUuid: string | null;
  /** What the patched node may weigh and nest (those of a request body). */
  limits: JsonLimits;
  /** The enabled and default implementations of each interface. */
  interfaces: InterfaceChoice;
}

/**
 * The fields a JSON patch changes, checked against the node's state, the request's version, the
 * fields' schemas and the hardware type; undefined when the patch changes nothing.
 */
export function nodeChanges(node: NodeRecord, ops: PatchOp[], req: PatchRequest): { changes: Record<string, unknown>; hw: HardwareType } | undefined {
  checkUpdatable(node, req.ident, req.version);
  // The document patched: the node's raw (unmasked) writable fields as the request's version sees them.
  const visible = visibleNodeFields(req.version, undefined, true);
  const doc: Record<string, unknown> = {};
  for (const f of NODE_PATCH_FIELDS) {
    if (!visible.has(f) && f !== 'maintenance_reason') continue;
    doc[f] = f === 'chassis_uuid' ? req.chassisUuid : (node as unknown as Record<string, unknown>)[f];
  }
  // A field that exists at a later version than the request's is a 406, not an unknown attribute.
  checkFieldVersions(req.version, patchRoots(ops).filter((f) => f in NODE_FIELD_VERSIONS));
  const { doc: patched, touched } = applyPatch(doc, ops, { allowed: NODE_PATCH_FIELDS, known: new Set([...visible, 'maintenance_reason']), masked: NODE_MASKED_FIELDS, limits: req.limits });
  checkFieldVersions(req.version, touched);
  if (touched.size === 0) return undefined;

  if (touched.has('driver')) validateSchema({ type: 'object', properties: { driver: NODE_INPUT_SCHEMAS.driver } }, { driver: patched.driver }, 'node');
  const hw = getHardwareType((touched.has('driver') ? patched.driver : node.driver) as string, req.interfaces);
  const changes: Record<string, unknown> = {};
  for (const f of touched) changes[f] = patched[f] === null ? defaultAfterRemove(f, hw) : patched[f];
  const reset = req.query.reset_interfaces;
  if (reset !== undefined) requireMinor(req.version, 45, 'The reset_interfaces parameter');
  if (touched.has('driver')) Object.assign(changes, interfacesForDriver(node, hw, touched, reset !== undefined && optionalBool(req.query, 'reset_interfaces') === true));
  validateSchema({ type: 'object', properties: Object.fromEntries(Object.keys(changes).map((f) => [f, NODE_INPUT_SCHEMAS[f] ?? {}])) }, changes, 'node');
  return { changes, hw };
}

/** The checked fields with each field's rules applied: what the update writes, and whether conductors must hear of it. */
export function withFieldRules(node: NodeRecord, ident: string, checked: Record<string, unknown>): { fields: Partial<NodeRecord>; wakes: boolean } {
  const fields: Record<string, unknown> = { ...checked };
  let wakes = false;
  for (const [field, value] of Object.entries(checked)) {
    const rule = FIELD_RULES[field];
    if (!rule) continue;
    rule.check?.(value, node, ident, checked);
    Object.assign(fields, rule.also?.(value, node, checked));
    wakes ||= rule.wakes === true;
  }
  return { fields: fields as Partial<NodeRecord>, wakes };
}
