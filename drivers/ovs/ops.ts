// The OVSDB operations that make a bridge match a switch batch, as a pure function of what the
// bridge holds now (read in the same connection just before). A port alone is a Port row of one
// Interface with its tag/trunks/vlan_mode; a bond is a Port row of several Interfaces with
// bond_mode and lacp. Moving an Interface between Port rows reuses the Interface row, so the
// link never leaves the bridge; a Port row left without Interfaces leaves the bridge's ports.
import { SwitchError, type SwitchBatch, type VlanSetting } from '../switch/types.ts';
import { ovsMap, ovsSet, setItems, uuidOf, type NamedUuid, type Uuid } from './codec.ts';
import type { OvsdbOp } from './client.ts';

export interface PortRow { uuid: string; name: string; interfaces: string[] }
export interface BridgeState {
  bridgeUuid: string;
  /** Port rows of the bridge. */
  ports: PortRow[];
  /** Interface name → row UUID, for the bridge's interfaces. */
  interfaces: Map<string, string>;
}

const uuid = (u: string): Uuid => ['uuid', u];

/** Parses the answers of readOps into the bridge's state; throws when the bridge does not exist. */
export function parseBridge(switchName: string, bridge: string, results: Record<string, unknown>[]): BridgeState {
  const [bridges, ports, interfaces] = results.map((r) => (r.rows ?? []) as Record<string, unknown>[]);
  if (bridges.length === 0) throw new SwitchError(switchName, undefined, `has no bridge ${bridge}`);
  const portUuids = new Set(setItems<Uuid>(bridges[0].ports).map(uuidOf));
  const rows = ports.filter((p) => portUuids.has(uuidOf(p._uuid))).map((p) => ({ uuid: uuidOf(p._uuid), name: p.name as string, interfaces: setItems<Uuid>(p.interfaces).map(uuidOf) }));
  const inBridge = new Set(rows.flatMap((r) => r.interfaces));
  const names = new Map<string, string>();
  for (const i of interfaces) if (inBridge.has(uuidOf(i._uuid))) names.set(i.name as string, uuidOf(i._uuid));
  return { bridgeUuid: uuidOf(bridges[0]._uuid), ports: rows, interfaces: names };
}

export function readOps(bridge: string): OvsdbOp[] {
  return [
    { op: 'select', table: 'Bridge', where: [['name', '==', bridge]], columns: ['_uuid', 'ports'] },
    { op: 'select', table: 'Port', where: [], columns: ['_uuid', 'name', 'interfaces'] },
    { op: 'select', table: 'Interface', where: [], columns: ['_uuid', 'name'] },
  ];
}

function vlanColumns(v: VlanSetting): Record<string, unknown> {
  if (v.tagged.length === 0) return { tag: v.untagged ?? ovsSet([]), trunks: ovsSet([]), vlan_mode: ovsSet([]) };
  if (v.untagged === null) return { tag: ovsSet([]), trunks: ovsSet([...v.tagged]), vlan_mode: 'trunk' };
  return { tag: v.untagged, trunks: ovsSet([...v.tagged]), vlan_mode: 'native-untagged' };
}

const NO_BOND = { bond_mode: ovsSet([]), lacp: ovsSet([]), other_config: ovsMap({}) };

/** The write transaction for `batch` on a bridge in `state`: one atomic change, a comment naming Anvil's change. */
export function writeOps(switchName: string, state: BridgeState, batch: SwitchBatch, comment: string): OvsdbOp[] {
  const ops: OvsdbOp[] = [];
  const ifaceUuid = (name: string) => {
    const u = state.interfaces.get(name);
    if (!u) throw new SwitchError(switchName, name, 'is not a port of this switch (no such OVS interface on the bridge)');
    return u;
  };
  // Interfaces each Port row keeps after the change (rows not named keep theirs).
  const remaining = new Map(state.ports.map((p) => [p.uuid, new Set(p.interfaces)]));
  const add: NamedUuid[] = [];
  const remove = new Set<string>();
  let n = 0;
  const place = (name: string, members: string[], columns: Record<string, unknown>) => {
    const ifaces = members.map(ifaceUuid);
    for (const set of remaining.values()) for (const i of ifaces) set.delete(i);
    const existing = state.ports.find((p) => p.name === name);
    if (existing) {
      ops.push({ op: 'update', table: 'Port', where: [['_uuid', '==', uuid(existing.uuid)]], row: { interfaces: ovsSet(ifaces.map(uuid)), ...columns } });
      remaining.set(existing.uuid, new Set(ifaces));
    } else {
      const ref = `p${n++}`;
      ops.push({ op: 'insert', table: 'Port', 'uuid-name': ref, row: { name, interfaces: ovsSet(ifaces.map(uuid)), ...columns } });
      add.push(['named-uuid', ref]);
    }
  };
  for (const p of batch.ports) place(p.port, [p.port], { ...vlanColumns(p.vlans), ...NO_BOND });
  for (const b of batch.bonds) {
    const bond = b.lacp
      ? { bond_mode: 'balance-tcp', lacp: 'active', other_config: ovsMap({ 'lacp-fallback-ab': 'true' }) }
      : { bond_mode: 'active-backup', lacp: 'off', other_config: ovsMap({}) };
    place(b.name, [...b.members], { ...vlanColumns(b.vlans), ...bond });
  }
  // A Port row whose Interfaces all moved elsewhere leaves the bridge (OVSDB then drops it).
  const named = new Set([...batch.ports.map((p) => p.port), ...batch.bonds.map((b) => b.name)]);
  for (const p of state.ports) if (!named.has(p.name) && remaining.get(p.uuid)!.size === 0) remove.add(p.uuid);
  for (const p of state.ports) {
    const left = remaining.get(p.uuid)!;
    if (!named.has(p.name) && !remove.has(p.uuid) && left.size !== p.interfaces.length) {
      ops.push({ op: 'update', table: 'Port', where: [['_uuid', '==', uuid(p.uuid)]], row: { interfaces: ovsSet([...left].map(uuid)) } });
    }
  }
  const mutations: unknown[] = [];
  if (remove.size) mutations.push(['ports', 'delete', ovsSet([...remove].map(uuid))]);
  if (add.length) mutations.push(['ports', 'insert', ovsSet(add)]);
  if (mutations.length) ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(state.bridgeUuid)]], mutations });
  ops.push({ op: 'comment', comment });
  return ops;
}
