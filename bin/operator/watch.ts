// `anvil watch [NODE…]`: the live states of the fleet (or of the named nodes), polled from the API:
// a bar for the fleet (nodes at rest) and one per node (how far its operation has come: its state's
// place in the operation, refined by the step index when the conductor plans steps). --output json
// prints one JSON line per change instead, for scripts; --once prints the picture once; --until
// STATE[,STATE] exits once every watched node is in one of those states.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { UNSTABLE_STATES } from '../../common/states.ts';
import type { ApiClient } from './client.ts';

/** How far an operation is in each of its states (0..1) and which steps it runs there. */
const PROGRESS: Record<string, { at: number; span: number; steps?: 'deploy' | 'clean' | 'service' }> = {
  verifying: { at: 0.5, span: 0 },
  inspecting: { at: 0.2, span: 0 },
  'inspect wait': { at: 0.5, span: 0 },
  cleaning: { at: 0.1, span: 0.8, steps: 'clean' },
  'clean wait': { at: 0.1, span: 0.8, steps: 'clean' },
  deploying: { at: 0.1, span: 0.8, steps: 'deploy' },
  'wait call-back': { at: 0.1, span: 0.8, steps: 'deploy' },
  deleting: { at: 0.3, span: 0 },
  servicing: { at: 0.1, span: 0.8, steps: 'service' },
  'service wait': { at: 0.1, span: 0.8, steps: 'service' },
  rescuing: { at: 0.3, span: 0 },
  'rescue wait': { at: 0.6, span: 0 },
};

export interface NodeView {
  uuid: string;
  name: string | null;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
  maintenance: boolean;
  /** 0..1 through the current operation; 1 at rest. */
  progress: number;
  step: string | null;
  last_error: string | null;
}

export function viewOf(n: Record<string, any>): NodeView {
  const p = PROGRESS[n.provision_state];
  let progress = p ? p.at : 1;
  let step: string | null = null;
  if (p?.steps) {
    const info = n.driver_internal_info ?? {};
    const steps = Array.isArray(info[`${p.steps}_steps`]) ? info[`${p.steps}_steps`].length : 0;
    const index = typeof info[`${p.steps}_step_index`] === 'number' ? info[`${p.steps}_step_index`] : -1;
    if (steps > 0 && index >= 0) progress = p.at + (p.span * index) / steps;
    const current = n[`${p.steps}_step`];
    if (current && typeof current === 'object' && current.step) step = `${String(current.interface)}.${String(current.step)}`;
  }
  return {
    uuid: n.uuid, name: n.name ?? null, provision_state: n.provision_state, target_provision_state: n.target_provision_state ?? null,
    power_state: n.power_state ?? null, maintenance: Boolean(n.maintenance), progress: Math.min(1, progress), step, last_error: n.last_error ?? null,
  };
}

export interface Fleet {
  total: number;
  at_rest: number;
  by_state: Record<string, number>;
}

export function fleetOf(nodes: NodeView[]): Fleet {
  const by_state: Record<string, number> = {};
  for (const n of nodes) by_state[n.provision_state] = (by_state[n.provision_state] ?? 0) + 1;
  return { total: nodes.length, at_rest: nodes.filter((n) => !UNSTABLE_STATES.has(n.provision_state)).length, by_state };
}

const FIELDS = 'uuid,name,provision_state,target_provision_state,power_state,maintenance,last_error,driver_internal_info,deploy_step,clean_step,service_step';

async function read(api: ApiClient, idents: string[]): Promise<NodeView[]> {
  if (idents.length === 0) return (await api.all(`/v1/nodes?fields=${FIELDS}&limit=1000`, 'nodes')).map(viewOf);
  return Promise.all(idents.map(async (i) => viewOf(await api.get(`/v1/nodes/${encodeURIComponent(i)}?fields=${FIELDS}`))));
}

export interface WatchOptions {
  json: boolean;
  once: boolean;
  /** Exit once every watched node is in one of these states. */
  until?: ReadonlySet<string>;
  intervalSec: number;
  out: NodeJS.WriteStream;
}

const key = (n: NodeView) => JSON.stringify([n.provision_state, n.target_provision_state, n.power_state, n.maintenance, n.step, n.progress, n.last_error]);
const label = (n: NodeView) => `${(n.name ?? n.uuid).padEnd(20).slice(0, 20)} ${n.provision_state}${n.target_provision_state ? ` -> ${n.target_provision_state}` : ''}${n.step ? ` [${n.step}]` : ''}${n.maintenance ? ' (maintenance)' : ''}`;

/** Watches until interrupted, or once, or until every watched node is in one of `until`. */
export async function watch(api: ApiClient, idents: string[], opts: WatchOptions): Promise<void> {
  const seen = new Map<string, string>();
  const tty = !opts.json && Boolean(opts.out.isTTY) && !opts.once;
  const bars = tty ? new MultiBar({ format: '{bar} {percentage}% {label}', hideCursor: true, clearOnComplete: false, stream: opts.out }, Presets.shades_classic) : undefined;
  let fleetBar: SingleBar | undefined;
  const nodeBars = new Map<string, SingleBar>();
  try {
    for (;;) {
      const nodes = await read(api, idents);
      const fleet = fleetOf(nodes);
      if (opts.once) {
        opts.out.write(opts.json ? `${JSON.stringify({ fleet, nodes })}\n` : `${[`fleet: ${fleet.at_rest}/${fleet.total} at rest`, ...nodes.map((n) => `${String(Math.round(n.progress * 100)).padStart(3)}% ${label(n)}`)].join('\n')}\n`);
        return;
      }
      if (bars) {
        fleetBar ??= bars.create(1, 0, { label: 'fleet' });
        fleetBar.setTotal(Math.max(1, fleet.total));
        fleetBar.update(fleet.at_rest, { label: `fleet: ${fleet.at_rest}/${fleet.total} at rest` });
      }
      for (const n of nodes) {
        const k = key(n);
        if (seen.get(n.uuid) === k) continue;
        seen.set(n.uuid, k);
        if (bars) {
          let bar = nodeBars.get(n.uuid);
          if (!bar) nodeBars.set(n.uuid, (bar = bars.create(100, 0, { label: label(n) })));
          bar.update(Math.round(n.progress * 100), { label: label(n) });
        } else if (opts.json) {
          opts.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...n })}\n`);
        } else {
          opts.out.write(`${new Date().toISOString()} ${String(Math.round(n.progress * 100)).padStart(3)}% ${label(n)}${n.last_error ? ` — ${n.last_error}` : ''}\n`);
        }
      }
      if (opts.until && nodes.every((n) => opts.until!.has(n.provision_state))) return;
      await new Promise((r) => setTimeout(r, opts.intervalSec * 1000));
    }
  } finally {
    bars?.stop();
  }
}
