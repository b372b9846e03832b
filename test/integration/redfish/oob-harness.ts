// What the out-of-band interface tests share: a Redfish simulator, the API (app.inject) and a
// conductor on one test database, the provision verb as a client sends it, and python3-sushy
// scripts run as a second client of the simulator.
import { execa } from 'execa';
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import { expect } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { createApiServer } from '../../../services/api/server.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { startRedfishSimulator, type RedfishSimulator, type RedfishSimulatorOptions } from '../../../simulators/redfish-bmc/index.ts';
import { createTestDatabase, type Backend, type TestDatabase } from '../../helpers/db.ts';
import { testConfig } from '../api/harness.ts';
import { startConductor, untilState } from '../conductor/helpers.ts';

export interface OobHarness {
  t: TestDatabase;
  sim: RedfishSimulator;
  /** A request at `version` (default 1.89); the body parsed. */
  call(method: string, url: string, body?: unknown, version?: string): Promise<{ status: number; body: any }>;
  /** PUT /states/provision, expecting 202. */
  provision(node: NodeRecord, body: Record<string, unknown>): Promise<void>;
  /** manage, provide, deploy (the node's deploy interface): the node active without an error. */
  toActive(node: NodeRecord): Promise<void>;
  /** driver_info for the simulator's system `index`. */
  driverInfo(index: number): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startOobHarness(backend: Backend, name: string, simulator: RedfishSimulatorOptions): Promise<OobHarness> {
  const t = await createTestDatabase(backend);
  const sim = await startRedfishSimulator({ auth: { username: 'admin', password: 'pw' }, ...simulator });
  const app: FastifyInstance = await createApiServer({ db: t.db, config: testConfig(), logger: silentLogger });
  const conductor: Conductor = await startConductor(t.db, `${name}-${backend}`);
  const call: OobHarness['call'] = async (method, url, body, version = '1.89') => {
    const res = await app.inject({ method: method as 'GET', url, headers: { 'X-OpenStack-Ironic-API-Version': version, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const provision: OobHarness['provision'] = async (node, body) => {
    const r = await call('PUT', `/v1/nodes/${node.uuid}/states/provision`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  };
  return {
    t, sim, call, provision,
    async toActive(node) {
      for (const [target, state] of [['manage', 'manageable'], ['provide', 'available'], ['active', 'active']]) {
        await provision(node, { target });
        expect((await untilState(t.db, node.id, state)).last_error).toBeNull();
      }
    },
    driverInfo: (index) => ({ redfish_address: sim.url, redfish_system_id: sim.systemIds[index], redfish_username: 'admin', redfish_password: 'pw', redfish_timeout: 10 }),
    async close() {
      await conductor.stop();
      await app.close();
      await closeAllClients();
      await sim.close();
      await t.drop();
    },
  };
}

/** Runs test/integration/redfish/<script> with Debian's python3-sushy against the simulator; its JSON output. */
export async function sushy<T>(script: string, sim: RedfishSimulator, ...args: string[]): Promise<T> {
  // requests prefers REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE over the session's CA: keep them out.
  const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env;
  const r = await execa('/usr/bin/python3', [path.join(import.meta.dirname, script), sim.url, 'admin', 'pw', ...args], { env, extendEnv: false, reject: false, timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`sushy (${script}) failed (${r.exitCode}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
