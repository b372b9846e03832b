// Trait-based networking's planner (Ironic 1.111), a pure function: which of a node's ports and port
// groups each of its networks (VIFs) goes on, by the traits its instance asks for. As Ironic's
// plan_vif_attach: networks one at a time, each against the node's traits in ascending `order`,
// the first trait with an action that matches wins; a port or port group taken by one network is
// not free for the next. Ports and port groups are tried newest first (highest id), as in Ironic.
import type { FilterNetwork, FilterPortlike } from './filter-expression.ts';
import { BUILT_IN_DEFAULT_TRAIT, DEFAULT_TRAIT_NAME, type NetworkTrait, type TraitAction } from './traits-config.ts';

export interface PlanPort extends FilterPortlike {
  kind: 'port';
  id: number;
  uuid: string;
  /** The port group it is a member of: such a port goes with its group, never on its own. */
  portgroupUuid: string | null;
  availableForDynamicPortgroup: boolean;
}

export interface PlanPortgroup extends FilterPortlike {
  kind: 'portgroup';
  id: number;
  uuid: string;
}

export interface PlanNetwork extends FilterNetwork {
  uuid: string;
}

export type PlannedAttachment =
  | { network: string; trait: string; action: 'attach_port'; port: string }
  | { network: string; trait: string; action: 'attach_portgroup'; portgroup: string }
  | { network: string; trait: string; action: 'group_and_attach_ports'; ports: string[]; physicalNetwork: string | null };

export interface NetworkPlan {
  attachments: PlannedAttachment[];
  /** Networks no trait could place, each with why (the last reason of each trait's actions). */
  unplaced: { network: string; reason: string }[];
}

/** The configured traits the instance names, in ascending order (then by name), the default last. */
export function traitsForInstance(configured: readonly NetworkTrait[], instanceTraits: readonly string[]): NetworkTrait[] {
  const named = configured.filter((t) => t.name !== DEFAULT_TRAIT_NAME && instanceTraits.includes(t.name));
  if (named.length === 0) return [];
  named.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...named, configured.find((t) => t.name === DEFAULT_TRAIT_NAME) ?? BUILT_IN_DEFAULT_TRAIT];
}

type Outcome = { attachment: PlannedAttachment; taken: string[] } | { reason: string };

function enough(action: TraitAction, matched: number, what: string): string | undefined {
  if (matched === 0) return `no free ${what} matches "${action.filter.source}"`;
  if (action.minCount !== null && matched < action.minCount) return `${matched} free ${what}(s) match "${action.filter.source}", min_count is ${action.minCount}`;
  return undefined;
}

function planAction(action: TraitAction, network: PlanNetwork, ports: PlanPort[], portgroups: PlanPortgroup[]): Outcome {
  const base = { network: network.uuid, trait: action.trait };
  switch (action.action) {
    case 'attach_port': {
      // Anvil attaches a network to one port or port group of a node; min_count asks that at least
      // that many could take it, the first (newest) does.
      const matched = ports.filter((p) => p.portgroupUuid === null && action.filter.matches(p, network));
      const short = enough(action, matched.length, 'port');
      return short ? { reason: short } : { attachment: { ...base, action: 'attach_port', port: matched[0].uuid }, taken: [matched[0].uuid] };
    }
    case 'attach_portgroup': {
      const matched = portgroups.filter((g) => action.filter.matches(g, network));
      const short = enough(action, matched.length, 'port group');
      return short ? { reason: short } : { attachment: { ...base, action: 'attach_portgroup', portgroup: matched[0].uuid }, taken: [matched[0].uuid] };
    }
    case 'group_and_attach_ports': {
      // The members of one bond share a physical network: the first physical network (by its newest
      // port) with min_count matching ports is bonded, up to max_count of them.
      const candidates = ports.filter((p) => p.portgroupUuid === null && p.availableForDynamicPortgroup && action.filter.matches(p, network));
      const byPhysnet = new Map<string | null, PlanPort[]>();
      for (const p of candidates) byPhysnet.set(p.physical_network, [...(byPhysnet.get(p.physical_network) ?? []), p]);
      const minCount = action.minCount ?? 2;
      for (const [physicalNetwork, group] of byPhysnet) {
        if (group.length < minCount) continue;
        const members = group.slice(0, action.maxCount ?? group.length).map((p) => p.uuid);
        return { attachment: { ...base, action: 'group_and_attach_ports', ports: members, physicalNetwork }, taken: members };
      }
      if (candidates.length === 0) return { reason: `no free port available for a dynamic port group matches "${action.filter.source}"` };
      return { reason: `fewer than min_count ${minCount} free ports available for a dynamic port group on one physical network match "${action.filter.source}"` };
    }
  }
}

export function planNetworks(traits: readonly NetworkTrait[], ports: readonly PlanPort[], portgroups: readonly PlanPortgroup[], networks: readonly PlanNetwork[]): NetworkPlan {
  const taken = new Set<string>();
  const newestFirst = <T extends { id: number }>(xs: readonly T[]) => [...xs].sort((a, b) => b.id - a.id);
  const allPorts = newestFirst(ports);
  const allGroups = newestFirst(portgroups);
  const plan: NetworkPlan = { attachments: [], unplaced: [] };
  for (const network of networks) {
    const freePorts = allPorts.filter((p) => !taken.has(p.uuid));
    const freeGroups = allGroups.filter((g) => !taken.has(g.uuid));
    const reasons: string[] = [];
    let placed = false;
    for (const trait of traits) {
      for (const action of trait.actions) {
        const outcome = planAction(action, network, freePorts, freeGroups);
        if ('reason' in outcome) { reasons.push(`${trait.name} ${action.action}: ${outcome.reason}`); continue; }
        plan.attachments.push(outcome.attachment);
        for (const uuid of outcome.taken) taken.add(uuid);
        placed = true;
        break;
      }
      if (placed) break;
    }
    if (!placed) plan.unplaced.push({ network: network.uuid, reason: reasons.join('; ') });
  }
  return plan;
}
