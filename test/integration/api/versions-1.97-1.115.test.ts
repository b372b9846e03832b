// What API 1.97–1.115 adds (Ironic Flamingo to Hibiscus): port description, vendor, category and
// dynamic port groups; port group physical_network and category; conductor_groups and shard
// filters; RFC 6901 escapes in patches; node instance_name; the end of OVN VTEP link keys. Each
// field hidden and refused below its version, persisted, filtered, on SQLite and PostgreSQL.
// The server serves up to 1.115 here: these versions are built ahead of 1.96 (inspection rules),
// and GET /v1 claims only what services/api/version.ts says (versions.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { fault, startHarness, type ApiHarness, type Reply } from './harness.ts';

const NEWEST = 115;

describe.each(BACKENDS)('API 1.97-1.115 on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend, { maxVersion: NEWEST }); });
  afterAll(async () => { await h.close(); });

  const latest = `1.${NEWEST}`;
  const call = (method: string, url: string, body?: unknown, version = latest): Promise<Reply> => h.call(method, url, body, version);
  const createNode = async (fields: Record<string, unknown> = {}) => {
    const r = await call('POST', '/v1/nodes', { driver: 'fake-hardware', ...fields });
    if (r.status !== 201) throw new Error(`node create failed: ${r.status} ${r.raw}`);
    return r.body;
  };
  const putInState = async (uuid: string, fields: Record<string, unknown>) => {
    await updateNode(h.t.db.knex, (await findNode(h.t.db.knex, uuid))!.id, fields);
  };
  let mac = 0;
  const nextMac = () => `52:54:00:97:${Math.floor(mac / 256).toString(16).padStart(2, '0')}:${(mac++ % 256).toString(16).padStart(2, '0')}`;
  const port = async (node: string, fields: Record<string, unknown> = {}, version = latest) => call('POST', '/v1/ports', { node_uuid: node, address: nextMac(), ...fields }, version);

  it('negotiates up to the served maximum', async () => {
    const r = await call('GET', '/v1', undefined, 'latest');
    expect(r.body.version.version).toBe(`1.${NEWEST}`);
    expect(r.headers['x-openstack-ironic-api-maximum-version']).toBe(`1.${NEWEST}`);
    expect(r.headers['x-openstack-ironic-api-version']).toBe(`1.${NEWEST}`);
    expect((await call('GET', '/v1', undefined, `1.${NEWEST + 1}`)).status).toBe(406);
  });

  describe('port description (1.97), vendor (1.100), category (1.101)', () => {
    const fields = { description: 'uplink to leaf 3', vendor: 'mellanox', category: 'storage' };

    it('stores and shows them from their versions, hides them before', async () => {
      const n = await createNode();
      const p = await port(n.uuid, fields);
      expect(p.status, p.raw).toBe(201);
      expect(p.body).toMatchObject(fields);
      const shown = async (v: string) => (await call('GET', `/v1/ports/${p.body.uuid}`, undefined, v)).body;
      expect(await shown('1.96')).not.toHaveProperty('description');
      expect(await shown('1.97')).toMatchObject({ description: fields.description });
      expect(await shown('1.99')).not.toHaveProperty('vendor');
      expect(await shown('1.100')).toMatchObject({ vendor: 'mellanox' });
      expect(await shown('1.100')).not.toHaveProperty('category');
      expect(await shown('1.101')).toMatchObject(fields);
      const detail = await call('GET', `/v1/nodes/${n.uuid}/ports/detail`, undefined, '1.101');
      expect(detail.body.ports[0]).toMatchObject(fields);
    });

    it('refuses each below its version with 406 (create, patch, fields=)', async () => {
      const n = await createNode();
      for (const [field, below] of [['description', '1.96'], ['vendor', '1.99'], ['category', '1.100']] as const) {
        const r = await port(n.uuid, { [field]: 'x' }, below);
        expect(r.status, `${field} at ${below}`).toBe(406);
        expect(fault(r)).toContain(field);
        expect((await call('GET', `/v1/ports?fields=uuid,${field}`, undefined, below)).status).toBe(406);
      }
      const p = await port(n.uuid);
      expect((await call('PATCH', `/v1/ports/${p.body.uuid}`, [{ op: 'add', path: '/vendor', value: 'intel' }], '1.99')).status).toBe(406);
      const patched = await call('PATCH', `/v1/ports/${p.body.uuid}`, [{ op: 'add', path: '/vendor', value: 'intel' }, { op: 'add', path: '/description', value: 'pxe' }], '1.100');
      expect(patched.status, patched.raw).toBe(200);
      expect(patched.body).toMatchObject({ vendor: 'intel', description: 'pxe' });
      const removed = await call('PATCH', `/v1/ports/${p.body.uuid}`, [{ op: 'remove', path: '/vendor' }]);
      expect(removed.body.vendor).toBeNull();
    });

    it('refuses values too long or not strings with 400', async () => {
      const n = await createNode();
      for (const bad of [{ description: 'd'.repeat(256) }, { vendor: 'v'.repeat(33) }, { category: 'c'.repeat(81) }, { vendor: 7 }]) {
        const r = await port(n.uuid, bad);
        expect(r.status, JSON.stringify(bad)).toBe(400);
      }
      expect((await port(n.uuid, { description: 'd'.repeat(255), vendor: 'v'.repeat(32), category: 'c'.repeat(80) })).status).toBe(201);
    });

    it('filters by description_contains, literally', async () => {
      const n = await createNode();
      const a = await port(n.uuid, { description: 'bond member 100%_a' });
      await port(n.uuid, { description: 'bond member 1000 b' });
      const r = await call('GET', `/v1/ports?description_contains=${encodeURIComponent('100%_')}`);
      expect(r.body.ports.map((p: { uuid: string }) => p.uuid)).toEqual([a.body.uuid]);
      expect((await call('GET', '/v1/ports?description_contains=bond', undefined, '1.96')).status).toBe(406);
    });
  });

  describe('conductor_groups filter on ports and port groups (1.99)', () => {
    it('lists those of nodes in the groups, 406 before 1.99, 400 with a node filter', async () => {
      const a = await createNode({ conductor_group: 'Rack-A' });
      const b = await createNode({ conductor_group: 'rack-b' });
      const c = await createNode({ conductor_group: 'rack-c' });
      const ports = await Promise.all([a, b, c].map((n) => port(n.uuid)));
      const groups = await Promise.all([a, b, c].map((n) => call('POST', '/v1/portgroups', { node_uuid: n.uuid })));
      const uuids = (r: { body: Record<string, { uuid: string }[]> }, key: string) => r.body[key].map((x) => x.uuid).sort();
      const r = await call('GET', '/v1/ports?conductor_groups=rack-a,RACK-B');
      expect(uuids(r, 'ports')).toEqual([ports[0].body.uuid, ports[1].body.uuid].sort());
      const g = await call('GET', '/v1/portgroups/detail?conductor_groups=rack-c');
      expect(uuids(g, 'portgroups')).toEqual([groups[2].body.uuid]);
      expect((await call('GET', '/v1/ports?conductor_groups=rack-a', undefined, '1.98')).status).toBe(406);
      expect((await call('GET', '/v1/portgroups?conductor_groups=rack-a', undefined, '1.98')).status).toBe(406);
      const both = await call('GET', `/v1/ports?conductor_groups=rack-a&node=${a.uuid}`);
      expect(both.status).toBe(400);
      expect(fault(both)).toContain('conductor_groups cannot be combined');
      expect((await call('GET', `/v1/nodes/${a.uuid}/ports?conductor_groups=rack-a`)).status).toBe(400);
      expect((await call('GET', `/v1/portgroups?conductor_groups=rack-a&node=${a.uuid}`)).status).toBe(400);
      expect((await call('GET', '/v1/ports?conductor_groups=bad%20group')).status).toBe(400);
    });
  });

  describe('port group physical_network (1.102), category (1.103), shard filter (1.106)', () => {
    it('stores both, hides and refuses them below their versions', async () => {
      const n = await createNode();
      const g = await call('POST', '/v1/portgroups', { node_uuid: n.uuid, physical_network: 'physnet1', category: 'bond' });
      expect(g.status, g.raw).toBe(201);
      expect(g.body).toMatchObject({ physical_network: 'physnet1', category: 'bond' });
      const shown = async (v: string) => (await call('GET', `/v1/portgroups/${g.body.uuid}`, undefined, v)).body;
      expect(await shown('1.101')).not.toHaveProperty('physical_network');
      expect(await shown('1.102')).toMatchObject({ physical_network: 'physnet1' });
      expect(await shown('1.102')).not.toHaveProperty('category');
      expect((await call('POST', '/v1/portgroups', { node_uuid: n.uuid, physical_network: 'p' }, '1.101')).status).toBe(406);
      expect((await call('POST', '/v1/portgroups', { node_uuid: n.uuid, category: 'c' }, '1.102')).status).toBe(406);
      expect((await call('PATCH', `/v1/portgroups/${g.body.uuid}`, [{ op: 'replace', path: '/category', value: 'x' }], '1.102')).status).toBe(406);
      expect((await call('POST', '/v1/portgroups', { node_uuid: n.uuid, physical_network: 'p'.repeat(65) })).status).toBe(400);
      expect((await call('POST', '/v1/portgroups', { node_uuid: n.uuid, category: 'c'.repeat(81) })).status).toBe(400);
    });

    it('gives a new physical_network to the group\'s ports', async () => {
      const n = await createNode();
      const g = await call('POST', '/v1/portgroups', { node_uuid: n.uuid, physical_network: 'physnet1' });
      const member = await port(n.uuid, { portgroup_uuid: g.body.uuid, physical_network: 'physnet1' });
      const other = await port(n.uuid, { physical_network: 'physnet1' });
      const r = await call('PATCH', `/v1/portgroups/${g.body.uuid}`, [{ op: 'replace', path: '/physical_network', value: 'physnet2' }]);
      expect(r.status, r.raw).toBe(200);
      expect(r.body.physical_network).toBe('physnet2');
      expect((await call('GET', `/v1/ports/${member.body.uuid}`)).body.physical_network).toBe('physnet2');
      expect((await call('GET', `/v1/ports/${other.body.uuid}`)).body.physical_network).toBe('physnet1');
      await call('PATCH', `/v1/portgroups/${g.body.uuid}`, [{ op: 'remove', path: '/physical_network' }]);
      expect((await call('GET', `/v1/ports/${member.body.uuid}`)).body.physical_network).toBeNull();
    });

    it('filters port groups by shard from 1.106, alone', async () => {
      const n = await createNode({ shard: 'pg-shard-1' });
      await createNode({ shard: 'pg-shard-2' });
      const g = await call('POST', '/v1/portgroups', { node_uuid: n.uuid });
      const r = await call('GET', '/v1/portgroups?shard=pg-shard-1,pg-shard-9');
      expect(r.body.portgroups.map((x: { uuid: string }) => x.uuid)).toEqual([g.body.uuid]);
      expect((await call('GET', '/v1/portgroups?shard=pg-shard-2')).body.portgroups).toEqual([]);
      expect((await call('GET', '/v1/portgroups?shard=pg-shard-1', undefined, '1.105')).status).toBe(406);
      expect((await call('GET', `/v1/portgroups?shard=pg-shard-1&node=${n.uuid}`)).status).toBe(400);
    });
  });

  describe('dynamic port groups (1.111)', () => {
    it('ports are available for them unless told, groups say they are not dynamic; both hidden before', async () => {
      const n = await createNode();
      const p = await port(n.uuid);
      expect(p.body.available_for_dynamic_portgroup).toBe(true);
      const off = await call('PATCH', `/v1/ports/${p.body.uuid}`, [{ op: 'replace', path: '/available_for_dynamic_portgroup', value: false }]);
      expect(off.body.available_for_dynamic_portgroup).toBe(false);
      expect((await call('GET', `/v1/ports/${p.body.uuid}`)).body.available_for_dynamic_portgroup).toBe(false);
      expect((await call('GET', `/v1/ports/${p.body.uuid}`, undefined, '1.110')).body).not.toHaveProperty('available_for_dynamic_portgroup');
      expect((await port(n.uuid, { available_for_dynamic_portgroup: false }, '1.110')).status).toBe(406);
      expect((await port(n.uuid, { available_for_dynamic_portgroup: 'maybe' })).status).toBe(400);
      const created = await port(n.uuid, { available_for_dynamic_portgroup: false });
      expect(created.body.available_for_dynamic_portgroup).toBe(false);

      const g = await call('POST', '/v1/portgroups', { node_uuid: n.uuid });
      expect(g.body.dynamic_portgroup).toBe(false);
      expect((await call('GET', `/v1/portgroups/${g.body.uuid}`, undefined, '1.110')).body).not.toHaveProperty('dynamic_portgroup');
      expect((await call('GET', '/v1/portgroups?fields=dynamic_portgroup', undefined, '1.110')).status).toBe(406);
      // Read-only: neither created nor patched.
      expect((await call('POST', '/v1/portgroups', { node_uuid: n.uuid, dynamic_portgroup: true })).status).toBe(400);
      expect((await call('PATCH', `/v1/portgroups/${g.body.uuid}`, [{ op: 'replace', path: '/dynamic_portgroup', value: true }])).status).toBe(400);
    });
  });

  describe('RFC 6901 escapes in patch paths (1.98)', () => {
    it('addresses keys with ~ and /, refuses a malformed escape', async () => {
      const n = await createNode();
      const r = await call('PATCH', `/v1/nodes/${n.uuid}`, [
        { op: 'add', path: '/extra/rack~1row', value: 'r1/2' },
        { op: 'add', path: '/extra/home~0dir', value: 'x' },
        { op: 'add', path: '/properties/capabilities~1boot', value: 'uefi' },
      ], '1.98');
      expect(r.status, r.raw).toBe(200);
      expect(r.body.extra).toEqual({ 'rack/row': 'r1/2', 'home~dir': 'x' });
      expect(r.body.properties).toMatchObject({ 'capabilities/boot': 'uefi' });
      const removed = await call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'remove', path: '/extra/rack~1row' }], '1.98');
      expect(removed.body.extra).toEqual({ 'home~dir': 'x' });
      for (const path of ['/extra/bad~2', '/extra/trailing~']) {
        const bad = await call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path, value: 1 }], '1.98');
        expect(bad.status, path).toBe(400);
        expect(fault(bad)).toContain('invalid escape');
      }
      const p = await port(n.uuid);
      const onPort = await call('PATCH', `/v1/ports/${p.body.uuid}`, [{ op: 'add', path: '/extra/a~1b', value: 1 }]);
      expect(onPort.body.extra).toEqual({ 'a/b': 1 });
    });
  });

  describe('node instance_name (1.104)', () => {
    it('is stored, shown, filtered from 1.104; 406 before; 400 when empty', async () => {
      const n = await createNode({ instance_name: 'web-01' });
      expect(n.instance_name).toBe('web-01');
      expect((await call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.103')).body).not.toHaveProperty('instance_name');
      expect((await call('POST', '/v1/nodes', { driver: 'fake-hardware', instance_name: 'x' }, '1.103')).status).toBe(406);
      expect((await call('GET', '/v1/nodes?instance_name=web-01', undefined, '1.103')).status).toBe(406);
      expect((await call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'replace', path: '/instance_name', value: 'y' }], '1.103')).status).toBe(406);
      const listed = await call('GET', '/v1/nodes?instance_name=web-01&fields=uuid,instance_name');
      expect(listed.body.nodes).toEqual([{ uuid: n.uuid, instance_name: 'web-01', links: expect.any(Array) }]);
      expect((await call('POST', '/v1/nodes', { driver: 'fake-hardware', instance_name: '' })).status).toBe(400);
      expect((await call('POST', '/v1/nodes', { driver: 'fake-hardware', instance_name: 'n'.repeat(256) })).status).toBe(400);
    });

    it('takes instance_info.display_name when it has no name, keeps its own otherwise', async () => {
      const n = await createNode();
      const r = await call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/instance_info/display_name', value: 'db-7' }]);
      expect(r.status, r.raw).toBe(200);
      expect(r.body.instance_name).toBe('db-7');
      const again = await call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/instance_info/display_name', value: 'db-8' }]);
      expect(again.body.instance_name).toBe('db-7');
      // Even a client older than 1.104 names the instance this way, as in Ironic.
      const old = await createNode();
      await call('PATCH', `/v1/nodes/${old.uuid}`, [{ op: 'add', path: '/instance_info/display_name', value: 'old-1' }], '1.60');
      expect((await call('GET', `/v1/nodes/${old.uuid}`)).body.instance_name).toBe('old-1');
    });
  });

  describe('OVN VTEP local_link_connection keys (1.90, removed in 1.105)', () => {
    const vtep = { port_id: 'p1', 'vtep-logical-switch': 'ls1', 'vtep-physical-switch': 'ps1' };

    it('accepts them from 1.90 to 1.104 only, and shows them empty elsewhere', async () => {
      const n = await createNode();
      const p = await port(n.uuid, { local_link_connection: vtep }, '1.104');
      expect(p.status, p.raw).toBe(201);
      expect(p.body.local_link_connection).toEqual(vtep);
      for (const v of ['1.89', '1.105']) {
        const r = await port(n.uuid, { local_link_connection: vtep }, v);
        expect(r.status, v).toBe(406);
        expect(fault(r)).toContain('vtep-logical-switch');
        expect((await call('GET', `/v1/ports/${p.body.uuid}`, undefined, v)).body.local_link_connection).toEqual({});
      }
      expect((await call('GET', `/v1/ports/${p.body.uuid}`, undefined, '1.90')).body.local_link_connection).toEqual(vtep);
      const plain = await port(n.uuid, { local_link_connection: { switch_id: '0a:1b:2c:3d:4e:5f', port_id: 'Eth1/3' } }, '1.105');
      expect(plain.status, plain.raw).toBe(201);
    });
  });
  describe('disable_ramdisk with service (1.108)', () => {
    const steps = [{ interface: 'bios', step: 'apply_configuration', args: { settings: [] } }];

    it('is a 406 at 1.107 and recorded from 1.108', async () => {
      const n = await createNode();
      await putInState(n.uuid, { provision_state: 'active' });
      const old = await call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'service', service_steps: steps, disable_ramdisk: true }, '1.107');
      expect(old.status).toBe(406);
      expect(fault(old)).toContain('disable_ramdisk');
      const r = await call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'service', service_steps: steps, disable_ramdisk: true }, '1.108');
      expect(r.status, r.raw).toBe(202);
      const stored = (await findNode(h.t.db.knex, n.uuid))!;
      expect(stored.provision_state).toBe('servicing');
      expect(stored.provision_request?.disable_ramdisk).toBe(true);
    });
  });

  describe('node health (1.109)', () => {
    it('is shown from 1.109 (null until the power sync reads it), read-only, hidden and refused before', async () => {
      const n = await createNode();
      expect(n.health).toBeNull();
      await putInState(n.uuid, { health: 'Warning' });
      expect((await call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.109')).body.health).toBe('Warning');
      expect((await call('GET', `/v1/nodes/${n.uuid}?fields=uuid,health`, undefined, '1.109')).body).toMatchObject({ health: 'Warning' });
      expect((await call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.108')).body).not.toHaveProperty('health');
      expect((await call('GET', `/v1/nodes?fields=health`, undefined, '1.108')).status).toBe(406);
      expect((await call('GET', '/v1/nodes/detail', undefined, '1.109')).body.nodes.find((x: { uuid: string }) => x.uuid === n.uuid).health).toBe('Warning');
      expect((await call('POST', '/v1/nodes', { driver: 'fake-hardware', health: 'OK' })).status).toBe(400);
      expect((await call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'replace', path: '/health', value: 'OK' }])).status).toBe(400);
    });
  });

  describe('abort in wait call-back (1.110)', () => {
    it('is refused at 1.109, moves the node to deploy failed (no clean) from 1.110', async () => {
      const n = await createNode();
      await putInState(n.uuid, { provision_state: 'wait call-back', target_provision_state: 'active' });
      const old = await call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'abort' }, '1.109');
      expect(old.status).toBe(406);
      expect(fault(old)).toContain('wait call-back');
      expect((await findNode(h.t.db.knex, n.uuid))!.provision_state).toBe('wait call-back');
      const r = await call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'abort' }, '1.110');
      expect(r.status, r.raw).toBe(202);
      const node = (await call('GET', `/v1/nodes/${n.uuid}`)).body;
      expect(node.provision_state).toBe('deploy failed');
      // As in Ironic's state machine, deploy failed keeps the target active (a retry deploys again).
      expect(node.target_provision_state).toBe('active');
      expect(node.last_error).toContain('Aborted by user in state "wait call-back"');
    });
  });

  describe('runbook traits, description and logical names (1.112)', () => {
    const steps = [{ interface: 'bios', step: 'apply_configuration', args: { settings: [] }, order: 1 }];

    it('keeps traits on their own endpoints, a description, any logical name; hidden and 404 before', async () => {
      const r = await call('POST', '/v1/runbooks', { name: 'bios-tune.v2', steps, description: 'tune the BIOS' });
      expect(r.status, r.raw).toBe(201);
      expect(r.body).toMatchObject({ name: 'bios-tune.v2', description: 'tune the BIOS', traits: [] });
      expect((await call('POST', '/v1/runbooks', { name: 'bios-tune.v3', steps }, '1.111')).status).toBe(400);
      expect((await call('POST', '/v1/runbooks', { name: 'CUSTOM_OLD', steps, description: 'x' }, '1.111')).status).toBe(400);
      expect((await call('POST', '/v1/runbooks', { name: 'CUSTOM_T', steps, traits: ['CUSTOM_A'] })).status).toBe(400);
      expect((await call('POST', '/v1/runbooks', { name: 'has space', steps })).status).toBe(400);
      expect((await call('POST', '/v1/runbooks', { name: 'long', steps, description: 'd'.repeat(256) })).status).toBe(400);

      const base = `/v1/runbooks/${r.body.uuid}/traits`;
      expect((await call('PUT', base, { traits: ['CUSTOM_RAID', 'CUSTOM_BIOS'] })).status).toBe(204);
      expect((await call('GET', base)).body).toEqual({ traits: ['CUSTOM_BIOS', 'CUSTOM_RAID'] });
      const one = await call('PUT', `${base}/CUSTOM_GPU`);
      expect(one.status, one.raw).toBe(204);
      expect(one.headers.location).toMatch(/\/v1\/runbooks\/.+\/traits\/CUSTOM_GPU$/);
      expect((await call('DELETE', `${base}/CUSTOM_RAID`)).status).toBe(204);
      expect((await call('DELETE', `${base}/CUSTOM_NOT_THERE`)).status).toBe(204);
      expect((await call('GET', `/v1/runbooks/bios-tune.v2`)).body.traits).toEqual(['CUSTOM_BIOS', 'CUSTOM_GPU']);
      expect((await call('PUT', `${base}/lower_case`)).status).toBe(400);
      expect((await call('PUT', base, {})).status).toBe(400);
      expect((await call('PUT', base, { traits: ['bad trait'] })).status).toBe(400);
      expect((await call('GET', base, undefined, '1.111')).status).toBe(404);
      const old = (await call('GET', `/v1/runbooks/${r.body.uuid}`, undefined, '1.111')).body;
      expect(old).not.toHaveProperty('traits');
      expect(old).not.toHaveProperty('description');
      const listed = await call('GET', '/v1/runbooks/detail');
      expect(listed.body.runbooks.find((x: { uuid: string }) => x.uuid === r.body.uuid)).toMatchObject({ traits: ['CUSTOM_BIOS', 'CUSTOM_GPU'], description: 'tune the BIOS' });
      const patched = await call('PATCH', `/v1/runbooks/${r.body.uuid}`, [{ op: 'replace', path: '/description', value: 'tuned' }]);
      expect(patched.status, patched.raw).toBe(200);
      expect(patched.body.description).toBe('tuned');
      expect((await call('PATCH', `/v1/runbooks/${r.body.uuid}`, [{ op: 'replace', path: '/traits', value: [] }])).status).toBe(400);
      expect((await call('DELETE', base)).status).toBe(204);
      expect((await call('GET', base)).body).toEqual({ traits: [] });
    });

    it('approves a runbook for a node by its traits from 1.112, by its name below', async () => {
      const rb = await call('POST', '/v1/runbooks', { name: 'CUSTOM_FW_RUN', steps });
      const n = await createNode();
      await putInState(n.uuid, { provision_state: 'manageable' });
      const clean = (v: string) => call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'clean', runbook: rb.body.uuid }, v);
      const none = await clean('1.112');
      expect(none.status).toBe(400);
      expect(fault(none)).toContain('has no traits configured');
      await call('PUT', `/v1/runbooks/${rb.body.uuid}/traits`, { traits: ['CUSTOM_FW_A', 'CUSTOM_FW_B'] });
      const unmatched = await clean('1.112');
      expect(unmatched.status).toBe(400);
      expect(fault(unmatched)).toContain('CUSTOM_FW_A, CUSTOM_FW_B');
      await call('PUT', `/v1/nodes/${n.uuid}/traits/CUSTOM_FW_B`);
      // Below 1.112 the runbook's name is the trait the node needs.
      expect((await clean('1.111')).status).toBe(400);
      const ok = await clean('1.112');
      expect(ok.status, ok.raw).toBe(202);
      expect((await findNode(h.t.db.knex, n.uuid))!.provision_request?.steps?.map((x) => x.step)).toEqual(['apply_configuration']);
    });
  });

  describe('node history project (1.113), state, target and duration (1.115)', () => {
    it('records where the node stood and who asked; shows each from its version, in detail only', async () => {
      const n = await createNode();
      await putInState(n.uuid, { provision_state: 'manageable', target_provision_state: null, provision_updated_at: Date.now() - 90_000 });
      expect((await call('PUT', `/v1/nodes/${n.uuid}/maintenance`, { reason: 'swap fan' })).status).toBe(202);
      const history = async (v: string, detail = true) => (await call('GET', `/v1/nodes/${n.uuid}/history${detail ? '?detail=true' : ''}`, undefined, v)).body.history;
      const events = await history('1.115');
      const maintenance = events.find((e: { event: string }) => e.event.startsWith('Maintenance set'));
      expect(maintenance).toMatchObject({ state: 'manageable', target_provision_state: null, project: null, user: null });
      expect(maintenance.duration_seconds).toBeGreaterThanOrEqual(90);
      expect(maintenance.duration_seconds).toBeLessThan(3600);
      const one = await call('GET', `/v1/nodes/${n.uuid}/history/${maintenance.uuid}`, undefined, '1.115');
      expect(one.body).toMatchObject({ uuid: maintenance.uuid, state: 'manageable', duration_seconds: maintenance.duration_seconds });
      const at113 = (await history('1.113')).find((e: { uuid: string }) => e.uuid === maintenance.uuid);
      expect(at113).toHaveProperty('project');
      expect(at113).not.toHaveProperty('state');
      expect(at113).not.toHaveProperty('duration_seconds');
      const at112 = (await history('1.112')).find((e: { uuid: string }) => e.uuid === maintenance.uuid);
      expect(at112).toHaveProperty('user');
      expect(at112).not.toHaveProperty('project');
      const brief = (await history('1.115', false)).find((e: { uuid: string }) => e.uuid === maintenance.uuid);
      expect(Object.keys(brief).sort()).toEqual(['created_at', 'event', 'links', 'severity', 'uuid']);
    });
  });
});
