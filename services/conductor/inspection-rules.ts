// Runs the inspection rules of a phase on the locked node (common/inspection-rules) and writes
// back what their actions changed: node fields (a new driver resets the interfaces it does not
// support, as ?reset_interfaces would), ports, traits; plugin data is changed in place for the
// caller to store. Changes made before a `fail` are kept, as Ironic saves each action's.
import { errorMessage } from '../../common/errors.ts';
import { type LogLevel, type RuleSubject } from '../../common/inspection-rules/actions.ts';
import { runRules, type Phase } from '../../common/inspection-rules/engine.ts';
import { RuleExecutionError } from '../../common/inspection-rules/signature.ts';
import { allInspectionRules } from '../../db/inspection-rules.ts';
import { INTERFACE_NAMES, type NodeRecord } from '../../db/nodes.ts';
import { portsOfNode, updatePort, type PortRecord } from '../../db/ports.ts';
import { setTraits, traitsOfNode } from '../../db/traits.ts';
import { checkInterface, getHardwareType, type InterfaceChoice } from '../../drivers/registry.ts';
import type { NodeTask } from './context.ts';

type Json = Record<string, unknown>;

const OBJECT_FIELDS = new Set(['driver_info', 'properties', 'extra', 'instance_info', 'network_data']);
/** Node fields rules may set (Ironic lets them set any; these are the ones an operator may PATCH). */
const NODE_FIELDS: ReadonlySet<string> = new Set([
  ...OBJECT_FIELDS, 'name', 'driver', 'description', 'resource_class', 'owner', 'lessee', 'conductor_group', 'shard',
  'automated_clean', 'retired', 'retired_reason', 'disable_power_off', ...INTERFACE_NAMES.map((i) => `${i}_interface`),
]);
const PORT_OBJECT_FIELDS = new Set(['local_link_connection', 'extra']);
const PORT_FIELDS: ReadonlySet<string> = new Set([...PORT_OBJECT_FIELDS, 'pxe_enabled', 'physical_network', 'name', 'description', 'is_smartnic', 'vendor', 'category']);
/** Node fields rules never see: the lock, queued requests, conductor bookkeeping. */
const HIDDEN = new Set(['id', 'reservation', 'provision_request', 'power_request', 'driver_internal_info', 'chassis_id', 'allocation_id']);

const isDict = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

function subjectOf(ctx: NodeTask, ports: readonly PortRecord[], traits: string[], inventory: Json, pluginData: Json): RuleSubject {
  const node: Json = {};
  const nodeReadOnly: Json = {};
  for (const [k, v] of Object.entries(ctx.node)) {
    if (NODE_FIELDS.has(k)) node[k] = structuredClone(v);
    else if (!HIDDEN.has(k)) nodeReadOnly[k] = v;
  }
  const levels: Record<LogLevel, 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', critical: 'fatal' };
  return {
    node, nodeReadOnly, traits: [...traits], inventory, plugin_data: pluginData,
    ports: ports.map((p) => structuredClone({ ...p, id: undefined, node_id: undefined, internal_info: undefined }) as Json),
    nodeFields: NODE_FIELDS, portFields: PORT_FIELDS,
    log: (level, message) => ctx.logger[levels[level]]({ node: ctx.node.uuid }, `inspection rule: ${message}`),
  };
}

/** The node fields the rules changed, checked; a new driver brings the defaults of the interfaces it lacks. */
function nodeChanges(before: NodeRecord, after: Json, choice: InterfaceChoice): Partial<NodeRecord> {
  const changes: Json = {};
  for (const f of NODE_FIELDS) if (changed((before as unknown as Json)[f], after[f])) changes[f] = after[f];
  for (const f of Object.keys(changes)) {
    if (OBJECT_FIELDS.has(f) && !isDict(changes[f])) throw new RuleExecutionError(`node field ${f} must be a dictionary, not ${JSON.stringify(changes[f])}`);
    if (f === 'driver' && typeof changes[f] !== 'string') throw new RuleExecutionError(`node field driver must be the name of a hardware type, not ${JSON.stringify(changes[f])}`);
  }
  const hw = getHardwareType(String(after.driver), choice);
  for (const iface of INTERFACE_NAMES) {
    const key = `${iface}_interface`;
    const name = after[key];
    if (key in changes && typeof name === 'string') checkInterface(hw, iface, name);
    else if ('driver' in changes && typeof name === 'string' && !hw.interfaces[iface].includes(name)) changes[key] = hw.interfaces[iface][0];
  }
  return changes as Partial<NodeRecord>;
}

function portChanges(before: PortRecord, after: Json): Partial<PortRecord> {
  const changes: Json = {};
  for (const f of PORT_FIELDS) if (changed((before as unknown as Json)[f], after[f])) changes[f] = after[f];
  for (const [f, v] of Object.entries(changes)) {
    if (PORT_OBJECT_FIELDS.has(f) && !isDict(v)) throw new RuleExecutionError(`port field ${f} of ${before.address} must be a dictionary`);
    if ((f === 'pxe_enabled' || f === 'is_smartnic') && typeof v !== 'boolean') throw new RuleExecutionError(`port field ${f} of ${before.address} must be true or false`);
  }
  return changes as Partial<PortRecord>;
}

async function save(ctx: NodeTask, subject: RuleSubject, ports: readonly PortRecord[], traits: readonly string[]): Promise<string[]> {
  const what: string[] = [];
  const fields = nodeChanges(ctx.node, subject.node, ctx.config.interfaces);
  if (Object.keys(fields).length) {
    await ctx.save(fields);
    what.push(...Object.keys(fields));
  }
  for (const [i, port] of ports.entries()) {
    const change = portChanges(port, subject.ports[i]);
    if (Object.keys(change).length === 0) continue;
    await updatePort(ctx.knex, port.id, change);
    what.push(`port ${port.address}`);
  }
  if (changed([...traits].sort(), [...subject.traits].sort())) {
    await setTraits(ctx.knex, ctx.node.id, subject.traits);
    what.push('traits');
  }
  return what;
}

/**
 * Runs the rules of `phase` on the inspection data; `pluginData` is changed in place. Throws
 * (after saving what the rules before it changed) when a rule fails the inspection or cannot run.
 */
export async function applyInspectionRules(ctx: NodeTask, phase: Phase, inventory: Json, pluginData: Json): Promise<void> {
  const rules = (await allInspectionRules(ctx.knex)).filter((r) => r.phase === phase);
  if (rules.length === 0) return;
  const ports = await portsOfNode(ctx.knex, ctx.node.id);
  const traits = await traitsOfNode(ctx.knex, ctx.node.id);
  const subject = subjectOf(ctx, ports, traits, inventory, pluginData);
  subject.check = () => {
    nodeChanges(ctx.node, subject.node, ctx.config.interfaces);
    ports.forEach((p, i) => portChanges(p, subject.ports[i]));
  };
  let failure: unknown;
  let applied: string[] = [];
  try {
    applied = await runRules(rules, phase, subject);
  } catch (err) {
    failure = err;
  }
  let what: string[];
  try {
    what = await save(ctx, subject, ports, traits);
  } catch (err) {
    throw failure ?? new RuleExecutionError(`Inspection rules (${phase} phase) made changes that cannot be saved: ${errorMessage(err)}`);
  }
  if (applied.length) await ctx.note(`Inspection rules ${applied.join(', ')} (${phase} phase) applied${what.length ? `, changing ${what.join(', ')}` : ''}`);
  if (failure) throw failure;
}
