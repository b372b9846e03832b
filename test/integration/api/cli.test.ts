// The real `baremetal` CLI (Debian python3-ironicclient) against a listening Anvil API with a
// Conductor in the same process and database: every command an operator types for the basic
// lifecycle, including `--wait`. SQLite only: each command starts a Python process (~1.5 s), and
// the PostgreSQL paths are covered by the app.inject() suites.
// Debian's client (5.0.1) knows API versions up to 1.78 and has no option for the fields of 1.97-1.115
// (port description/vendor/category, port group physical_network/category, instance_name, health,
// runbook traits, history project/state): versions-1.97-1.115.test.ts drives those over REST.
// It has deploy template, volume connector/target, node console, rescue/unrescue, inject nmi and
// passthru commands, which are used here; node indicators (1.63), POST /v1/events, parent_node and
// `node children list` (1.83) have no command in it: the children case here and the others' tests use REST.
import { execa } from 'execa';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { findNode } from '../../../db/nodes.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { testConfig } from './harness.ts';

// Each command is a Python start-up (seconds on a loaded machine): generous per-test timeouts.
describe('baremetal CLI against Anvil (sqlite)', { timeout: 300_000 }, () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let conductor: Conductor;
  let endpoint: string;

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    const config = testConfig();
    config.conductor.hostname = 'cli-conductor';
    app = await createApiServer({ db: t.db, config, logger: silentLogger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor?.stop();
    await app?.close();
    await t?.drop();
  });

  /** Runs `baremetal` with no auth, as an operator of a standalone Anvil would. */
  async function baremetal(...args: string[]) {
    const r = await execa('/usr/bin/baremetal', ['--os-auth-type', 'none', '--os-endpoint', endpoint, ...args], {
      reject: false,
      timeout: 120_000,
      env: { OS_AUTH_TYPE: 'none', HOME: process.env.HOME ?? '/tmp' },
      extendEnv: false,
    });
    return { code: r.exitCode, out: r.stdout, err: r.stderr };
  }
  async function ok(...args: string[]): Promise<string> {
    const r = await baremetal(...args);
    expect(r.code, `baremetal ${args.join(' ')}: ${r.err}`).toBe(0);
    return r.out;
  }
  const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

  /** Polls the database until the conductor has done what was asked (no timing asserted). */
  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`gave up waiting for ${what}`);
  }

  it('creates, lists, shows, sets and unsets a node', async () => {
    const created = await json('node', 'create', '--driver', 'fake-hardware', '--name', 'n1', '--driver-info', 'ipmi_password=s3cret', '--property', 'cpus=4');
    expect(created).toMatchObject({ name: 'n1', driver: 'fake-hardware', provision_state: 'enroll', power_interface: 'fake' });
    expect(created.driver_info.ipmi_password).toBe('******');
    const list = await json('node', 'list');
    expect(list).toEqual([expect.objectContaining({ UUID: created.uuid, Name: 'n1', 'Provisioning State': 'enroll', Maintenance: false })]);
    await ok('node', 'set', 'n1', '--property', 'cpu_arch=x86_64', '--extra', 'rack=r1', '--resource-class', 'gold');
    await ok('node', 'unset', 'n1', '--property', 'cpus');
    const shown = await json('node', 'show', 'n1', '--fields', 'properties', 'extra', 'resource_class', 'driver_info');
    expect(shown).toEqual({ properties: { cpu_arch: 'x86_64' }, extra: { rack: 'r1' }, resource_class: 'gold', driver_info: { ipmi_password: '******' } });
    expect(await json('node', 'list', '--long', '--provision-state', 'enroll', '--resource-class', 'gold')).toEqual([expect.objectContaining({ Driver: 'fake-hardware' })]);
  });

  it('creates, lists, shows and deletes ports', async () => {
    const node = (await findNode(t.db.knex, 'n1'))!;
    const port = await json('port', 'create', '52:54:00:12:34:56', '--node', node.uuid, '--pxe-enabled', 'true');
    expect(port).toMatchObject({ address: '52:54:00:12:34:56', node_uuid: node.uuid, pxe_enabled: true });
    const other = await json('port', 'create', '52:54:00:12:34:57', '--node', node.uuid);
    expect(await json('port', 'list', '--node', 'n1')).toEqual([
      expect.objectContaining({ Address: '52:54:00:12:34:56' }),
      expect.objectContaining({ Address: '52:54:00:12:34:57' }),
    ]);
    expect((await json('port', 'show', port.uuid)).node_uuid).toBe(node.uuid);
    await ok('port', 'delete', other.uuid);
    expect(await json('port', 'list')).toHaveLength(1);
    const byName = await baremetal('port', 'create', '52:54:00:12:34:58', '--node', 'n1');
    expect(byName.code).not.toBe(0);
    expect(byName.err).toContain('Expected UUID for node_uuid: n1');
  });

  it('lists drivers and conductors, and validates the node', async () => {
    expect(await json('driver', 'list')).toEqual(expect.arrayContaining([{ 'Supported driver(s)': 'fake-hardware', 'Active host(s)': 'cli-conductor' }]));
    expect(await json('conductor', 'list')).toEqual([{ Hostname: 'cli-conductor', 'Conductor Group': '', Alive: true }]);
    const validate = await json('node', 'validate', 'n1');
    expect(validate).toEqual(expect.arrayContaining([{ Interface: 'power', Result: true, Reason: null }, expect.objectContaining({ Interface: 'console', Result: false })]));
  });

  it('shows Ironic\'s error message for an impossible action', async () => {
    const r = await baremetal('node', 'deploy', 'n1');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('The requested action "active" can not be performed on node "n1" while it is in state "enroll".');
  });

  it('manages, provides, deploys and undeploys with --wait', async () => {
    const state = async () => (await findNode(t.db.knex, 'n1'))!.provision_state;
    await ok('node', 'manage', 'n1', '--wait', '60');
    expect(await state()).toBe('manageable');
    await ok('node', 'provide', 'n1', '--wait', '60');
    expect(await state()).toBe('available');
    await ok('node', 'deploy', 'n1', '--wait', '60');
    expect((await json('node', 'show', 'n1', '--fields', 'provision_state', 'target_provision_state'))).toEqual({ provision_state: 'active', target_provision_state: null });
    await ok('node', 'undeploy', 'n1', '--wait', '60');
    expect(await state()).toBe('available');
  });

  it('powers the node on and off, and sets and unsets maintenance', async () => {
    await ok('node', 'power', 'on', 'n1');
    await until(async () => (await findNode(t.db.knex, 'n1'))!.power_state === 'power on', 'power on');
    await ok('node', 'power', 'off', 'n1');
    await until(async () => (await findNode(t.db.knex, 'n1'))!.power_state === 'power off', 'power off');
    await ok('node', 'maintenance', 'set', 'n1', '--reason', 'swap a disk');
    expect(await json('node', 'show', 'n1', '--fields', 'maintenance', 'maintenance_reason')).toEqual({ maintenance: true, maintenance_reason: 'swap a disk' });
    await ok('node', 'maintenance', 'unset', 'n1');
    expect((await findNode(t.db.knex, 'n1'))!.maintenance).toBe(false);
  });

  it('rescues and unrescues the deployed node with a password, and injects an NMI', async () => {
    const show = (...fields: string[]) => json('node', 'show', 'n1', '--fields', ...fields);
    await ok('node', 'set', 'n1', '--rescue-interface', 'fake');
    await ok('node', 'deploy', 'n1', '--wait', '60');
    await ok('node', 'rescue', 'n1', '--rescue-password', 'cli-rescue-pw', '--wait', '60');
    const rescued = await show('provision_state', 'instance_info');
    expect(rescued).toEqual({ provision_state: 'rescue', instance_info: expect.objectContaining({ hashed_rescue_password: '******' }) });
    const refused = await baremetal('node', 'rescue', 'n1', '--rescue-password', '');
    expect(refused.code).not.toBe(0);
    await ok('node', 'unrescue', 'n1', '--wait', '60');
    const back = await show('provision_state', 'instance_info');
    expect(back.provision_state).toBe('active');
    expect(back.instance_info.hashed_rescue_password).toBeUndefined();

    await ok('node', 'inject', 'nmi', 'n1');
    await ok('node', 'set', 'n1', '--driver-info', 'fake_fail=power');
    const nmi = await baremetal('node', 'inject', 'nmi', 'n1');
    expect(nmi.code).not.toBe(0);
    expect(nmi.err).toContain('Injected failure of fake power');
    await ok('node', 'unset', 'n1', '--driver-info', 'fake_fail');

    await ok('node', 'undeploy', 'n1', '--wait', '60');
    await ok('node', 'power', 'off', 'n1');
    await until(async () => (await findNode(t.db.knex, 'n1'))!.power_state === 'power off', 'power off');
  });

  it('enables, shows and disables the console of a node with the fake console', async () => {
    await ok('node', 'create', '--driver', 'fake-hardware', '--name', 'con-1', '--console-interface', 'fake');
    const enabled = async () => (await findNode(t.db.knex, 'con-1'))!.console_enabled;
    await ok('node', 'console', 'enable', 'con-1');
    await until(enabled, 'the console enabled');
    expect(await json('node', 'console', 'show', 'con-1')).toEqual({ console_enabled: true, console_info: {} });
    await ok('node', 'console', 'disable', 'con-1');
    await until(async () => !(await enabled()), 'the console disabled');
    expect(await json('node', 'console', 'show', 'con-1')).toEqual({ console_enabled: false, console_info: null });
    // n1 has fake-hardware's default console, no-console.
    const refused = await baremetal('node', 'console', 'enable', 'n1');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('does not support a console');
  });

  it('lists a node\'s children over REST (the CLI has neither --parent-node nor node children list)', async () => {
    const call = (method: string, path: string, body?: unknown) => fetch(`${endpoint}${path}`, {
      method, headers: { 'X-OpenStack-Ironic-API-Version': '1.83', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const child = await call('PATCH', '/v1/nodes/con-1', [{ op: 'add', path: '/parent_node', value: 'n1' }]);
    expect(child.status).toBe(200);
    const children = await (await call('GET', '/v1/nodes/n1/children')).json();
    expect(children.children).toEqual([(await findNode(t.db.knex, 'con-1'))!.uuid]);
  });

  it('creates, lists, shows, sets and deletes deploy templates', async () => {
    const steps = JSON.stringify([{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'LogicalProc', value: 'Enabled' }] }, priority: 150 }]);
    const created = await json('deploy', 'template', 'create', 'CUSTOM_HYPERTHREADING_ON', '--steps', steps, '--extra', 'team=hpc');
    expect(created).toMatchObject({ name: 'CUSTOM_HYPERTHREADING_ON', extra: { team: 'hpc' }, steps: [expect.objectContaining({ step: 'apply_configuration', priority: 150 })] });
    expect(await json('deploy', 'template', 'list')).toEqual([{ UUID: created.uuid, Name: 'CUSTOM_HYPERTHREADING_ON' }]);
    await ok('deploy', 'template', 'set', 'CUSTOM_HYPERTHREADING_ON', '--name', 'CUSTOM_HT_ON');
    expect((await json('deploy', 'template', 'show', created.uuid)).name).toBe('CUSTOM_HT_ON');
    const bad = await baremetal('deploy', 'template', 'create', 'not-a-trait', '--steps', steps);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('Deploy template name must be a valid trait');
    await ok('deploy', 'template', 'delete', 'CUSTOM_HT_ON');
    expect(await json('deploy', 'template', 'list')).toEqual([]);
  });

  it('creates, lists, sets and deletes volume connectors and targets of the powered-off node', async () => {
    const node = (await findNode(t.db.knex, 'n1'))!;
    expect(node.power_state).toBe('power off');
    const connector = await json('volume', 'connector', 'create', '--node', node.uuid, '--type', 'iqn', '--connector-id', 'iqn.2026-12.org.anvil:n1');
    expect(connector).toMatchObject({ node_uuid: node.uuid, type: 'iqn', connector_id: 'iqn.2026-12.org.anvil:n1' });
    const target = await json('volume', 'target', 'create', '--node', node.uuid, '--type', 'iscsi', '--boot-index', '0', '--volume-id', 'vol-boot',
      '--property', 'target_iqn=iqn.2026-12.org.anvil:boot', '--property', 'target_portal=192.0.2.20:3260', '--property', 'auth_password=chap-secret');
    expect(target).toMatchObject({ node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-boot' });
    expect(target.properties.auth_password).toBe('******');
    expect(await json('volume', 'connector', 'list', '--node', 'n1')).toEqual([expect.objectContaining({ UUID: connector.uuid, Type: 'iqn', 'Connector ID': 'iqn.2026-12.org.anvil:n1' })]);
    expect(await json('volume', 'target', 'list', '--node', 'n1')).toEqual([expect.objectContaining({ UUID: target.uuid, 'Boot Index': 0, 'Volume ID': 'vol-boot' })]);
    await ok('volume', 'connector', 'set', connector.uuid, '--connector-id', 'iqn.2026-12.org.anvil:n1-b');
    expect((await json('volume', 'connector', 'show', connector.uuid)).connector_id).toBe('iqn.2026-12.org.anvil:n1-b');
    await ok('volume', 'target', 'delete', target.uuid);
    await ok('volume', 'connector', 'delete', connector.uuid);
    expect(await json('volume', 'connector', 'list')).toEqual([]);
  });

  it('lists the vendor passthru methods of an ipmi node', async () => {
    await ok('node', 'create', '--driver', 'ipmi', '--name', 'bmc-1', '--driver-info', 'ipmi_address=192.0.2.30', '--driver-info', 'ipmi_username=admin', '--driver-info', 'ipmi_password=pw');
    const methods = await json('node', 'passthru', 'list', 'bmc-1');
    expect(methods.map((m: Record<string, unknown>) => m.Name).sort()).toEqual(['bmc_reset', 'send_raw']);
    expect(methods.find((m: Record<string, unknown>) => m.Name === 'send_raw')).toMatchObject({ 'Supported HTTP methods': 'POST', 'Async': false });
  });

  it('lists the node history', async () => {
    const history = await json('node', 'history', 'list', 'n1');
    const events = history.map((e: Record<string, string>) => e['Description of the event']).join('\n');
    expect(events).toContain('"manage" requested');
    expect(events).toContain('"deleted" requested');
    expect(history[0].Severity).toBe('INFO');
  });
});
