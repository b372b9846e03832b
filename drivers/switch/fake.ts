// An in-memory switch (driver: fake), for testers as fake-hardware is for BMCs: it keeps each
// port's VLANs and each bond, and can be told to fail. Options:
//   failPorts: [port, ...]   a batch touching one of them fails, changing nothing
//   failVlans: [vlan, ...]   a batch putting a port or bond on one of them fails, changing nothing
//   unreachable: true         every batch fails as if the switch did not answer
import { describeVlans, SwitchError, type SwitchBatch, type SwitchDriver, type VlanSetting } from './types.ts';
import type { SwitchConfig } from './config.ts';

export interface FakeSwitchState {
  ports: Map<string, VlanSetting>;
  bonds: Map<string, { members: string[]; lacp: boolean; vlans: VlanSetting }>;
  /** Batches applied, in order (for tests). */
  applied: number;
}

/** Every fake switch's state, by switch name (tests read it). */
export const FAKE_SWITCHES = new Map<string, FakeSwitchState>();

export function fakeSwitch(cfg: SwitchConfig): SwitchDriver {
  const failPorts = new Set(Array.isArray(cfg.options.failPorts) ? cfg.options.failPorts.map(String) : []);
  const failVlans = new Set(Array.isArray(cfg.options.failVlans) ? cfg.options.failVlans.map(Number) : []);
  const state = (): FakeSwitchState => FAKE_SWITCHES.get(cfg.name) ?? FAKE_SWITCHES.set(cfg.name, { ports: new Map(), bonds: new Map(), applied: 0 }).get(cfg.name)!;
  return {
    name: cfg.name,
    kind: 'fake',
    async apply(batch: SwitchBatch) {
      if (cfg.options.unreachable === true) throw new SwitchError(cfg.name, undefined, 'unreachable (fake switch told so)');
      for (const p of [...batch.ports.map((s) => s.port), ...batch.bonds.flatMap((b) => b.members)]) {
        if (failPorts.has(p)) throw new SwitchError(cfg.name, p, 'rejected the change (fake switch told so)');
      }
      for (const p of [...batch.ports.map((x) => ({ port: x.port, vlans: x.vlans })), ...batch.bonds.map((b) => ({ port: b.name, vlans: b.vlans }))]) {
        const vlan = [p.vlans.untagged, ...p.vlans.tagged].find((v) => v !== null && failVlans.has(v));
        if (vlan !== undefined) throw new SwitchError(cfg.name, p.port, `rejected VLAN ${vlan} (fake switch told so)`);
      }
      const s = state();
      const leave = (port: string) => {
        for (const [name, bond] of s.bonds) {
          bond.members = bond.members.filter((m) => m !== port);
          if (bond.members.length === 0) s.bonds.delete(name);
        }
      };
      for (const p of batch.ports) {
        leave(p.port);
        s.ports.set(p.port, p.vlans);
      }
      for (const b of batch.bonds) {
        for (const m of b.members) {
          leave(m);
          s.ports.delete(m);
        }
        s.bonds.set(b.name, { members: [...b.members], lacp: b.lacp, vlans: b.vlans });
      }
      s.applied++;
    },
  };
}

/** A port's setting as a test reads it: its own VLANs, or its bond's. */
export function fakePortView(switchName: string, port: string): string | undefined {
  const s = FAKE_SWITCHES.get(switchName);
  if (!s) return undefined;
  const own = s.ports.get(port);
  if (own) return describeVlans(own);
  for (const [name, b] of s.bonds) if (b.members.includes(port)) return `${b.lacp ? 'lacp ' : ''}bond ${name}: ${describeVlans(b.vlans)}`;
  return undefined;
}
