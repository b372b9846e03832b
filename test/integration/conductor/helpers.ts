// Driving a conductor in tests the way the API does: write the next provision state
// or the power request on the node row, then wake the owning conductor (notifyNodeWork). No API server is involved.
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig, type AnvilConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { transitionFields, VERBS } from '../../../common/states.ts';
import { historyOfNode, type HistoryRecord } from '../../../db/history.ts';
import type { Database } from '../../../db/index.ts';
import { createNode, getNodeById, updateNode, type NodeRecord } from '../../../db/nodes.ts';
import type { ProvisionRequest } from '../../../db/requests.ts';
import { notifyNodeWork } from '../../../db/tasks.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';

/** A configuration with intervals short enough for tests. */
export function testConfig(hostname: string, overrides: Partial<AnvilConfig['conductor']> = {}): AnvilConfig {
  const config = defaultConfig('/tmp');
  config.conductor = {
    ...config.conductor,
    hostname,
    heartbeatInterval: 0.3,
    // Long enough that a loaded test machine does not declare a live conductor dead.
    heartbeatTimeout: 3,
    pollInterval: 0.2,
    workers: 20,
    powerSyncInterval: 0,
    timeoutCheckInterval: 0.2,
    shutdownTimeout: 5,
    ...overrides,
    timeouts: { ...config.conductor.timeouts, ...overrides.timeouts },
  };
  return config;
}

export async function startConductor(db: Database, hostname: string, overrides: Partial<AnvilConfig['conductor']> = {}): Promise<Conductor> {
  const conductor = new Conductor({ db, config: testConfig(hostname, overrides), logger: silentLogger });
  await conductor.start();
  return conductor;
}

export async function fakeNode(db: Database, fields: Partial<NodeRecord> = {}): Promise<NodeRecord> {
  return createNode(db.knex, { driver: 'fake-hardware', provision_state: 'enroll', ...fields });
}

/**
 * What the API does for PUT /states/provision: the next state and the request saved (compare-and-set),
 * conductors woken. A node a conductor holds for a moment (a power sync) is asked again, as clients
 * do on the API's 409 NodeLocked.
 */
export async function requestProvision(db: Database, node: NodeRecord, verb: string, request: ProvisionRequest | null = null): Promise<NodeRecord> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const current = (await getNodeById(db.knex, node.id))!;
    const move = transitionFields(current, VERBS[verb].event);
    if (!move) throw new Error(`verb ${verb} not allowed in ${current.provision_state}`);
    const updated = current.reservation
      ? undefined
      : await updateNode(db.knex, node.id, { ...move, last_error: null, provision_request: request }, { provision_state: current.provision_state, reservation: null });
    if (updated) {
      await notifyNodeWork(db, node);
      return updated;
    }
    if (Date.now() > deadline) throw new Error(`node ${node.uuid} changed under the request (reserved by ${current.reservation ?? 'nobody'})`);
    await sleep(50);
  }
}

/** What the API does for PUT /states/power. */
export async function requestPower(db: Database, node: NodeRecord, target: string, timeout?: number): Promise<void> {
  const targetPower = target === 'power off' || target === 'soft power off' ? 'power off' : 'power on';
  await updateNode(db.knex, node.id, {
    target_power_state: targetPower,
    last_error: null,
    power_request: timeout === undefined ? { target } : { target, timeout },
  });
  await notifyNodeWork(db, node);
}

/** Polls until `check` returns a value (not undefined/false), or throws after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the node is unlocked and in `state`. */
export async function untilState(db: Database, nodeId: number, state: string | string[], ms = 15_000): Promise<NodeRecord> {
  const states = Array.isArray(state) ? state : [state];
  let last: NodeRecord | undefined;
  try {
    return await eventually(async () => {
      last = await getNodeById(db.knex, nodeId);
      return last && states.includes(last.provision_state) && last.reservation === null ? last : undefined;
    }, ms, `node ${nodeId} to reach ${states.join('|')}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; it is "${last?.provision_state}" (reservation ${last?.reservation}, last_error ${last?.last_error})`);
  }
}

export async function history(db: Database, nodeId: number): Promise<HistoryRecord[]> {
  return historyOfNode(db.knex, nodeId);
}

/**
 * Takes the nodes manage → provide → deploy, each step for all of them, and returns what each
 * node's history says was done, and the conductors that did it.
 */
export async function runLifecycle(db: Database, nodes: NodeRecord[]): Promise<{ events: string[][]; conductors: string[] }> {
  for (const [verb, state] of [['manage', 'manageable'], ['provide', 'available'], ['active', 'active']]) {
    for (const n of nodes) await requestProvision(db, n, verb);
    for (const n of nodes) await untilState(db, n.id, state, 30_000);
  }
  const events: string[][] = [];
  const conductors = new Set<string>();
  for (const n of nodes) {
    const lines = await history(db, n.id);
    events.push(lines.map((h) => h.event));
    for (const h of lines) conductors.add(h.conductor!);
  }
  return { events, conductors: [...conductors].sort() };
}

/** The history of a node that went manage → provide → deploy once, on fake hardware. */
export const ONE_LIFECYCLE = [
  'Power and management access verified: "verifying" -> "manageable"',
  'Automated cleaning finished: "cleaning" -> "available"',
  'Deploy finished: "deploying" -> "active"',
];

