// An API server on a fresh database for the API tests, driven with app.inject().
import type { FastifyInstance } from 'fastify';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, type AnvilConfig } from '../../../common/config.ts';
import { silentLogger, type Logger } from '../../../common/logger.ts';
import { registerConductor } from '../../../db/conductors.ts';
import { openDatabase, type Database } from '../../../db/index.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { createTestDatabase, type Backend, type TestDatabase } from '../../helpers/db.ts';

export interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  raw: string;
}

export interface ApiHarness {
  t: TestDatabase;
  app: FastifyInstance;
  config: AnvilConfig;
  /** A request at `version` (default 1.95, i.e. latest); body objects are sent as JSON, strings as they are. */
  call(method: string, url: string, body?: unknown, version?: string | null): Promise<Reply>;
  close(): Promise<void>;
}

function caller(app: FastifyInstance): ApiHarness['call'] {
  return async (method, url, body, version = '1.95') => {
    const headers: Record<string, string> = {};
    if (version !== null) headers['X-OpenStack-Ironic-API-Version'] = version;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.inject({ method: method as 'GET', url, headers, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, raw: res.body };
  };
}

export function testConfig(): AnvilConfig {
  const config = defaultConfig(path.join(os.tmpdir(), 'anvil-api-test'));
  config.conductor.hostname = `api-test-${process.pid}`;
  config.conductor.pollInterval = 0.05;
  config.conductor.heartbeatInterval = 1;
  config.conductor.timeoutCheckInterval = 1;
  config.conductor.powerSyncInterval = 0;
  return config;
}

export async function startHarness(backend: Backend, opts: { taskTimeoutMs?: number; conductorRow?: boolean; configure?: (config: AnvilConfig) => void; logger?: Logger; maxVersion?: number } = {}): Promise<ApiHarness> {
  const t = await createTestDatabase(backend);
  const config = testConfig();
  opts.configure?.(config);
  const app = await createApiServer({ db: t.db, config, logger: opts.logger ?? silentLogger, taskTimeoutMs: opts.taskTimeoutMs, maxVersion: opts.maxVersion });
  // Drivers are listed only when a live conductor serves them.
  if (opts.conductorRow !== false) await registerConductor(t.db.knex, 'c1', '', ['fake-hardware', 'manual-management']);
  return {
    t,
    app,
    config,
    call: caller(app),
    async close() {
      await app.close();
      await t.drop();
    },
  };
}
/**
 * Starts conductors named `hosts` on the harness's database, each on its own connection on
 * PostgreSQL (as separate processes would be); returns the function that stops them.
 */
export async function startConductors(h: ApiHarness, hosts: string[]): Promise<() => Promise<void>> {
  const dbs: Database[] = [];
  const conductors: Conductor[] = [];
  for (const hostname of hosts) {
    const db = h.t.db.kind === 'sqlite' ? h.t.db : await openDatabase(h.t.url, { migrate: false });
    if (db !== h.t.db) dbs.push(db);
    const conductor = new Conductor({ db, config: { ...h.config, conductor: { ...h.config.conductor, hostname } }, logger: silentLogger });
    await conductor.start();
    conductors.push(conductor);
  }
  return async () => {
    for (const c of conductors) await c.stop();
    for (const db of dbs) await db.close();
  };
}

/** The faultstring inside Ironic's JSON-in-JSON error body. */
export function fault(reply: Reply): string {
  const inner = JSON.parse(reply.body.error_message);
  return inner.faultstring ?? inner.description;
}

export async function createNode(h: ApiHarness, fields: Record<string, unknown> = {}): Promise<any> {
  const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', ...fields });
  if (r.status !== 201) throw new Error(`node create failed: ${r.status} ${r.raw}`);
  return r.body;
}
