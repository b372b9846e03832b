// Ports, portgroups, chassis, drivers, conductors, traits and history through app.inject(), on both back ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unregisterConductor } from '../../../db/conductors.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('resources API on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  describe('ports', () => {
    it('creates ports with lower-cased MACs and lists, filters, shows and deletes them', async () => {
      const n = await createNode(h, { name: 'port-node' });
      const r = await h.call('POST', '/v1/ports', { address: '52:54:00:AB:CD:01', node_uuid: n.uuid, pxe_enabled: true, local_link_connection: { switch_id: 'aa:bb:cc:dd:ee:ff', port_id: 'Eth1/1' } });
      expect(r.status).toBe(201);
      expect(r.headers.location).toMatch(new RegExp(`/v1/ports/${r.body.uuid}$`));
      expect(r.body).toMatchObject({ address: '52:54:00:ab:cd:01', node_uuid: n.uuid, pxe_enabled: true, portgroup_uuid: null, physical_network: null, extra: {}, internal_info: {} });
      await h.call('POST', '/v1/ports', { address: '52:54:00:ab:cd:02', node_uuid: n.uuid });
      const list = await h.call('GET', '/v1/ports?node=port-node');
      expect(list.body.ports.map((p: any) => p.address)).toEqual(['52:54:00:ab:cd:01', '52:54:00:ab:cd:02']);
      expect(Object.keys(list.body.ports[0]).sort()).toEqual(['address', 'links', 'uuid']);
      const byAddress = await h.call('GET', '/v1/ports?address=52:54:00:AB:CD:02&fields=node_uuid,uuid,address');
      expect(byAddress.body.ports).toEqual([expect.objectContaining({ node_uuid: n.uuid, address: '52:54:00:ab:cd:02' })]);
      const detail = await h.call('GET', `/v1/nodes/${n.uuid}/ports/detail`);
      expect(detail.body.ports[0].local_link_connection).toEqual({ switch_id: 'aa:bb:cc:dd:ee:ff', port_id: 'Eth1/1' });
      const page = await h.call('GET', `/v1/ports?node_uuid=${n.uuid}&limit=1`);
      expect(page.body.next).toContain(`marker=${r.body.uuid}`);
      const patched = await h.call('PATCH', `/v1/ports/${r.body.uuid}`, [{ op: 'replace', path: '/pxe_enabled', value: false }, { op: 'add', path: '/extra/rack', value: 'r1' }]);
      expect(patched.body).toMatchObject({ pxe_enabled: false, extra: { rack: 'r1' } });
      expect((await h.call('GET', `/v1/ports/${r.body.uuid}`)).body.pxe_enabled).toBe(false);
      expect((await h.call('DELETE', `/v1/ports/${r.body.uuid}`)).status).toBe(204);
      expect((await h.call('GET', `/v1/ports/${r.body.uuid}`)).status).toBe(404);
    });

    it('refuses bad ports with Ironic\'s codes', async () => {
      const n = await createNode(h, { name: 'port-node-2' });
      await h.call('POST', '/v1/ports', { address: '52:54:00:ab:cd:10', node_uuid: n.uuid });
      const cases: [unknown, number, string][] = [
        [{ address: '52:54:00:ab:cd:10', node_uuid: n.uuid }, 409, 'A port with MAC address 52:54:00:ab:cd:10 already exists.'],
        [{ address: '52:54:00:AB:CD:10', node_uuid: n.uuid }, 409, 'already exists'],
        [{ address: 'not-a-mac', node_uuid: n.uuid }, 400, 'Expected a MAC address but received not-a-mac.'],
        [{ address: '52:54:00:ab:cd:11', node_uuid: 'port-node-2' }, 400, 'Expected UUID for node_uuid: port-node-2'],
        [{ address: '52:54:00:ab:cd:11', node_uuid: '11111111-2222-3333-4444-555555555555' }, 400, 'could not be found'],
        [{ address: '52:54:00:ab:cd:11' }, 400, 'exactly one of node_uuid and node_ident is required'],
        [{ address: '52:54:00:ab:cd:11', node_uuid: n.uuid, speed: 10 }, 400, "'speed' was unexpected"],
        [{ address: '52:54:00:ab:cd:11', node_uuid: n.uuid, pxe_enabled: 'maybe' }, 400, 'Invalid value for pxe_enabled: "maybe"'],
        [{ address: '52:54:00:ab:cd:11', node_uuid: n.uuid, pxe_enabled: 1 }, 400, "is not of type 'boolean,string'"],
        [{ address: '52:54:00:ab:cd:11', node_uuid: n.uuid, local_link_connection: { colour: 'x' } }, 400, 'Invalid local_link_connection key "colour"'],
      ];
      for (const [body, status, message] of cases) {
        const r = await h.call('POST', '/v1/ports', body);
        expect(r.status, JSON.stringify(body)).toBe(status);
        expect(fault(r)).toContain(message);
      }
      expect((await h.call('POST', '/v1/ports', { address: '52:54:00:ab:cd:12', node_uuid: n.uuid, physical_network: 'p' }, '1.33')).status).toBe(406);
      // ironicclient sends `--pxe-enabled false` as a string, which Ironic accepts.
      const stringBool = await h.call('POST', '/v1/ports', { address: '52:54:00:ab:cd:13', node_uuid: n.uuid, pxe_enabled: 'False' });
      expect(stringBool.body.pxe_enabled).toBe(false);
      expect((await h.call('GET', '/v1/ports?node=ghost')).status).toBe(404);
      // A port is not addressed by its MAC, and a malformed ident is a 400 (ironic-tempest-plugin's negative tests).
      for (const ident of ['52:54:00:ab:cd:10', 'malformed:uuid']) {
        for (const version of ['1.1', '1.88']) {
          const r = await h.call('GET', `/v1/ports/${ident}`, undefined, version);
          expect(r.status, `${ident} at ${version}`).toBe(400);
          expect(fault(r)).toBe(`Expected UUID or name for port_ident: ${ident}`);
        }
        expect((await h.call('PATCH', `/v1/ports/${ident}`, [{ op: 'replace', path: '/pxe_enabled', value: false }])).status).toBe(400);
        expect((await h.call('DELETE', `/v1/ports/${ident}`)).status).toBe(400);
      }
      expect((await h.call('GET', '/v1/ports/11111111-2222-3333-4444-555555555555')).status).toBe(404);
    });
  });

  describe('portgroups', () => {
    it('creates portgroups, puts ports in them and refuses deleting a non-empty one', async () => {
      const n = await createNode(h);
      const g = await h.call('POST', '/v1/portgroups', { node_uuid: n.uuid, name: 'bond0', address: '52:54:00:ab:ee:01', mode: '802.3ad' });
      expect(g.status).toBe(201);
      expect(g.body).toMatchObject({ name: 'bond0', node_uuid: n.uuid, mode: '802.3ad', standalone_ports_supported: true });
      const p = await h.call('POST', '/v1/ports', { address: '52:54:00:ab:ee:02', node_uuid: n.uuid, portgroup_uuid: g.body.uuid });
      expect(p.body.portgroup_uuid).toBe(g.body.uuid);
      expect((await h.call('GET', '/v1/portgroups/bond0/ports')).body.ports).toHaveLength(1);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/portgroups`)).body.portgroups.map((x: any) => x.name)).toEqual(['bond0']);
      const patched = await h.call('PATCH', '/v1/portgroups/bond0', [{ op: 'replace', path: '/mode', value: 'active-backup' }]);
      expect(patched.body.mode).toBe('active-backup');
      const refused = await h.call('DELETE', '/v1/portgroups/bond0');
      expect(refused.status).toBe(400);
      expect((await h.call('DELETE', `/v1/ports/${p.body.uuid}`)).status).toBe(204);
      expect((await h.call('DELETE', '/v1/portgroups/bond0')).status).toBe(204);
      expect((await h.call('GET', '/v1/portgroups', undefined, '1.22')).status).toBe(404);
      expect((await h.call('POST', '/v1/portgroups', { node_uuid: n.uuid, name: 'bond0', colour: 1 })).status).toBe(400);
    });

    it('keeps the ports of a port group in one physical network (409 otherwise)', async () => {
      const n = await createNode(h);
      const g = (await h.call('POST', '/v1/portgroups', { node_uuid: n.uuid, name: 'bond-net' })).body;
      const first = await h.call('POST', '/v1/ports', { address: '52:54:00:ab:f0:01', node_uuid: n.uuid, portgroup_uuid: g.uuid, physical_network: 'physnet1' });
      expect(first.status).toBe(201);
      // The only member may change its own network.
      expect((await h.call('PATCH', `/v1/ports/${first.body.uuid}`, [{ op: 'replace', path: '/physical_network', value: 'physnet3' }])).status).toBe(200);
      await h.call('PATCH', `/v1/ports/${first.body.uuid}`, [{ op: 'replace', path: '/physical_network', value: 'physnet1' }]);
      const other = await h.call('POST', '/v1/ports', { address: '52:54:00:ab:f0:02', node_uuid: n.uuid, portgroup_uuid: g.uuid, physical_network: 'physnet2' });
      expect(other.status).toBe(409);
      expect(fault(other)).toBe(`Port with physical network physnet2 cannot become a member of port group ${g.uuid}, whose ports are in physical network physnet1: all ports of a port group must be in the same physical network.`);
      const outside = (await h.call('POST', '/v1/ports', { address: '52:54:00:ab:f0:03', node_uuid: n.uuid, physical_network: 'physnet2' })).body;
      expect((await h.call('PATCH', `/v1/ports/${outside.uuid}`, [{ op: 'replace', path: '/portgroup_uuid', value: g.uuid }])).status).toBe(409);
      const same = (await h.call('POST', '/v1/ports', { address: '52:54:00:ab:f0:04', node_uuid: n.uuid, portgroup_uuid: g.uuid, physical_network: 'physnet1' })).body;
      expect((await h.call('PATCH', `/v1/ports/${same.uuid}`, [{ op: 'replace', path: '/physical_network', value: 'physnet2' }])).status).toBe(409);
      expect((await h.call('PATCH', `/v1/ports/${same.uuid}`, [{ op: 'replace', path: '/portgroup_uuid', value: null }])).status).toBe(200);
    });

    it('shows mode and properties from 1.23 and checks their version only where a request names them, as Ironic', async () => {
      const n = await createNode(h);
      const g = await h.call('POST', '/v1/portgroups', { node_uuid: n.uuid, name: 'bond-old' }, '1.23');
      expect(g.status).toBe(201);
      expect(g.body).toMatchObject({ mode: null, properties: {} });
      const inside = await h.call('PATCH', '/v1/portgroups/bond-old', [{ op: 'add', path: '/properties/miimon', value: '100' }], '1.23');
      expect(inside.status).toBe(200);
      expect((await h.call('GET', '/v1/portgroups/bond-old', undefined, '1.23')).body.properties).toEqual({ miimon: '100' });
      for (const [method, url, body] of [
        ['PATCH', '/v1/portgroups/bond-old', [{ op: 'replace', path: '/properties', value: {} }]],
        ['PATCH', '/v1/portgroups/bond-old', [{ op: 'replace', path: '/mode', value: 'balance-rr' }]],
        ['POST', '/v1/portgroups', { node_uuid: n.uuid, mode: 'balance-rr' }],
        ['GET', '/v1/portgroups/bond-old?fields=properties', undefined],
      ] as const) expect((await h.call(method, url, body, '1.25')).status, `${method} ${url}`).toBe(406);
    });
  });

  describe('chassis', () => {
    it('groups nodes and refuses deleting a chassis that has nodes', async () => {
      const c = await h.call('POST', '/v1/chassis', { description: 'rack 7', extra: { row: 2 } });
      expect(c.status).toBe(201);
      const n = await createNode(h, { chassis_uuid: c.body.uuid });
      expect(n.chassis_uuid).toBe(c.body.uuid);
      expect((await h.call('GET', `/v1/chassis/${c.body.uuid}/nodes`)).body.nodes.map((x: any) => x.uuid)).toEqual([n.uuid]);
      expect((await h.call('GET', `/v1/nodes?chassis_uuid=${c.body.uuid}`)).body.nodes).toHaveLength(1);
      expect((await h.call('GET', '/v1/chassis')).body.chassis[0]).toMatchObject({ uuid: c.body.uuid, description: 'rack 7' });
      const refused = await h.call('DELETE', `/v1/chassis/${c.body.uuid}`);
      expect(refused.status).toBe(400);
      expect(fault(refused)).toContain('contains nodes');
      expect((await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'remove', path: '/chassis_uuid' }])).body.chassis_uuid).toBeNull();
      expect((await h.call('PATCH', `/v1/chassis/${c.body.uuid}`, [{ op: 'replace', path: '/description', value: 'rack 8' }])).body.description).toBe('rack 8');
      expect((await h.call('DELETE', `/v1/chassis/${c.body.uuid}`)).status).toBe(204);
      expect((await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', chassis_uuid: c.body.uuid })).status).toBe(400);
    });
  });

  describe('drivers and conductors', () => {
    it('lists the hardware types live conductors serve, with interfaces on detail', async () => {
      const list = await h.call('GET', '/v1/drivers');
      expect(list.body.drivers.map((d: any) => [d.name, d.hosts, d.type])).toEqual([['fake-hardware', ['c1'], 'dynamic'], ['manual-management', ['c1'], 'dynamic']]);
      const detail = await h.call('GET', '/v1/drivers?detail=true');
      expect(detail.body.drivers[0]).toMatchObject({ default_power_interface: 'fake', default_bios_interface: 'no-bios' });
      expect(detail.body.drivers[0].enabled_inspect_interfaces).toEqual(expect.arrayContaining(['fake', 'no-inspect']));
      expect((await h.call('GET', '/v1/drivers/fake-hardware')).body.default_deploy_interface).toBe('fake');
      expect((await h.call('GET', '/v1/drivers/fake-hardware/properties')).body.fake_delay).toContain('Seconds');
      expect((await h.call('GET', '/v1/drivers/ipmi')).status).toBe(404);
      expect((await h.call('GET', '/v1/drivers?type=classic')).body.drivers).toEqual([]);
    });

    it('lists conductors with their liveness, and nothing older than 1.49', async () => {
      const list = await h.call('GET', '/v1/conductors');
      expect(list.body.conductors).toEqual([expect.objectContaining({ hostname: 'c1', conductor_group: '', alive: true })]);
      expect((await h.call('GET', '/v1/conductors/c1')).body.drivers).toEqual(['fake-hardware', 'manual-management']);
      expect((await h.call('GET', '/v1/conductors', undefined, '1.48')).status).toBe(404);
      await unregisterConductor(h.t.db.knex, 'c1');
      expect((await h.call('GET', '/v1/conductors/c1')).body.alive).toBe(false);
      expect((await h.call('GET', '/v1/drivers')).body.drivers).toEqual([]);
    });
  });

  describe('inventory, bios and firmware', () => {
    it('serves the stored inventory, 404 before inspection, and empty BIOS and firmware lists', async () => {
      const n = await createNode(h);
      const none = await h.call('GET', `/v1/nodes/${n.uuid}/inventory`);
      expect(none.status).toBe(404);
      expect(fault(none)).toBe(`Node inventory for node ${n.uuid} could not be found.`);
      const node = await h.t.db.knex('nodes').where({ uuid: n.uuid }).first();
      const inventory = { cpu: { count: 4, architecture: 'x86_64' }, memory: { physical_mb: 8192 } };
      await h.t.db.knex('node_inventory').insert({ node_id: node.id, inventory: JSON.stringify(inventory), plugin_data: '{"macs": []}', created_at: Date.now() });
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/inventory`)).body).toEqual({ inventory, plugin_data: { macs: [] } });
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/inventory`, undefined, '1.80')).status).toBe(404);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/bios?detail=true`)).body).toEqual({ bios: [] });
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/firmware`)).body).toEqual({ firmware: [] });
      expect((await h.call('GET', '/v1/nodes/ghost/bios')).status).toBe(404);
    });
  });

  describe('traits and history', () => {
    it('replaces, adds and removes traits and shows them on the node', async () => {
      const n = await createNode(h);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/traits`, { traits: ['CUSTOM_GPU', 'HW_CPU_X86_AVX2'] })).status).toBe(204);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/traits/CUSTOM_FAST`)).status).toBe(204);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/traits`)).body.traits).toEqual(['CUSTOM_FAST', 'CUSTOM_GPU', 'HW_CPU_X86_AVX2']);
      expect((await h.call('DELETE', `/v1/nodes/${n.uuid}/traits/CUSTOM_GPU`)).status).toBe(204);
      const missing = await h.call('DELETE', `/v1/nodes/${n.uuid}/traits/CUSTOM_GPU`);
      expect(missing.status).toBe(404);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).body.traits).toEqual(['CUSTOM_FAST', 'HW_CPU_X86_AVX2']);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/traits/lower_case`)).status).toBe(400);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/traits`, { traits: 'CUSTOM_X' })).status).toBe(400);
      expect((await h.call('DELETE', `/v1/nodes/${n.uuid}/traits`)).status).toBe(204);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/traits`)).body.traits).toEqual([]);
    });

    it('answers traits below 1.37 as Ironic does: GET 406, PUT 405, DELETE 404', async () => {
      const n = await createNode(h);
      const cases: [string, string, unknown, number][] = [
        ['GET', `/v1/nodes/${n.uuid}/traits`, undefined, 406],
        ['PUT', `/v1/nodes/${n.uuid}/traits`, { traits: ['CUSTOM_X'] }, 405],
        ['PUT', `/v1/nodes/${n.uuid}/traits/CUSTOM_X`, undefined, 405],
        ['DELETE', `/v1/nodes/${n.uuid}/traits`, undefined, 404],
        ['DELETE', `/v1/nodes/${n.uuid}/traits/CUSTOM_X`, undefined, 404],
      ];
      for (const [method, url, body, status] of cases) {
        const r = await h.call(method, url, body, '1.36');
        expect(r.status, `${method} ${url}`).toBe(status);
        expect(fault(r)).toBe('Node traits require API version 1.37 or later.');
      }
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/traits`, undefined, '1.37')).body).toEqual({ traits: [] });
    });

    it('shows the node history, one event and the detail', async () => {
      const n = await createNode(h);
      await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'manage' });
      const list = await h.call('GET', `/v1/nodes/${n.uuid}/history`);
      expect(list.body.history.map((e: any) => e.event)).toEqual(['Node created with driver fake-hardware in state enroll', '"manage" requested: "enroll" -> "verifying"']);
      expect(list.body.history[0]).toMatchObject({ severity: 'INFO' });
      expect(list.body.history[0].event_type).toBeUndefined();
      const detail = await h.call('GET', `/v1/nodes/${n.uuid}/history?detail=true`);
      expect(detail.body.history[1].event_type).toBe('provisioning');
      const one = await h.call('GET', `/v1/nodes/${n.uuid}/history/${list.body.history[1].uuid}`);
      expect(one.body.event).toContain('manage');
      const page = await h.call('GET', `/v1/nodes/${n.uuid}/history?limit=1`);
      expect(page.body.next).toContain(`marker=${list.body.history[0].uuid}`);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}/history`, undefined, '1.77')).status).toBe(404);
    });
  });
});
