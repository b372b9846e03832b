// The node as the API shows it: Ironic's field names, fields newer than the request's version
// hidden, secrets masked, datetimes with an offset, and the links Ironic emits.
import { isoTime } from '../../db/index.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { allocationUuidsByIds } from '../../db/allocations.ts';
import { chassisUuidsByIds } from '../../db/chassis.ts';
import { traitsOfNodes } from '../../db/traits.ts';
import { BoundedMemo } from '../../common/bounded-memo.ts';
import { maskSecrets } from '../../common/secrets.ts';
import { ProvisionState } from '../../common/states.ts';
import { GroupRings } from '../../common/hash-ring.ts';
import { conductorRings } from './conductor-owner.ts';
import type { ApiContext } from './context.ts';
import { selfLinks } from './http.ts';

/** Every field of a node with the microversion that introduced it (v1/utils.py VERSIONED_FIELDS). */
export const NODE_FIELD_VERSIONS: Record<string, number> = {
  uuid: 1, created_at: 1, updated_at: 1, links: 1, driver: 1, driver_info: 1, driver_internal_info: 1, instance_info: 1,
  instance_uuid: 1, properties: 1, extra: 1, provision_state: 1, target_provision_state: 1, provision_updated_at: 1,
  power_state: 1, target_power_state: 1, last_error: 1, maintenance: 1, maintenance_reason: 1, reservation: 1,
  console_enabled: 1, chassis_uuid: 1, ports: 1, states: 1,
  name: 5, inspection_started_at: 6, inspection_finished_at: 6, clean_step: 7, raid_config: 12, target_raid_config: 12,
  network_interface: 20, resource_class: 21, portgroups: 24,
  boot_interface: 31, console_interface: 31, deploy_interface: 31, inspect_interface: 31, management_interface: 31,
  power_interface: 31, raid_interface: 31, vendor_interface: 31, volume: 32, storage_interface: 33, traits: 37,
  rescue_interface: 38, bios_interface: 40, fault: 42, deploy_step: 44, conductor_group: 46, automated_clean: 47,
  protected: 48, protected_reason: 48, conductor: 49, owner: 50, description: 51, allocation_uuid: 52,
  retired: 61, retired_reason: 61, lessee: 65, network_data: 66, boot_mode: 75, secure_boot: 75, shard: 82,
  parent_node: 83, firmware_interface: 86, service_step: 87, disable_power_off: 95, instance_name: 104, health: 109,
};

/** Fields shown with their secrets masked; through a JSON patch those secrets are write-only. */
export const NODE_MASKED_FIELDS: ReadonlySet<string> = new Set(['driver_info', 'driver_internal_info', 'instance_info']);

/** What GET /v1/nodes shows without `fields` or `detail`. */
export const NODE_DEFAULT_FIELDS = ['uuid', 'name', 'instance_uuid', 'maintenance', 'power_state', 'provision_state', 'links'];

/** Values that live outside the nodes row, loaded for a whole page at once. */
export interface NodeRelations {
  chassisUuid: Map<number, string>;
  traits: Map<number, string[]>;
  allocationUuid: Map<number, string>;
  /** The hash rings of the alive conductors, whose owner of a node is its `conductor`. */
  rings: GroupRings;
}

/**
 * Loads chassis uuids, traits, allocation uuids and the conductor rings for a page of nodes: one
 * query each, only if shown and not `known` to the caller (a node it just created has no traits).
 */
export async function loadRelations(ctx: Pick<ApiContext, 'db' | 'config'>, nodes: readonly NodeRecord[], fields: ReadonlySet<string>, known: Pick<Partial<NodeRelations>, 'traits'> = {}): Promise<NodeRelations> {
  const knex = ctx.db.knex;
  const ids = nodes.map((n) => n.id);
  const [chassisUuid, traits, allocationUuid, rings] = await Promise.all([
    fields.has('chassis_uuid') ? chassisUuidsByIds(knex, nodes.map((n) => n.chassis_id)) : new Map<number, string>(),
    known.traits ?? (fields.has('traits') ? traitsOfNodes(knex, ids) : new Map<number, string[]>()),
    fields.has('allocation_uuid') ? allocationUuidsByIds(knex, nodes.map((n) => n.allocation_id)) : new Map<number, string>(),
    fields.has('conductor') ? conductorRings(knex, ctx.config.conductor.heartbeatTimeout * 1000) : new GroupRings([]),
  ]);
  return { chassisUuid, traits, allocationUuid, rings };
}

/** The fields a request sees: `fields=` if given, else all (detail/show) or the defaults (list). */
export function visibleNodeFields(version: number, fields: ReadonlySet<string> | undefined, all: boolean): Set<string> {
  if (fields) return new Set([...fields].filter((f) => (NODE_FIELD_VERSIONS[f] ?? 999) <= version));
  const names = all ? Object.keys(NODE_FIELD_VERSIONS) : NODE_DEFAULT_FIELDS;
  return new Set(names.filter((f) => NODE_FIELD_VERSIONS[f] <= version));
}

/** Ironic reports `inspect wait` as `inspecting` to clients older than 1.39. */
export function provisionStateFor(state: string, version: number): string {
  return version < 39 && state === ProvisionState.INSPECT_WAIT ? ProvisionState.INSPECTING : state;
}

/** A node's provision_state as shown: below 1.2 `available` was Ironic's NOSTATE, which reads null. */
export function shownProvisionState(state: string, version: number): string | null {
  return version < 2 && state === ProvisionState.AVAILABLE ? null : provisionStateFor(state, version);
}

type FieldValue = (node: NodeRecord, rel: NodeRelations, base: string) => unknown;

const fieldOf = (node: NodeRecord, f: string): unknown => (node as unknown as Record<string, unknown>)[f];

/** How a field is shown at `version`; undefined: not shown (link lists under `fields=`). */
function fieldValue(f: string, version: number, withLinkLists: boolean): FieldValue | undefined {
  if (NODE_MASKED_FIELDS.has(f)) return (node) => maskSecrets(fieldOf(node, f));
  switch (f) {
    case 'links':
      return (node, _rel, base) => selfLinks(base, 'nodes', node.uuid);
    case 'ports': case 'states': case 'portgroups': case 'volume':
      return withLinkLists ? (node, _rel, base) => selfLinks(base, 'nodes', `${node.uuid}/${f}`) : undefined;
    case 'created_at': case 'updated_at': case 'provision_updated_at': case 'inspection_started_at': case 'inspection_finished_at':
      return (node) => isoTime(node[f]);
    case 'provision_state':
      return (node) => shownProvisionState(node.provision_state, version);
    case 'target_provision_state':
      return (node) => (node.target_provision_state === null ? null : provisionStateFor(node.target_provision_state, version));
    case 'chassis_uuid':
      return (node, rel) => (node.chassis_id === null || node.chassis_id === undefined ? null : rel.chassisUuid.get(node.chassis_id) ?? null);
    case 'allocation_uuid':
      return (node, rel) => (node.allocation_id === null || node.allocation_id === undefined ? null : rel.allocationUuid.get(node.allocation_id) ?? null);
    case 'traits':
      return (node, rel) => rel.traits.get(node.id) ?? [];
    case 'conductor':
      return (node, rel) => rel.rings.ownerOf(node) ?? null;
    default:
      return (node) => fieldOf(node, f) ?? null;
  }
}

type Renderer = (node: NodeRecord, rel: NodeRelations, base: string) => Record<string, unknown>;

/**
 * The renderer of one request shape (fields, version, link lists): an object literal with every
 * shown field in place, made once. Adding some 70 keys one by one to an empty object grew and
 * copied its property store again and again, most of the cost of a page of 1,000 nodes.
 */
function compileRenderer(fields: ReadonlySet<string>, version: number, withLinkLists: boolean): Renderer {
  const values: FieldValue[] = [];
  const entries: string[] = [];
  for (const f of fields) {
    const value = fieldValue(f, version, withLinkLists);
    if (!value) continue;
    values.push(value);
    entries.push(`${JSON.stringify(f)}: v[${values.length - 1}](node, rel, base)`);
  }
  // Field names are NODE_FIELD_VERSIONS' keys (parseFields refuses any other), quoted by JSON.stringify.
  return new Function('v', `return (node, rel, base) => ({ ${entries.join(', ')} });`)(values) as Renderer;
}

/** Renderers by request shape (`fields=` makes many shapes). */
const renderers = new BoundedMemo<Renderer>(64);

function rendererFor(fields: ReadonlySet<string>, version: number, withLinkLists: boolean): Renderer {
  return renderers.get(`${version}:${withLinkLists}:${[...fields].join(',')}`, () => compileRenderer(fields, version, withLinkLists));
}

/** The nodes as the API shows them, in order. */
export function renderNodes(nodes: readonly NodeRecord[], rel: NodeRelations, fields: ReadonlySet<string>, version: number, base: string, withLinkLists: boolean): Record<string, unknown>[] {
  const render = rendererFor(fields, version, withLinkLists);
  return nodes.map((node) => render(node, rel, base));
}
