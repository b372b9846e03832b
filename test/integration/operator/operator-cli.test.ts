// The operator commands (bin/anvil: nodes import, nodes explain, watch) run as processes against a
// listening API with a conductor: a CSV and a YAML inventory imported with --dry-run, for real, and
// again (idempotent); a failed deploy explained; the fleet and a deploying node watched.
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { testConfig } from '../api/harness.ts';

const BIN = path.resolve(import.meta.dirname, '../../../bin/anvil.js');

describe('operator CLI against a live API', { timeout: 300_000 }, () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let conductor: Conductor;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-operator-'));

  const anvil = async (...args: string[]) => {
    const r = await execa('node', [BIN, ...args, '--url', url], { reject: false, timeout: 120_000, env: { ANVIL_URL: '' } });
    return { code: r.exitCode, out: r.stdout, err: r.stderr };
  };
  const json = async (...args: string[]) => {
    const r = await anvil(...args, '--output', 'json');
    expect(r.err).toBe('');
    return JSON.parse(r.out);
  };
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${url}${p}`, { method, headers: { 'X-OpenStack-Ironic-API-Version': '1.95', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    const config = testConfig();
    config.conductor.hostname = `operator-${process.pid}`;
    app = await createApiServer({ db: t.db, config, logger: silentLogger });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
  }, 60_000);
  afterAll(async () => {
    await conductor?.stop();
    await app?.close();
    await t?.drop();
  });

  it('imports a CSV inventory: dry run, for real, then again with nothing to do', async () => {
    const csv = path.join(dir, 'rack.csv');
    writeFileSync(csv, [
      'name,bmc_address,bmc_username,bmc_password,macs,resource_class,traits',
      'rf-1,redfish+http://127.0.0.1:8000/redfish/v1/Systems/1,admin,pw-rf-1,52:54:00:aa:00:01 52:54:00:aa:00:02,baremetal-large,CUSTOM_GPU CUSTOM_RACK_A',
      'ipmi-1,ipmi://127.0.0.1:6230,root,pw-ipmi-1,52:54:00:aa:00:03,baremetal-small,',
    ].join('\n'));

    const plan = await json('nodes', 'import', csv, '--dry-run');
    expect(plan.map((r: any) => [r.name, r.action])).toEqual([['rf-1', 'create'], ['ipmi-1', 'create']]);
    expect((await api('GET', '/v1/nodes')).body.nodes).toEqual([]);

    const done = await json('nodes', 'import', csv);
    expect(done.map((r: any) => r.action)).toEqual(['create', 'create']);
    const rf = (await api('GET', '/v1/nodes/rf-1')).body;
    expect(rf).toMatchObject({ driver: 'redfish', resource_class: 'baremetal-large', traits: ['CUSTOM_GPU', 'CUSTOM_RACK_A'] });
    expect(rf.driver_info).toMatchObject({ redfish_address: 'http://127.0.0.1:8000', redfish_system_id: '/redfish/v1/Systems/1', redfish_username: 'admin', redfish_password: '******' });
    expect((await api('GET', '/v1/nodes/rf-1/ports')).body.ports.map((p: any) => p.address).sort()).toEqual(['52:54:00:aa:00:01', '52:54:00:aa:00:02']);
    const ipmi = (await api('GET', '/v1/nodes/ipmi-1')).body;
    expect(ipmi).toMatchObject({ driver: 'ipmi', resource_class: 'baremetal-small' });
    expect(ipmi.driver_info).toMatchObject({ ipmi_address: '127.0.0.1', ipmi_port: 6230, ipmi_username: 'root' });

    const again = await anvil('nodes', 'import', csv);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/0 to create, 0 to update, 2 unchanged, 0 refused/);
    expect(again.out).not.toContain('pw-rf-1');
  });

  it('imports a YAML inventory: only what differs changes; a MAC of another node is refused', async () => {
    const yaml = path.join(dir, 'rack.yaml');
    writeFileSync(yaml, `nodes:
  - name: rf-1
    bmc: { address: "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1", username: admin, password: pw-rf-1 }
    macs: [52:54:00:aa:00:01, 52:54:00:aa:00:02, 52:54:00:aa:00:04]
    resource_class: baremetal-gpu
    traits: [CUSTOM_GPU, CUSTOM_RACK_A]
  - name: thief
    driver: fake-hardware
    macs: [52:54:00:aa:00:03]
`);
    const results = await anvil('nodes', 'import', yaml, '--output', 'json');
    expect(results.code).toBe(1);
    const [rf, thief] = JSON.parse(results.out);
    expect(rf).toMatchObject({ name: 'rf-1', action: 'update', changes: ['resource_class baremetal-large -> baremetal-gpu', 'port 52:54:00:aa:00:04'] });
    expect(thief).toMatchObject({ name: 'thief', action: 'error' });
    expect(thief.error).toMatch(/52:54:00:aa:00:03 is a port of another node/);
    expect((await api('GET', '/v1/nodes/rf-1')).body.resource_class).toBe('baremetal-gpu');
    expect((await api('GET', '/v1/nodes/thief')).status).toBe(404);
  });

  it('explains a failed deploy in plain words', async () => {
    const node = (await api('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'broken-1', driver_info: { fake_fail: 'deploy' } })).body;
    for (const target of ['manage', 'provide', 'active']) {
      expect((await api('PUT', `/v1/nodes/${node.uuid}/states/provision`, { target })).status).toBe(202);
      const want = { manage: 'manageable', provide: 'available', active: 'deploy failed' }[target];
      for (let i = 0; i < 600 && (await api('GET', `/v1/nodes/${node.uuid}`)).body.provision_state !== want; i++) await new Promise((r) => setTimeout(r, 50));
    }
    const x = await json('nodes', 'explain', 'broken-1');
    expect(x.node).toMatchObject({ name: 'broken-1', provision_state: 'deploy failed' });
    expect(x.last_error).toMatch(/Injected failure of fake deploy/);
    expect(x.summary).toMatch(/failed to deploy/);
    expect(x.next).toMatch(/deploy again .*undeploy/);
    expect(x.recent.at(-1).event).toMatch(/deploy failed/);
    const text = await anvil('nodes', 'explain', 'broken-1');
    expect(text.out).toMatch(/^Node broken-1 \([0-9a-f-]+\) failed to deploy; power is [^.]+\. Last error: Deploy failed: Injected failure/);
    expect(text.out).toMatch(/What happened last:/);
    expect(text.out).toMatch(/What to do next: fix what last_error names/);
    const missing = await anvil('nodes', 'explain', 'no-such-node');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/HTTP 404: Node no-such-node could not be found/);
  });

  it('watches the fleet once, and a deploying node until it is at rest', async () => {
    const once = await json('watch', '--once');
    expect(once.fleet.total).toBe(3);
    expect(once.fleet.by_state).toMatchObject({ enroll: 2, 'deploy failed': 1 });
    expect(once.nodes.every((n: any) => n.progress === 1)).toBe(true);

    const node = (await api('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'slow-1', driver_info: { fake_delay: 0.5 } })).body;
    for (const [target, state] of [['manage', 'manageable'], ['provide', 'available']]) {
      expect((await api('PUT', `/v1/nodes/${node.uuid}/states/provision`, { target })).status).toBe(202);
      for (let i = 0; i < 600 && (await api('GET', `/v1/nodes/${node.uuid}`)).body.provision_state !== state; i++) await new Promise((r) => setTimeout(r, 50));
    }
    // The watcher starts first (a node at rest), then the deploy: it sees it go through and exits at active.
    const proc = execa('node', [BIN, 'watch', 'slow-1', '--until', 'active,deploy failed', '--interval', '0.1', '--output', 'json', '--url', url], { reject: false, timeout: 120_000 });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    for (let i = 0; i < 1200 && !out.includes('"available"'); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await api('PUT', `/v1/nodes/${node.uuid}/states/provision`, { target: 'active' })).status).toBe(202);
    const watched = await proc;
    expect(watched.exitCode).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ name: 'slow-1', provision_state: 'available', progress: 1 });
    expect(lines.at(-1)).toMatchObject({ name: 'slow-1', provision_state: 'active', progress: 1 });
    expect(lines.some((l) => l.provision_state === 'deploying' && l.progress < 1)).toBe(true);

    const table = await anvil('watch', '--once');
    expect(table.out).toMatch(/^fleet: 4\/4 at rest/);
    expect(table.out).toMatch(/100% slow-1 +active/);
  });
});
