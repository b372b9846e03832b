// The fleet picture from the provision-state transitions (migration 007): nodes by state over
// the last hours (today's counts walked back through the transitions), deploy durations, and
// failures by reason. Pure: the route reads the rows, this shapes them.
import type { Transition } from '../../../db/console.ts';

export interface FleetPicture {
  now: number;
  since: number;
  /** Counts by provision state at each sample time, oldest first. */
  series: { at: number; counts: Record<string, number> }[];
  /** Seconds from `deploying` to `active`, per deploy that finished in the window. */
  deploys: { node: string; seconds: number; at: number }[];
  /** Transitions into a failure state, grouped by state and error text. */
  failures: { state: string; reason: string; count: number }[];
}

const FAILURE = /failed$|^error$/;

/** A failed operation: a failure state, or a verification that sent the node back to enroll (Ironic has no `verify failed`). */
function failed(t: Transition): boolean {
  return FAILURE.test(t.to_state) || (t.from_state === 'verifying' && t.to_state === 'enroll');
}

/** An error text without what differs from node to node (uuids, addresses, numbers), so alike failures group. */
export function failureReason(text: string | null): string {
  if (!text) return 'no error recorded';
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b\d+(\.\d+){3}(:\d+)?\b/g, '<address>')
    .replace(/\b\d+\b/g, 'N')
    .slice(0, 160);
}

export function fleetPicture(current: Record<string, number>, transitions: readonly Transition[], now: number, window: number, samples = 48): FleetPicture {
  // A fleet younger than the window is drawn from its first transition, not as one bar at the end.
  const since = Math.max(window, Math.min(now - 60_000, (transitions[0]?.at ?? window) - 1000));
  const step = (now - since) / (samples - 1);
  const counts = { ...current };
  const series: FleetPicture['series'] = [];
  // Walk back from now: undo each transition newer than the sample time.
  let i = transitions.length - 1;
  for (let s = samples - 1; s >= 0; s--) {
    const at = Math.round(since + s * step);
    for (; i >= 0 && transitions[i].at > at; i--) {
      const t = transitions[i];
      counts[t.to_state] = Math.max(0, (counts[t.to_state] ?? 0) - 1);
      if (t.from_state) counts[t.from_state] = (counts[t.from_state] ?? 0) + 1;
    }
    series.push({ at, counts: Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)) });
  }
  series.reverse();

  const deployStart = new Map<string, number>();
  const deploys: FleetPicture['deploys'] = [];
  const failures = new Map<string, FleetPicture['failures'][number]>();
  for (const t of transitions) {
    if (t.to_state === 'deploying' && !deployStart.has(t.node_uuid)) deployStart.set(t.node_uuid, t.at);
    else if (t.to_state === 'active' && deployStart.has(t.node_uuid)) {
      deploys.push({ node: t.node_uuid, seconds: (t.at - deployStart.get(t.node_uuid)!) / 1000, at: t.at });
      deployStart.delete(t.node_uuid);
    } else if (t.to_state === 'deploy failed') deployStart.delete(t.node_uuid);
    if (failed(t)) {
      const reason = failureReason(t.last_error);
      const key = `${t.to_state}\n${reason}`;
      const f = failures.get(key) ?? { state: t.to_state, reason, count: 0 };
      f.count++;
      failures.set(key, f);
    }
  }
  return { now, since, series, deploys, failures: [...failures.values()].sort((a, b) => b.count - a.count) };
}
