// A whole lifecycle through Anvil's public REST API, as an operator (or Metal3) drives it: enroll
// every machine of a rack, then manage → inspect → provide → deploy, each phase for all nodes at
// once, watching states until each node arrives or fails. Used by the main job and bench/deploy.
import axios, { type AxiosInstance } from 'axios';
import type { VirtualRack } from './index.ts';

export type Phase = 'enroll' | 'manage' | 'inspect' | 'provide' | 'deploy';

export interface ImageSpec {
  /** http(s):// or file:// URL. */
  source: string;
  sha256: string;
  format: 'qcow2' | 'raw';
}

export interface CycleOptions {
  apiUrl: string;
  rack: VirtualRack;
  image: ImageSpec;
  /** Config drive per node (meta_data, user_data, network_data), as Metal3 sends it. */
  configdrive?: (name: string) => Record<string, unknown>;
  /** Extra fields of each node (interfaces...). */
  nodeFields?: Record<string, unknown>;
  phases?: Phase[];
  /** Seconds a phase may take for all nodes. */
  phaseTimeoutSec?: number;
  onStateChange?: (change: { node: string; from: string | null; to: string; phase: Phase; elapsedMs: number }) => void;
  onPhase?: (phase: Phase, result: PhaseResult) => void;
}

export interface NodeState {
  name: string;
  uuid: string;
  provision_state: string;
  power_state: string | null;
  last_error: string | null;
}

export interface PhaseResult {
  phase: Phase;
  ms: number;
  reached: number;
  failed: NodeState[];
}

export const ALL_PHASES: Phase[] = ['enroll', 'manage', 'inspect', 'provide', 'deploy'];

const GOAL: Record<Exclude<Phase, 'enroll'>, { verb: string; goal: string }> = {
  manage: { verb: 'manage', goal: 'manageable' },
  inspect: { verb: 'inspect', goal: 'manageable' },
  provide: { verb: 'provide', goal: 'available' },
  deploy: { verb: 'active', goal: 'active' },
};

/** States a phase cannot leave by itself: reaching one means the phase failed for that node. */
function isFailure(state: string, phase: Phase): boolean {
  if (state.endsWith('failed') || state === 'error') return true;
  return phase === 'manage' && state === 'enroll';
}

export function apiClient(apiUrl: string): AxiosInstance {
  return axios.create({
    baseURL: `${apiUrl.replace(/\/$/, '')}/v1`,
    headers: { 'X-OpenStack-Ironic-API-Version': '1.89', 'Content-Type': 'application/json' },
    timeout: 30_000,
  });
}

/** Runs the phases in order; stops after a phase in which some node failed. */
export async function runCycle(opts: CycleOptions): Promise<{ phases: PhaseResult[]; nodes: NodeState[] }> {
  const api = apiClient(opts.apiUrl);
  const phases = opts.phases ?? ALL_PHASES;
  const results: PhaseResult[] = [];
  let uuids: string[] = [];
  for (const phase of phases) {
    const started = Date.now();
    let result: PhaseResult;
    if (phase === 'enroll') {
      uuids = await Promise.all(opts.rack.machines.map((_, i) => enroll(api, opts.rack, i, opts.nodeFields ?? {})));
      result = { phase, ms: Date.now() - started, reached: uuids.length, failed: [] };
    } else {
      if (uuids.length === 0) uuids = await existingNodes(api, opts.rack);
      result = await drive(api, uuids, phase, opts);
    }
    results.push(result);
    opts.onPhase?.(phase, result);
    if (result.failed.length > 0) break;
  }
  const nodes = await Promise.all(uuids.map((u) => nodeState(api, u)));
  return { phases: results, nodes };
}

async function enroll(api: AxiosInstance, rack: VirtualRack, index: number, extra: Record<string, unknown>): Promise<string> {
  const { node, ports } = rack.enrollment(index);
  const created = await api.post('/nodes', { ...node, ...extra });
  const uuid = created.data.uuid as string;
  for (const port of ports) await api.post('/ports', { ...port, node_uuid: uuid });
  return uuid;
}

async function existingNodes(api: AxiosInstance, rack: VirtualRack): Promise<string[]> {
  return Promise.all(rack.machines.map(async (m) => (await api.get(`/nodes/${m.name}`)).data.uuid as string));
}

async function nodeState(api: AxiosInstance, uuid: string): Promise<NodeState> {
  const n = (await api.get(`/nodes/${uuid}`, { params: { fields: 'uuid,name,provision_state,power_state,last_error' } })).data;
  return { name: n.name, uuid: n.uuid, provision_state: n.provision_state, power_state: n.power_state, last_error: n.last_error };
}

async function drive(api: AxiosInstance, uuids: string[], phase: Exclude<Phase, 'enroll'>, opts: CycleOptions): Promise<PhaseResult> {
  const started = Date.now();
  const { verb, goal } = GOAL[phase];
  await Promise.all(uuids.map(async (uuid) => {
    const body: Record<string, unknown> = { target: verb };
    if (phase === 'deploy') {
      const name = (await api.get(`/nodes/${uuid}`, { params: { fields: 'name' } })).data.name as string;
      await api.patch(`/nodes/${uuid}`, [
        { op: 'add', path: '/instance_info/image_source', value: opts.image.source },
        { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
        { op: 'add', path: '/instance_info/image_os_hash_value', value: opts.image.sha256 },
        { op: 'add', path: '/instance_info/image_disk_format', value: opts.image.format },
      ]);
      if (opts.configdrive) body.configdrive = opts.configdrive(name);
    }
    await api.put(`/nodes/${uuid}/states/provision`, body);
  }));

  const deadline = started + (opts.phaseTimeoutSec ?? 300) * 1000;
  const last = new Map<string, string | null>(uuids.map((u) => [u, null]));
  const done = new Map<string, NodeState>();
  while (done.size < uuids.length) {
    // One list call a round, whatever the number of nodes.
    const res = await api.get('/nodes', { params: { fields: 'uuid,name,provision_state,power_state,last_error', limit: 1000 } });
    for (const n of res.data.nodes as NodeState[]) {
      if (!last.has(n.uuid) || done.has(n.uuid)) continue;
      if (last.get(n.uuid) !== n.provision_state) {
        opts.onStateChange?.({ node: n.name, from: last.get(n.uuid) ?? null, to: n.provision_state, phase, elapsedMs: Date.now() - started });
        last.set(n.uuid, n.provision_state);
      }
      if (n.provision_state === goal || isFailure(n.provision_state, phase)) done.set(n.uuid, n);
    }
    if (done.size === uuids.length) break;
    if (Date.now() > deadline) {
      for (const u of uuids) if (!done.has(u)) done.set(u, { ...(await nodeState(api, u)), last_error: `still ${last.get(u)} after ${opts.phaseTimeoutSec ?? 300} s` });
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const states = [...done.values()];
  const failed = states.filter((n) => n.provision_state !== goal);
  return { phase, ms: Date.now() - started, reached: states.length - failed.length, failed };
}
