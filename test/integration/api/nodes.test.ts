// /, /v1 and /v1/nodes through app.inject(), on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateNode, findNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';
import { MAX_VERSION, versionString } from '../../../services/api/version.ts';

const MAX = versionString(MAX_VERSION);
const TOO_NEW = versionString(MAX_VERSION + 1);

describe.each(BACKENDS)('nodes API on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  describe('version documents and negotiation', () => {
    it('serves the root document gophercloud and IPA discover', async () => {
      const r = await h.call('GET', '/', undefined, null);
      expect(r.status).toBe(200);
      expect(r.body.name).toBe('OpenStack Ironic API');
      expect(r.body.default_version).toMatchObject({ id: 'v1', status: 'CURRENT', min_version: '1.1', version: MAX });
      expect(r.body.versions).toHaveLength(1);
    });

    it('serves /v1 with links to resources the requested version has', async () => {
      const old = await h.call('GET', '/v1/', undefined, '1.1');
      expect(old.body.nodes[0].href).toMatch(/\/v1\/nodes\/$/);
      expect(old.body.nodes[1]).toMatchObject({ rel: 'bookmark' });
      expect(old.body.portgroups).toBeUndefined();
      expect(old.body.version.version).toBe(MAX);
      expect(old.body.shards).toBeUndefined();
      expect(old.body.runbooks).toBeUndefined();
      const latest = await h.call('GET', '/v1', undefined, 'latest');
      expect(latest.body.conductors).toBeDefined();
      expect(latest.body.shards[0].href).toMatch(/\/v1\/shards\/$/);
      expect(latest.body.runbooks[0].href).toMatch(/\/v1\/runbooks\/$/);
      expect(latest.headers['x-openstack-ironic-api-version']).toBe(MAX);
    });

    it('sets the version headers on every answer and treats a missing header as 1.1', async () => {
      const r = await h.call('GET', '/v1/nodes', undefined, null);
      expect(r.headers['x-openstack-ironic-api-minimum-version']).toBe('1.1');
      expect(r.headers['x-openstack-ironic-api-maximum-version']).toBe(MAX);
      expect(r.headers['x-openstack-ironic-api-version']).toBe('1.1');
      expect(r.headers['openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
      expect(r.headers['x-openstack-request-id']).toBe(r.headers['openstack-request-id']);
      const missing = await h.call('GET', '/v1/nodes/no-such-node');
      expect(missing.status).toBe(404);
      expect(missing.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
      const tooNew = await h.call('GET', '/v1/nodes', undefined, '1.999');
      expect(tooNew.status).toBe(406);
      expect(tooNew.headers['x-openstack-request-id']).toMatch(/^req-/);
      const generic = await h.app.inject({ method: 'GET', url: '/v1/nodes', headers: { 'OpenStack-API-Version': 'baremetal 1.50' } });
      expect(generic.headers['x-openstack-ironic-api-version']).toBe('1.50');
    });

    it('answers 406 with the supported range for versions it does not serve', async () => {
      for (const v of [TOO_NEW, '2.1', '1.0', 'abc']) {
        const r = await h.call('GET', '/v1/nodes', undefined, v);
        expect(r.status).toBe(406);
        expect(r.headers['x-openstack-ironic-api-maximum-version']).toBe(MAX);
        const inner = JSON.parse(r.body.error_message);
        expect(inner.code).toBe(406);
        expect(inner.description).toContain(v === TOO_NEW || v === '2.1' || v === '1.0' ? `The supported version range is: [1.1, ${MAX}]` : 'Invalid value');
      }
    });

    it('answers unknown paths with Ironic\'s error body', async () => {
      const r = await h.call('GET', '/v1/nothing-here');
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body.error_message)).toEqual({ faultcode: 'Client', faultstring: 'The resource could not be found.', debuginfo: null });
    });
  });

  describe('create', () => {
    it('creates a node in enroll with the hardware type\'s default interfaces', async () => {
      const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'create-1', driver_info: { ipmi_password: 'pw', ipmi_address: '10.0.0.1' }, properties: { cpus: 2 } });
      expect(r.status).toBe(201);
      expect(r.headers.location).toMatch(new RegExp(`/v1/nodes/${r.body.uuid}$`));
      expect(r.body).toMatchObject({
        name: 'create-1', driver: 'fake-hardware', provision_state: 'enroll', power_state: null, target_provision_state: null,
        power_interface: 'fake', bios_interface: 'no-bios', network_interface: 'noop', conductor_group: '', maintenance: false, traits: [],
      });
      expect(r.body.driver_info).toEqual({ ipmi_password: '******', ipmi_address: '10.0.0.1' });
      expect(r.body.created_at).toMatch(/\+00:00$/);
      expect(r.body.ports[0].href).toMatch(/\/v1\/nodes\/.*\/ports$/);
      const stored = await findNode(h.t.db.knex, 'create-1');
      expect(stored?.driver_info.ipmi_password).toBe('pw');
    });

    it('answers a create with the bytes a GET of the node then answers', async () => {
      const created = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'create-same', properties: { cpus: 4 }, instance_info: { image_source: 'http://127.0.0.1/i.qcow2' } });
      expect(created.status).toBe(201);
      const shown = await h.call('GET', `/v1/nodes/${created.body.uuid}`);
      expect(created.raw).toBe(shown.raw);
    });

    it('starts nodes in available before 1.11 and refuses fields newer than the request', async () => {
      const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware' }, '1.10');
      expect(r.status).toBe(201);
      expect(r.body.provision_state).toBe('available');
      // Below 1.2, available is Ironic's NOSTATE: null in the node, its list and its states.
      const old = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware' }, '1.1');
      expect(old.status).toBe(201);
      expect(old.body.provision_state).toBeNull();
      expect((await h.call('GET', `/v1/nodes/${old.body.uuid}`, undefined, '1.1')).body.provision_state).toBeNull();
      expect((await h.call('GET', `/v1/nodes/${old.body.uuid}/states`, undefined, '1.1')).body.provision_state).toBeNull();
      expect((await h.call('GET', '/v1/nodes', undefined, '1.1')).body.nodes.find((n: any) => n.uuid === old.body.uuid).provision_state).toBeNull();
      expect((await h.call('GET', `/v1/nodes/${old.body.uuid}`, undefined, '1.2')).body.provision_state).toBe('available');
      const tooNew = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', resource_class: 'x' }, '1.20');
      expect(tooNew.status).toBe(406);
    });

    it('accepts chosen interfaces and refuses ones the hardware type lacks', async () => {
      const ok = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', inspect_interface: 'no-inspect', raid_interface: 'fake' });
      expect(ok.body).toMatchObject({ inspect_interface: 'no-inspect', raid_interface: 'fake' });
      const bad = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', power_interface: 'redfish-nope' });
      expect(bad.status).toBe(400);
      expect(fault(bad)).toContain('power interface "redfish-nope"');
    });

    it('refuses bad input with 400 and Ironic\'s messages', async () => {
      const unknownDriver = await h.call('POST', '/v1/nodes', { driver: 'no-such-driver' });
      expect(unknownDriver.status).toBe(400);
      expect(fault(unknownDriver)).toContain('no-such-driver');
      const unknownField = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', colour: 'red' });
      expect(unknownField.status).toBe(400);
      expect(fault(unknownField)).toBe("Schema error for body: Additional properties are not allowed ('colour' was unexpected)");
      const wrongType = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', driver_info: 'x' });
      expect(wrongType.status).toBe(400);
      expect(fault(wrongType)).toContain('"x" is not of type \'object\'');
      const missing = await h.call('POST', '/v1/nodes', { name: 'x' });
      expect(fault(missing)).toContain("'driver' is a required property");
      const malformed = await h.call('POST', '/v1/nodes', '{"driver": ');
      expect(malformed.status).toBe(400);
      expect(fault(malformed)).toContain('not valid JSON');
      const notObject = await h.call('POST', '/v1/nodes', '[1,2]');
      expect(notObject.status).toBe(400);
      for (const name of ['has space', '1be26c0b-03f2-4d2e-ae87-c02d7f33c123', 'a/b']) {
        const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name });
        expect(r.status).toBe(400);
      }
      const badUuid = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', uuid: 'not-a-uuid' });
      expect(badUuid.status).toBe(400);
    });

    it('accepts names with ~ (BMO uses namespace~name) and refuses duplicates with 409', async () => {
      expect((await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'ns~host-0' })).status).toBe(201);
      const dup = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'ns~host-0' });
      expect(dup.status).toBe(409);
      expect(fault(dup)).toBe('A node with name ns~host-0 already exists.');
      expect((await h.call('GET', '/v1/nodes/ns~host-0')).body.name).toBe('ns~host-0');
    });
  });

  describe('show', () => {
    it('finds nodes by name or UUID, and answers 404 for others', async () => {
      const n = await createNode(h, { name: 'show-1' });
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).body.name).toBe('show-1');
      expect((await h.call('GET', `/nodes/${n.uuid.toUpperCase()}`)).body.uuid).toBe(n.uuid);
      const missing = await h.call('GET', '/v1/nodes/nope');
      expect(missing.status).toBe(404);
      expect(fault(missing)).toBe('Node nope could not be found.');
    });

    it('narrows to fields= and checks them', async () => {
      const n = await createNode(h, { name: 'show-2' });
      const r = await h.call('GET', `/v1/nodes/${n.uuid}?fields=name,driver_info`);
      expect(Object.keys(r.body).sort()).toEqual(['driver_info', 'links', 'name']);
      const bad = await h.call('GET', `/v1/nodes/${n.uuid}?fields=name,colour`);
      expect(bad.status).toBe(400);
      expect(fault(bad)).toBe('Field colour is not a valid field.');
      expect((await h.call('GET', `/v1/nodes/${n.uuid}?fields=resource_class`, undefined, '1.20')).status).toBe(406);
    });

    it('hides fields newer than the request and shows inspect wait as inspecting before 1.39', async () => {
      const n = await createNode(h, { name: 'show-3' });
      const old = await h.call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.4');
      expect(old.body.name).toBeUndefined();
      expect(old.body.resource_class).toBeUndefined();
      expect(old.body.uuid).toBe(n.uuid);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      await updateNode(h.t.db.knex, node.id, { provision_state: 'inspect wait', target_provision_state: 'manageable' });
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.38')).body.provision_state).toBe('inspecting');
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.39')).body.provision_state).toBe('inspect wait');
    });
  });

  describe('list', () => {
    let group: string[];
    beforeAll(async () => {
      group = [];
      for (let i = 0; i < 5; i++) group.push((await createNode(h, { name: `list-${i}`, resource_class: i < 2 ? 'gold' : 'silver', conductor_group: 'Rack1', properties: { i } })).uuid);
      const n3 = (await findNode(h.t.db.knex, 'list-3'))!;
      await updateNode(h.t.db.knex, n3.id, { maintenance: true, instance_uuid: '11111111-2222-3333-4444-555555555555', provision_state: 'active' });
    });

    it('shows the default fields, and all of them on /detail', async () => {
      const r = await h.call('GET', '/v1/nodes?conductor_group=rack1');
      expect(r.body.nodes).toHaveLength(5);
      expect(Object.keys(r.body.nodes[0]).sort()).toEqual(['instance_uuid', 'links', 'maintenance', 'name', 'power_state', 'provision_state', 'uuid']);
      expect(r.body.next).toBeUndefined();
      const d = await h.call('GET', '/v1/nodes/detail?conductor_group=rack1');
      expect(d.body.nodes[0].properties).toEqual({ i: 0 });
      expect(d.body.nodes[0].traits).toEqual([]);
      const viaParam = await h.call('GET', '/v1/nodes?detail=true&conductor_group=rack1');
      expect(viaParam.body.nodes[0].driver).toBe('fake-hardware');
      expect((await h.call('GET', '/v1/nodes?detail=true&fields=name')).status).toBe(400);
    });

    it('filters by Ironic\'s query parameters', async () => {
      const names = async (q: string) => (await h.call('GET', `/v1/nodes?conductor_group=rack1&${q}`)).body.nodes.map((n: any) => n.name);
      expect(await names('resource_class=gold')).toEqual(['list-0', 'list-1']);
      expect(await names('maintenance=true')).toEqual(['list-3']);
      expect(await names('maintenance=False')).toHaveLength(4);
      expect(await names('associated=true')).toEqual(['list-3']);
      expect(await names('provision_state=active')).toEqual(['list-3']);
      expect(await names('driver=fake-hardware')).toHaveLength(5);
      expect(await names('driver=ipmi')).toEqual([]);
      expect((await h.call('GET', '/v1/nodes?provision_state=flying')).status).toBe(400);
      expect((await h.call('GET', '/v1/nodes?maintenance=perhaps')).status).toBe(400);
      expect((await h.call('GET', '/v1/nodes?driver=x', undefined, '1.15')).status).toBe(406);
    });

    it('filters by fault, and answers 400 for a fault Ironic does not know', async () => {
      expect((await h.call('GET', '/v1/nodes?fault=power%20failure')).status).toBe(200);
      const bad = await h.call('GET', '/v1/nodes?fault=somefake');
      expect(bad.status).toBe(400);
      expect(fault(bad)).toBe('Unrecognized fault "somefake" is specified, allowed faults are power failure, clean failure, rescue abort failure, service failure.');
    });

    it('pages with limit, marker and a next link that keeps the filters', async () => {
      const first = await h.call('GET', '/v1/nodes?conductor_group=rack1&limit=2');
      expect(first.body.nodes.map((n: any) => n.name)).toEqual(['list-0', 'list-1']);
      const next = new URL(first.body.next);
      expect(next.pathname).toBe('/v1/nodes');
      expect(next.searchParams.get('conductor_group')).toBe('rack1');
      expect(next.searchParams.get('marker')).toBe(group[1]);
      const second = await h.call('GET', `${next.pathname}${next.search}`);
      expect(second.body.nodes.map((n: any) => n.name)).toEqual(['list-2', 'list-3']);
      const third = await h.call('GET', `/v1/nodes?conductor_group=rack1&limit=2&marker=${group[3]}`);
      expect(third.body.nodes.map((n: any) => n.name)).toEqual(['list-4']);
      expect(third.body.next).toBeUndefined();
      expect((await h.call('GET', '/v1/nodes?limit=0')).status).toBe(400);
      expect((await h.call('GET', '/v1/nodes?limit=abc')).status).toBe(400);
      expect((await h.call('GET', '/v1/nodes?marker=no-such-node')).status).toBe(404);
    });

    it('sorts by a column, both ways, and pages through a sort with ties', async () => {
      const desc = await h.call('GET', '/v1/nodes?conductor_group=rack1&sort_key=name&sort_dir=desc');
      expect(desc.body.nodes.map((n: any) => n.name)).toEqual(['list-4', 'list-3', 'list-2', 'list-1', 'list-0']);
      const seen: string[] = [];
      let url: string | undefined = '/v1/nodes?conductor_group=rack1&sort_key=resource_class&sort_dir=desc&limit=2';
      while (url) {
        const r = await h.call('GET', url);
        seen.push(...r.body.nodes.map((n: any) => n.name));
        url = r.body.next ? new URL(r.body.next).pathname + new URL(r.body.next).search : undefined;
      }
      expect(seen).toEqual(['list-4', 'list-3', 'list-2', 'list-1', 'list-0']);
      expect((await h.call('GET', '/v1/nodes?sort_key=driver_info')).status).toBe(400);
      expect((await h.call('GET', '/v1/nodes?sort_dir=up')).status).toBe(400);
    });
  });

  describe('patch', () => {
    const patch = (id: string, ops: unknown, version?: string) => h.call('PATCH', `/v1/nodes/${id}`, ops, version);

    it('adds, replaces and removes fields as Ironic does', async () => {
      const n = await createNode(h, { name: 'patch-1', extra: { a: 1 }, driver_info: { keep: 'me' } });
      const r = await patch(n.uuid, [
        { op: 'add', path: '/driver_info/ipmi_password', value: 'secret' },
        { op: 'replace', path: '/name', value: 'patch-1b' },
        { op: 'add', path: '/properties/cpu_arch', value: 'x86_64' },
        { op: 'remove', path: '/extra' },
        { op: 'add', path: '/inspect_interface', value: 'no-inspect' },
        { op: 'add', path: '/automated_clean', value: false },
      ]);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'patch-1b', extra: {}, properties: { cpu_arch: 'x86_64' }, inspect_interface: 'no-inspect', automated_clean: false });
      expect(r.body.driver_info).toEqual({ keep: 'me', ipmi_password: '******' });
      const reset = await patch(n.uuid, [{ op: 'remove', path: '/inspect_interface' }, { op: 'remove', path: '/name' }]);
      expect(reset.body.inspect_interface).toBe('fake');
      expect(reset.body.name).toBeNull();
    });

    it('clears the reason and fault when maintenance is patched off', async () => {
      const n = await createNode(h);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      await updateNode(h.t.db.knex, node.id, { maintenance: true, maintenance_reason: 'why', fault: 'clean failure' });
      const r = await patch(n.uuid, [{ op: 'replace', path: '/maintenance', value: false }]);
      expect(r.body).toMatchObject({ maintenance: false, maintenance_reason: null, fault: null });
    });

    it('protects only active nodes (409 otherwise), and a reason only with protection (400)', async () => {
      const n = await createNode(h);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      await updateNode(h.t.db.knex, node.id, { provision_state: 'available' });
      const early = await patch(n.uuid, [{ op: 'replace', path: '/protected', value: true }]);
      expect(early.status).toBe(409);
      expect(fault(early)).toBe('Protection can only be set in the "active" state.');
      await updateNode(h.t.db.knex, node.id, { provision_state: 'active' });
      expect((await patch(n.uuid, [{ op: 'replace', path: '/protected_reason', value: 'reason!' }])).status).toBe(400);
      expect((await patch(n.uuid, [{ op: 'replace', path: '/protected', value: true }])).body.protected).toBe(true);
    });

    it('refuses bad patches with 400', async () => {
      const n = await createNode(h);
      const cases: [unknown, string][] = [
        [[{ op: 'add', path: '/colour', value: 'red' }], 'Adding a new attribute (/colour) to the root of the resource is not allowed'],
        [[{ op: 'remove', path: '/driver_info/missing' }], "can't remove non-existent object 'missing'"],
        [[{ op: 'replace', path: '/provision_state', value: 'active' }], "'/provision_state' is an internal attribute and can not be updated"],
        [[{ op: 'replace', path: '/uuid', value: 'x' }], 'internal attribute'],
        [[{ op: 'replace', path: '/maintenance', value: 'perhaps' }], 'Invalid value for maintenance: "perhaps"'],
        [[{ op: 'replace', path: '/maintenance', value: 3 }], '3 is not of type \'boolean,string\''],
        [[{ op: 'replace', path: '/name', value: 'bad name' }], 'Cannot use "bad name"'],
        [[{ op: 'replace', path: '/driver', value: 'nope' }], 'nope'],
        [[{ op: 'jump', path: '/name' }], 'Schema error'],
        [[{ op: 'add', path: '/name' }], "'value' is a required property"],
        [{ op: 'add', path: '/name', value: 'x' }, 'Schema error'],
        [[{ op: 'add', path: '/extra/a', value: 1, sneaky: true }], 'Additional properties are not allowed'],
      ];
      for (const [ops, message] of cases) {
        const r = await patch(n.uuid, ops);
        expect(r.status, JSON.stringify(ops)).toBe(400);
        expect(fault(r)).toContain(message);
      }
      expect((await patch(n.uuid, [{ op: 'add', path: '/shard', value: 's' }], '1.81')).status).toBe(406);
    });

    it('answers 409 while a transition runs, while locked, and for interface changes outside allowed states', async () => {
      const n = await createNode(h);
      const node = (await findNode(h.t.db.knex, n.uuid))!;
      await updateNode(h.t.db.knex, node.id, { provision_state: 'deploying', target_provision_state: 'active' });
      const busy = await patch(n.uuid, [{ op: 'add', path: '/extra/x', value: 1 }]);
      expect(busy.status).toBe(409);
      expect(fault(busy)).toBe(`Node ${n.uuid} can not be updated while a state transition is in progress.`);
      await updateNode(h.t.db.knex, node.id, { provision_state: 'active', target_provision_state: null, reservation: 'c9' });
      const locked = await patch(n.uuid, [{ op: 'add', path: '/extra/x', value: 1 }]);
      expect(locked.status).toBe(409);
      expect(fault(locked)).toBe(`Node ${n.uuid} is locked by host c9, please retry after the current operation is completed.`);
      await updateNode(h.t.db.knex, node.id, { reservation: null });
      const iface = await patch(n.uuid, [{ op: 'add', path: '/inspect_interface', value: 'no-inspect' }]);
      expect(iface.status).toBe(409);
      expect((await patch(n.uuid, [{ op: 'add', path: '/instance_uuid', value: '11111111-2222-3333-4444-555555555555' }])).status).toBe(200);
      const other = await patch(n.uuid, [{ op: 'add', path: '/instance_uuid', value: '21111111-2222-3333-4444-555555555555' }]);
      expect(other.status).toBe(409);
    });

    it('moves to another driver, resetting interfaces only when asked', async () => {
      const n = await createNode(h, { raid_interface: 'fake' });
      const refused = await patch(n.uuid, [{ op: 'replace', path: '/driver', value: 'manual-management' }]);
      expect(refused.status).toBe(400);
      const r = await h.call('PATCH', `/v1/nodes/${n.uuid}?reset_interfaces=true`, [{ op: 'replace', path: '/driver', value: 'manual-management' }]);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ driver: 'manual-management', raid_interface: 'no-raid', inspect_interface: 'no-inspect' });
    });

    it('resets the console interface to no-console, Ironic\'s default for every hardware type', async () => {
      const n = await createNode(h, { console_interface: 'fake' });
      expect(n.console_interface).toBe('fake');
      const r = await h.call('PATCH', `/v1/nodes/${n.uuid}?reset_interfaces=true`, [{ op: 'replace', path: '/driver', value: 'fake-hardware' }]);
      expect(r.status).toBe(200);
      expect(r.body.console_interface).toBe('no-console');
      expect((await createNode(h)).console_interface).toBe('no-console');
      const removed = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/console_interface', value: 'fake' }]);
      expect(removed.status).toBe(200);
      const r2 = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'remove', path: '/console_interface' }]);
      expect(r2.body.console_interface).toBe('no-console');
      const ipmi = await h.call('PATCH', `/v1/nodes/${n.uuid}?reset_interfaces=true`, [{ op: 'replace', path: '/driver', value: 'ipmi' }]);
      expect(ipmi.body.console_interface).toBe('no-console');
    });
  });

  describe('delete', () => {
    it('deletes nodes in enroll/manageable (with their ports) and refuses others', async () => {
      const n = await createNode(h);
      const port = await h.call('POST', '/v1/ports', { address: '52:54:00:aa:00:01', node_uuid: n.uuid });
      expect(port.status).toBe(201);
      const del = await h.call('DELETE', `/v1/nodes/${n.uuid}`);
      expect(del.status).toBe(204);
      expect(del.raw).toBe('');
      expect(del.headers['content-type']).toBeUndefined();
      expect((await h.call('GET', `/v1/ports/${port.body.uuid}`)).status).toBe(404);

      const active = await createNode(h);
      const node = (await findNode(h.t.db.knex, active.uuid))!;
      await updateNode(h.t.db.knex, node.id, { provision_state: 'active' });
      const refused = await h.call('DELETE', `/v1/nodes/${active.uuid}`);
      expect(refused.status).toBe(409);
      expect(fault(refused)).toContain('while it is in provision state "active"');
      await updateNode(h.t.db.knex, node.id, { provision_state: 'manageable', instance_uuid: '11111111-2222-3333-4444-555555555555' });
      const associated = await h.call('DELETE', `/v1/nodes/${active.uuid}`);
      expect(associated.status).toBe(409);
      expect(fault(associated)).toContain('is associated with instance');
      await updateNode(h.t.db.knex, node.id, { maintenance: true, provision_state: 'active' });
      expect((await h.call('DELETE', `/v1/nodes/${active.uuid}`)).status).toBe(204);
    });
  });
});
