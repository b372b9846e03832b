// What API 1.82–1.95 adds, as Metal3's baremetal-operator and gophercloud use it: BMO-shaped node
// creates (disable_power_off, Redfish and iDRAC interface names), shards, children, ports by name
// and node_ident, the .json suffix rule, runbooks, deleting available nodes. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

/** The body gophercloud's nodes.CreateOpts builds from BMO's enrollNode (empty strings omitted). */
function bmoCreate(name: string, kind: 'ipmi' | 'redfish' | 'idrac-virtualmedia'): Record<string, unknown> {
  const common = { name, inspect_interface: 'agent', disable_power_off: false, properties: { capabilities: 'boot_mode:uefi', cpu_arch: 'x86_64' } };
  const redfishInfo = { redfish_username: 'admin', redfish_password: 'pw', redfish_address: 'https://192.0.2.10', redfish_system_id: '/redfish/v1/Systems/1' };
  if (kind === 'ipmi') return { ...common, driver: 'ipmi', boot_interface: 'ipxe', raid_interface: 'no-raid', driver_info: { ipmi_address: '192.0.2.11', ipmi_port: '623', ipmi_username: 'admin', ipmi_password: 'pw', ipmi_priv_level: 'ADMINISTRATOR' } };
  if (kind === 'redfish') return { ...common, driver: 'redfish', boot_interface: 'ipxe', firmware_interface: 'redfish', raid_interface: 'redfish', driver_info: redfishInfo };
  return {
    ...common, driver: 'idrac', bios_interface: 'idrac-redfish', boot_interface: 'idrac-redfish-virtual-media', firmware_interface: 'redfish',
    management_interface: 'idrac-redfish', power_interface: 'idrac-redfish', raid_interface: 'idrac-redfish', vendor_interface: 'idrac-redfish', driver_info: redfishInfo,
  };
}

describe.each(BACKENDS)('API 1.82-1.95 on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(async () => { await h.close(); });

  describe('node create as Metal3 sends it', () => {
    for (const kind of ['ipmi', 'redfish', 'idrac-virtualmedia'] as const) {
      it(`creates a ${kind}:// host at 1.95 with disable_power_off and the interfaces BMO names`, async () => {
        const body = bmoCreate(`metal3~${kind}-${backend}`, kind);
        const r = await h.call('POST', '/v1/nodes', body, '1.95');
        expect(r.status, r.raw).toBe(201);
        expect(r.headers.location).toMatch(new RegExp(`/v1/nodes/${r.body.uuid}$`));
        for (const [k, v] of Object.entries(body)) if (k.endsWith('_interface')) expect(r.body[k]).toBe(v);
        expect(r.body.disable_power_off).toBe(false);
        expect(r.body.driver_info.redfish_password ?? r.body.driver_info.ipmi_password).toBe('******');
      });
    }

    it('refuses disable_power_off below 1.95 with 406 and hides it there', async () => {
      const r = await h.call('POST', '/v1/nodes', bmoCreate(`old-${backend}`, 'redfish'), '1.89');
      expect(r.status).toBe(406);
      expect(fault(r)).toContain('disable_power_off');
      const n = await createNode(h, { name: `dpo-hidden-${backend}` });
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`, undefined, '1.94')).body).not.toHaveProperty('disable_power_off');
      expect((await h.call('GET', `/v1/nodes/${n.uuid}?fields=disable_power_off`, undefined, '1.94')).status).toBe(406);
      expect((await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/disable_power_off', value: true }], '1.94')).status).toBe(406);
    });

    it('sets disable_power_off by PATCH, refuses power off (409) and still reboots', async () => {
      const n = await createNode(h, { name: `dpo-${backend}` });
      const p = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/disable_power_off', value: 'true' }]);
      expect(p.status).toBe(200);
      expect(p.body.disable_power_off).toBe(true);
      for (const target of ['power off', 'soft power off']) {
        const r = await h.call('PUT', `/v1/nodes/${n.uuid}/states/power`, { target });
        expect(r.status).toBe(409);
        expect(fault(r)).toContain(`Failed to set node power state to ${target}`);
      }
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/power`, { target: 'rebooting' })).status).toBe(202);
      const removed = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'remove', path: '/disable_power_off' }]);
      expect(removed.body.disable_power_off).toBe(false);
    });

    it('accepts every implementation Anvil has on fake-hardware, as Ironic does', async () => {
      const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', name: `fake-ipxe-${backend}`, boot_interface: 'ipxe', deploy_interface: 'direct', inspect_interface: 'redfish', raid_interface: 'redfish' });
      expect(r.status, r.raw).toBe(201);
      expect(r.body).toMatchObject({ boot_interface: 'ipxe', deploy_interface: 'direct', raid_interface: 'redfish', power_interface: 'fake' });
      const bad = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', boot_interface: 'no-such-boot' });
      expect(bad.status).toBe(400);
      expect(fault(bad)).toContain('no-such-boot');
      const drivers = await h.call('GET', '/v1/drivers/fake-hardware');
      expect(drivers.body.enabled_boot_interfaces).toEqual(expect.arrayContaining(['fake', 'ipxe', 'pxe', 'http', 'redfish-virtual-media']));
      expect(drivers.body.default_boot_interface).toBe('fake');
    });
  });

  describe('shards (1.82)', () => {
    it('counts nodes per shard, the unsharded ones as "None", and is 404 before 1.82', async () => {
      for (const [i, shard] of ['s-a', 's-a', 's-b'].entries()) await createNode(h, { name: `shard-${i}-${backend}`, shard });
      const r = await h.call('GET', '/v1/shards');
      expect(r.status).toBe(200);
      const counts = Object.fromEntries(r.body.shards.map((s: { name: string; count: number }) => [s.name, s.count]));
      expect(counts['s-a']).toBe(2);
      expect(counts['s-b']).toBe(1);
      expect(counts.None).toBeGreaterThan(0);
      const sorted = r.body.shards.map((s: { count: number }) => s.count);
      expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
      expect((await h.call('GET', '/v1/shards', undefined, '1.81')).status).toBe(404);
      expect((await h.call('GET', '/v1/nodes?shard=s-a')).body.nodes).toHaveLength(2);
    });
  });

  describe('children (1.83)', () => {
    it('stores parent_node as the parent\'s UUID and lists the children', async () => {
      const parent = await createNode(h, { name: `parent-${backend}` });
      const child = await createNode(h, { name: `child-${backend}`, parent_node: `parent-${backend}` });
      expect(child.parent_node).toBe(parent.uuid);
      const r = await h.call('GET', `/v1/nodes/parent-${backend}/children`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ children: [child.uuid], links: { href: expect.stringMatching(new RegExp(`/v1/nodes\\?parent_node=${parent.uuid}$`)), rel: 'children' } });
      expect((await h.call('GET', `/v1/nodes/${parent.uuid}/children`, undefined, '1.82')).status).toBe(404);
      // Children are left out of lists unless asked for.
      const list = await h.call('GET', '/v1/nodes?limit=1000');
      expect(list.body.nodes.map((n: { uuid: string }) => n.uuid)).not.toContain(child.uuid);
      expect((await h.call('GET', `/v1/nodes?parent_node=${parent.uuid}`)).body.nodes.map((n: { uuid: string }) => n.uuid)).toEqual([child.uuid]);
    });

    it('refuses a parent that does not exist, or itself', async () => {
      const r = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', parent_node: 'no-such-parent' });
      expect(r.status).toBe(400);
      expect(fault(r)).toContain("Unable to apply the requested parent_node 'no-such-parent'");
      const n = await createNode(h, { name: `self-${backend}` });
      const self = await h.call('PATCH', `/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/parent_node', value: n.uuid }]);
      expect(self.status).toBe(400);
    });
  });

  describe('ports', () => {
    it('finds a port by name from 1.88, UUID only before', async () => {
      const n = await createNode(h, { name: `port-name-${backend}` });
      const p = await h.call('POST', '/v1/ports', { node_uuid: n.uuid, address: '52:54:00:88:00:01', name: `nic0-${backend}` });
      expect(p.status).toBe(201);
      const byName = await h.call('GET', `/v1/ports/nic0-${backend}`);
      expect(byName.status).toBe(200);
      expect(byName.body.uuid).toBe(p.body.uuid);
      expect((await h.call('GET', `/v1/ports/nic0-${backend}`, undefined, '1.87')).status).toBe(404);
      expect((await h.call('PATCH', `/v1/ports/nic0-${backend}`, [{ op: 'add', path: '/extra/a', value: 1 }])).body.extra).toEqual({ a: 1 });
      expect((await h.call('DELETE', `/v1/ports/nic0-${backend}`)).status).toBe(204);
    });

    it('creates a port with node_ident (1.94), by name or UUID; 406 before; exactly one node reference', async () => {
      const n = await createNode(h, { name: `port-ident-${backend}` });
      const byName = await h.call('POST', '/v1/ports', { node_ident: `port-ident-${backend}`, address: '52:54:00:94:00:01' });
      expect(byName.status, byName.raw).toBe(201);
      expect(byName.body.node_uuid).toBe(n.uuid);
      expect((await h.call('POST', '/v1/ports', { node_ident: n.uuid, address: '52:54:00:94:00:02' })).status).toBe(201);
      expect((await h.call('POST', '/v1/ports', { node_ident: n.uuid, address: '52:54:00:94:00:03' }, '1.93')).status).toBe(406);
      expect((await h.call('POST', '/v1/ports', { node_ident: n.uuid, node_uuid: n.uuid, address: '52:54:00:94:00:04' })).status).toBe(400);
      const missing = await h.call('POST', '/v1/ports', { node_ident: 'nobody-here', address: '52:54:00:94:00:05' });
      expect(missing.status).toBe(400);
      expect(fault(missing)).toContain('nobody-here could not be found');
    });

    it('takes the OVN VTEP local_link_connection keys from 1.90, both or neither', async () => {
      const n = await createNode(h, { name: `vtep-${backend}` });
      const llc = { port_id: 'p1', 'vtep-logical-switch': 'ls1', 'vtep-physical-switch': 'ps1' };
      const ok = await h.call('POST', '/v1/ports', { node_uuid: n.uuid, address: '52:54:00:90:00:01', local_link_connection: llc });
      expect(ok.status, ok.raw).toBe(201);
      expect(ok.body.local_link_connection).toEqual(llc);
      // Too new for 1.89: a 406, as Ironic's _check_allowed_port_fields answers.
      expect((await h.call('POST', '/v1/ports', { node_uuid: n.uuid, address: '52:54:00:90:00:02', local_link_connection: llc }, '1.89')).status).toBe(406);
      expect((await h.call('POST', '/v1/ports', { node_uuid: n.uuid, address: '52:54:00:90:00:03', local_link_connection: { port_id: 'p', 'vtep-logical-switch': 'ls' } })).status).toBe(400);
    });
  });

  describe('the .json suffix (1.91)', () => {
    it('strips .json below 1.91 and keeps it as part of the name from 1.91', async () => {
      const plain = await createNode(h, { name: `js-${backend}` });
      const dotted = await createNode(h, { name: `js-${backend}.json` });
      expect((await h.call('GET', `/v1/nodes/js-${backend}.json`, undefined, '1.90')).body.uuid).toBe(plain.uuid);
      expect((await h.call('GET', `/v1/nodes/js-${backend}.json`, undefined, '1.91')).body.uuid).toBe(dotted.uuid);
      expect((await h.call('GET', `/v1/nodes/js-${backend}.json?fields=name`, undefined, '1.90')).body.name).toBe(`js-${backend}`);
    });
  });

  describe('deleting available nodes', () => {
    it('deletes an available node (allow_deleting_available_nodes), and refuses it when configured off', async () => {
      const n = await createNode(h, { name: `avail-${backend}` });
      await updateNode(h.t.db.knex, (await findNode(h.t.db.knex, n.uuid))!.id, { provision_state: 'available' });
      h.config.api.allowDeletingAvailableNodes = false;
      try {
        const refused = await h.call('DELETE', `/v1/nodes/${n.uuid}`);
        expect(refused.status).toBe(409);
        expect(fault(refused)).toContain('"available"');
      } finally {
        h.config.api.allowDeletingAvailableNodes = true;
      }
      expect((await h.call('DELETE', `/v1/nodes/${n.uuid}`)).status).toBe(204);
      expect((await h.call('GET', `/v1/nodes/${n.uuid}`)).status).toBe(404);
      const active = await createNode(h, { name: `active-del-${backend}` });
      await updateNode(h.t.db.knex, (await findNode(h.t.db.knex, active.uuid))!.id, { provision_state: 'active' });
      expect((await h.call('DELETE', `/v1/nodes/${active.uuid}`)).status).toBe(409);
    });
  });

  describe('runbooks (1.92)', () => {
    const steps = [{ interface: 'deploy', step: 'erase_devices_metadata', args: {}, order: 2 }, { interface: 'bios', step: 'apply_configuration', args: { settings: [], password: 'x' }, order: 1 }];

    it('creates, lists, shows, patches and deletes runbooks', async () => {
      const r = await h.call('POST', '/v1/runbooks', { name: `CUSTOM_RB_${backend.toUpperCase()}`, steps, extra: { team: 'a' } });
      expect(r.status, r.raw).toBe(201);
      expect(r.headers.location).toMatch(new RegExp(`/v1/runbooks/${r.body.uuid}$`));
      expect(r.body).toMatchObject({ name: `CUSTOM_RB_${backend.toUpperCase()}`, disable_ramdisk: false, public: false, owner: null, extra: { team: 'a' } });
      expect(r.body.steps[1].args.password).toBe('******');
      expect(r.body.created_at).toMatch(/\+00:00$/);
      const list = await h.call('GET', '/v1/runbooks');
      expect(list.body.runbooks).toContainEqual({ uuid: r.body.uuid, name: r.body.name, links: expect.any(Array) });
      expect((await h.call('GET', '/v1/runbooks?detail=true')).body.runbooks[0].steps).toBeDefined();
      expect((await h.call('GET', `/v1/runbooks/${r.body.name}`)).body.uuid).toBe(r.body.uuid);
      const patched = await h.call('PATCH', `/v1/runbooks/${r.body.uuid}`, [{ op: 'replace', path: '/steps/0/order', value: 5 }, { op: 'add', path: '/owner', value: 'proj' }]);
      expect(patched.status, patched.raw).toBe(200);
      expect(patched.body.steps[0].order).toBe(5);
      expect(patched.body.owner).toBe('proj');
      const pub = await h.call('PATCH', `/v1/runbooks/${r.body.uuid}`, [{ op: 'replace', path: '/public', value: true }]);
      expect(pub.body).toMatchObject({ public: true, owner: null });
      expect((await h.call('PATCH', `/v1/runbooks/${r.body.uuid}`, [{ op: 'add', path: '/owner', value: 'p2' }])).status).toBe(400);
      expect((await h.call('DELETE', `/v1/runbooks/${r.body.uuid}`)).status).toBe(204);
      expect((await h.call('GET', `/v1/runbooks/${r.body.uuid}`)).status).toBe(404);
    });

    it('refuses bad runbooks with Ironic\'s codes, and older versions', async () => {
      const name = `CUSTOM_BAD_${backend.toUpperCase()}`;
      const cases: [Record<string, unknown>, number][] = [
        [{ name: 'lower-case', steps }, 400],
        [{ name, steps: [] }, 400],
        [{ name, steps: [{ interface: 'deploy', step: 's' }] }, 400],
        [{ name, steps: [{ interface: 'nope', step: 's', order: 1 }] }, 400],
        [{ name, steps: [steps[0], steps[0]] }, 400],
        [{ name, steps, surprise: 1 }, 400],
        [{ name, steps, public: true, owner: 'p' }, 400],
      ];
      for (const [body, status] of cases) expect((await h.call('POST', '/v1/runbooks', body)).status, JSON.stringify(body)).toBe(status);
      expect((await h.call('POST', '/v1/runbooks', { name, steps })).status).toBe(201);
      expect((await h.call('POST', '/v1/runbooks', { name, steps })).status).toBe(409);
      expect((await h.call('GET', '/v1/runbooks', undefined, '1.91')).status).toBe(404);
      expect((await h.call('POST', '/v1/runbooks', { name: 'CUSTOM_X', steps }, '1.91')).status).toBe(405);
    });

    it('runs a runbook\'s steps, in order, in a manual clean of a node that carries its name as a trait', async () => {
      const name = `CUSTOM_CLEAN_${backend.toUpperCase()}`;
      expect((await h.call('POST', '/v1/runbooks', { name, steps, disable_ramdisk: true })).status).toBe(201);
      const n = await createNode(h, { name: `rb-node-${backend}` });
      const id = (await findNode(h.t.db.knex, n.uuid))!.id;
      await updateNode(h.t.db.knex, id, { provision_state: 'manageable' });
      const unapproved = await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'clean', runbook: name });
      expect(unapproved.status).toBe(400);
      expect(fault(unapproved)).toContain('not been approved');
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/traits/${name}`)).status).toBe(204);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'clean', runbook: name, clean_steps: steps })).status).toBe(400);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'provide', runbook: name })).status).toBe(400);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'clean', runbook: name }, '1.91')).status).toBe(406);
      expect((await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'clean', runbook: 'CUSTOM_NOT_THERE' })).status).toBe(404);
      const ok = await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'clean', runbook: name });
      expect(ok.status, ok.raw).toBe(202);
      const stored = (await findNode(h.t.db.knex, n.uuid))!;
      expect(stored.provision_state).toBe('cleaning');
      expect(stored.provision_request?.steps?.map((s) => s.step)).toEqual(['apply_configuration', 'erase_devices_metadata']);
      expect(stored.provision_request?.disable_ramdisk).toBe(true);
    });

    it('accepts disable_ramdisk with service only from 1.108, so not at 1.95', async () => {
      const n = await createNode(h, { name: `svc-${backend}` });
      await updateNode(h.t.db.knex, (await findNode(h.t.db.knex, n.uuid))!.id, { provision_state: 'active' });
      const r = await h.call('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'service', service_steps: steps, disable_ramdisk: true });
      expect(r.status).toBe(406);
    });
  });
});
