// What the in-band deploy and servicing tests share: a test database, the API on loopback, one
// conductor, and a FakePowerRack whose simulated agents (deploy-agent/ with simulated machines,
// the built-in plugins loaded, or the folders given) serve fake-hardware nodes.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { BUILTIN_PLUGIN_DIR } from '../../../deploy-agent/plugins.ts';
import { stopImageServer } from '../../../drivers/in-band/image-source.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import type { MemoryMachine } from '../../../simulators/machine.ts';
import { FakePowerRack } from '../../../simulators/ramdisk-agents/fake-power-rack.ts';
import { createTestDatabase, type Backend, type TestDatabase } from '../../helpers/db.ts';
import { testConfig, untilState } from '../conductor/helpers.ts';

type Json = Record<string, any>;

export const MIB = 1024 * 1024;

export interface AgentHarness {
  t: TestDatabase;
  rack: FakePowerRack;
  dir: string;
  call(method: string, p: string, body?: unknown, version?: string): Promise<{ status: number; body: Json }>;
  provision(uuid: string, target: string, extra?: Json): Promise<void>;
  /** A fake-hardware node (direct deploy, `fields` over it) for a new simulated machine, with ports for its NICs (all, or all but the first). */
  enroll(name: string, fields?: Json, opts?: { diskBytes?: number; nics?: 'all' | 'second' }): Promise<{ id: number; uuid: string; machine: MemoryMachine }>;
  /** The same, made available without cleaning. */
  availableNode(name: string, fields?: Json, diskBytes?: number): Promise<{ id: number; uuid: string; machine: MemoryMachine }>;
  setInstanceInfo(uuid: string, fields: Json): Promise<void>;
  /** The node's history events, oldest first. */
  events(id: number): Promise<string[]>;
  close(): Promise<void>;
}

export interface AgentHarnessOptions {
  pluginDirs?: string[];
  /** Seconds the conductor waits for an agent (deployCallback, cleanCallback, serviceCallback); default 30. */
  callbackTimeout?: number;
  /** Edits the configuration before the API and the conductor start (fast track...). */
  configure?: (config: ReturnType<typeof testConfig>) => void;
}

export async function startAgentHarness(backend: Backend, name: string, opts: AgentHarnessOptions = {}): Promise<AgentHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `anvil-${name}-`));
  const t = await createTestDatabase(backend);
  const wait = opts.callbackTimeout ?? 30;
  const config = testConfig(`${name}-${backend}`, { timeouts: { ...testConfig('x').conductor.timeouts, deployCallback: wait, cleanCallback: wait, serviceCallback: wait } });
  config.images = { cacheDir: path.join(dir, 'cache'), cacheMaxBytes: 512 * MIB };
  Object.assign(config.agent, { powerOffWait: 0.5, powerOffPollInterval: 0.1, commandTimeout: 30 });
  opts.configure?.(config);
  const api: FastifyInstance = await createApiServer({ db: t.db, config, logger: silentLogger });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  config.api.publicUrl = apiUrl;
  const conductor = new Conductor({ db: t.db, config, logger: silentLogger });
  await conductor.start();
  const rack = new FakePowerRack({ apiUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger, heartbeatIntervalMs: 300, lookupRetryMs: 50, pluginDirs: opts.pluginDirs ?? [BUILTIN_PLUGIN_DIR] });

  const call: AgentHarness['call'] = async (method, p, body, version = '1.95') => {
    const res = await fetch(`${apiUrl}${p}`, {
      method,
      headers: { 'x-openstack-ironic-api-version': version, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  const provision: AgentHarness['provision'] = async (uuid, target, extra = {}) => {
    const res = await call('PUT', `/v1/nodes/${uuid}/states/provision`, { target, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  };
  const enroll: AgentHarness['enroll'] = async (nodeName, fields = {}, { diskBytes = 128 * MIB, nics = 'all' } = {}) => {
    const machine = rack.addMachine(nodeName, diskBytes);
    const created = await call('POST', '/v1/nodes', { name: nodeName, driver: 'fake-hardware', deploy_interface: 'direct', ...fields });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const nic of nics === 'second' ? machine.hardware.nics.slice(1) : machine.hardware.nics) {
      expect((await call('POST', '/v1/ports', { node_uuid: created.body.uuid, address: nic.mac })).status).toBe(201);
    }
    const row = await t.db.knex('nodes').where({ uuid: created.body.uuid }).first('id');
    return { id: row.id as number, uuid: created.body.uuid as string, machine };
  };
  return {
    t, rack, dir, call, provision, enroll,
    async availableNode(nodeName, fields = {}, diskBytes = 128 * MIB) {
      const n = await enroll(nodeName, { automated_clean: false, ...fields }, { diskBytes });
      await provision(n.uuid, 'manage');
      await untilState(t.db, n.id, 'manageable');
      await provision(n.uuid, 'provide');
      await untilState(t.db, n.id, 'available');
      return n;
    },
    async setInstanceInfo(uuid, fields) {
      const ops = Object.entries(fields).map(([k, v]) => ({ op: 'add', path: `/instance_info/${k}`, value: v }));
      const res = await call('PATCH', `/v1/nodes/${uuid}`, ops);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    },
    async events(id) {
      return (await t.db.knex('node_history').where({ node_id: id }).orderBy('id')).map((h: Json) => h.event as string);
    },
    async close() {
      await rack.close();
      await conductor.stop();
      await api.close();
      await stopImageServer();
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
