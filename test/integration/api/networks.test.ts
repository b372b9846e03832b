// Networks (Anvil's /v1/networks) and Ironic's VIF API (1.28) on both back ends: validation, the
// port a VIF lands on (port group first, then a free PXE port, a named port again → a trunk),
// addresses from the network's subnet, the states that refuse changes; and the policy through
// the real targets: a project attaches only its own networks to nodes it may touch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisionState } from '../../../common/states.ts';
import { attachmentsOfNode, findNetwork } from '../../../db/networks.ts';
import { updateNode } from '../../../db/nodes.ts';
import { authorize } from '../../../services/api/auth/authorize.ts';
import type { Identity } from '../../../services/api/auth/identity.ts';
import { Policy } from '../../../services/api/auth/policy/enforcer.ts';
import { ROUTE_POLICIES } from '../../../services/api/auth/policy/routes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

function project(id: string, roles: string[]): Identity {
  return { strategy: 'keystone', userId: `u-${id}`, userName: `user-${id}`, projectId: id, projectName: id, projectDomainId: 'default', roles, system: false };
}

describe.each(BACKENDS)('networks and VIFs (%s)', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startHarness(backend); });
  afterAll(() => h?.close());

  it('creates, shows, lists and deletes networks, and refuses bad ones', async () => {
    const r = await h.call('POST', '/v1/networks', { name: 'tenant-a', kind: 'tenant', vlan_id: 101, cidr: '10.1.0.0/24', gateway: '10.1.0.1', mtu: 9000, owner: 'pa' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'tenant-a', kind: 'tenant', vlan_id: 101, cidr: '10.1.0.0/24', owner: 'pa', mtu: 9000 });
    expect((await h.call('GET', `/v1/networks/${r.body.uuid}`)).body.name).toBe('tenant-a');
    expect((await h.call('GET', '/v1/networks/tenant-a')).body.uuid).toBe(r.body.uuid);
    expect((await h.call('GET', '/v1/networks')).body.networks.map((n: any) => n.name)).toContain('tenant-a');
    const dup = await h.call('POST', '/v1/networks', { name: 'tenant-a', kind: 'tenant' });
    expect(dup.status).toBe(409);
    for (const [body, words] of [
      [{ name: 'x1', kind: 'tenant', vlan_id: 4095 }, 'vlan_id'],
      [{ name: 'x2', kind: 'lunch' }, 'kind'],
      [{ name: 'x3', kind: 'tenant', cidr: '10.0.0.1/24' }, 'host bits'],
      [{ name: 'x4', kind: 'tenant', cidr: '10.0.0.0/24', gateway: '10.0.1.1' }, 'not a host address'],
      [{ name: 'x5', kind: 'tenant', gateway: '10.0.1.1' }, 'needs its cidr'],
    ] as const) {
      const bad = await h.call('POST', '/v1/networks', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(fault(bad)).toContain(words);
    }
    const gone = await h.call('POST', '/v1/networks', { name: 'scratch', kind: 'cleaning', vlan_id: 5 });
    expect((await h.call('DELETE', '/v1/networks/scratch')).status).toBe(204);
    expect((await h.call('GET', `/v1/networks/${gone.body.uuid}`)).status).toBe(404);
  });

  it('attaches VIFs to a port group, then a free PXE port, a named port as a trunk; addresses from the subnet', async () => {
    const node = await createNode(h, { name: 'vif-node' });
    const mkPort = async (mac: string, extra: Record<string, unknown> = {}) => (await h.call('POST', '/v1/ports', { address: mac, node_uuid: node.uuid, ...extra })).body;
    const pg = (await h.call('POST', '/v1/portgroups', { node_uuid: node.uuid, name: 'bond0', mode: '802.3ad' })).body;
    await mkPort('52:54:00:aa:00:01', { portgroup_uuid: pg.uuid, pxe_enabled: false });
    await mkPort('52:54:00:aa:00:02', { portgroup_uuid: pg.uuid, pxe_enabled: false });
    const plain = await mkPort('52:54:00:aa:00:03', { pxe_enabled: false });
    const pxe = await mkPort('52:54:00:aa:00:04', { pxe_enabled: true });
    const nets: Record<string, string> = {};
    for (const [name, vlan] of [['n1', 201], ['n2', 202], ['n3', 203], ['n4', 204]] as const) {
      nets[name] = (await h.call('POST', '/v1/networks', { name, kind: 'tenant', vlan_id: vlan, cidr: `10.2.${vlan - 200}.0/29`, gateway: `10.2.${vlan - 200}.1` })).body.uuid;
    }
    expect((await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: nets.n1 }, '1.27')).status).toBe(404);
    for (const n of ['n1', 'n2']) expect((await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: n })).status).toBe(204);
    expect((await h.call('POST', `/v1/nodes/vif-node/vifs`, { id: nets.n3, port_uuid: pxe.uuid })).status).toBe(204);
    const again = await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: 'n1' });
    expect(again.status).toBe(409);
    // The bond got n1, the PXE port n2 (and n3 as a trunk member), the plain port is next.
    expect((await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: 'n4' })).status).toBe(204);
    const none = await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: (await h.call('POST', '/v1/networks', { name: 'n5', kind: 'tenant', vlan_id: 205 })).body.uuid });
    expect(none.status).toBe(400);
    expect(fault(none)).toContain('not enough free physical ports');

    const list = await h.call('GET', `/v1/nodes/${node.uuid}/vifs`);
    expect(list.body.vifs).toEqual([nets.n1, nets.n2, nets.n3, nets.n4].map((id) => ({ id })));
    const nodeRow = (await h.t.db.knex('nodes').where({ uuid: node.uuid }).first()) as { id: number };
    const attached = await attachmentsOfNode(h.t.db.knex, nodeRow.id);
    const portIds = Object.fromEntries((await h.t.db.knex('ports').where({ node_id: nodeRow.id }).select('id', 'uuid')).map((p: any) => [p.uuid, p.id]));
    const pgId = ((await h.t.db.knex('portgroups').where({ uuid: pg.uuid }).first()) as { id: number }).id;
    expect(attached.map((a) => [a.port_id, a.portgroup_id, a.address])).toEqual([
      [null, pgId, '10.2.1.2'], [portIds[pxe.uuid], null, '10.2.2.2'], [portIds[pxe.uuid], null, '10.2.3.2'], [portIds[plain.uuid], null, '10.2.4.2'],
    ]);

    const detach = await h.call('DELETE', `/v1/nodes/${node.uuid}/vifs/${nets.n4}`);
    expect(detach.status).toBe(204);
    const notAttached = await h.call('DELETE', `/v1/nodes/${node.uuid}/vifs/${nets.n4}`);
    expect(notAttached.status).toBe(400);
    expect(fault(notAttached)).toContain('not attached');
    expect((await h.call('DELETE', '/v1/networks/n1')).status).toBe(409);
    expect((await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: 'no-such-net' })).status).toBe(400);

    // A deployed node keeps its wiring: VIF changes wait until it is torn down.
    await updateNode(h.t.db.knex, nodeRow.id, { provision_state: ProvisionState.ACTIVE });
    const busy = await h.call('POST', `/v1/nodes/${node.uuid}/vifs`, { id: 'n4' });
    expect(busy.status).toBe(409);
    expect(fault(busy)).toContain('active');
  });

  it('lets a project attach only its own networks to nodes it may touch', async () => {
    const policy = new Policy({}, { serviceProjectName: 'service' });
    const knex = h.t.db.knex;
    const nodeA = await createNode(h, { name: 'pol-a', owner: 'pa' });
    await createNode(h, { name: 'pol-b', owner: 'pb' });
    await h.call('POST', '/v1/networks', { name: 'net-b', kind: 'tenant', vlan_id: 300, owner: 'pb' });
    await h.call('POST', '/v1/networks', { name: 'net-a2', kind: 'tenant', vlan_id: 301, owner: 'pa' });
    const ask = async (who: Identity, key: string, params: Record<string, string>, body?: unknown) => {
      const req = { method: key.split(' ')[0], url: key.split(' ')[1], params, body, apiVersion: 95, auth: { identity: who }, routeOptions: {} } as any;
      try {
        await authorize(req, knex, policy, ROUTE_POLICIES[key]);
        return { ok: true, req };
      } catch (err) {
        return { ok: false, status: (err as { status?: number }).status, message: (err as Error).message, req };
      }
    };
    const aMember = project('pa', ['member', 'reader']);
    const aAdmin = project('pa', ['admin', 'manager', 'member', 'reader']);
    expect((await ask(aMember, 'POST /nodes/:ident/vifs', { ident: nodeA.uuid }, { id: 'net-a2' })).ok).toBe(true);
    const foreign = await ask(aMember, 'POST /nodes/:ident/vifs', { ident: nodeA.uuid }, { id: 'net-b' });
    expect(foreign).toMatchObject({ ok: false, status: 403 });
    expect(foreign.message).toContain('anvil:network:use');
    expect(await ask(aMember, 'POST /nodes/:ident/vifs', { ident: 'pol-b' }, { id: 'net-a2' })).toMatchObject({ ok: false, status: 404 });
    expect((await ask(project('pb', ['reader']), 'GET /nodes/:ident/vifs', { ident: 'pol-b' })).ok).toBe(true);
    expect(await ask(aMember, 'GET /networks/:ident', { ident: 'net-b' })).toMatchObject({ ok: false, status: 404 });
    const listed = await ask(aMember, 'GET /networks', {});
    expect(listed.req.auth.project).toBe('pa');
    // A project's own network is a tenant network owned by it, whatever the body says about the owner.
    expect(await ask(aMember, 'POST /networks', {}, { name: 'x', kind: 'tenant' })).toMatchObject({ ok: false, status: 403 });
    const created = await ask(aAdmin, 'POST /networks', {}, { name: 'x', kind: 'tenant' });
    expect(created.ok).toBe(true);
    expect(created.req.body.owner).toBe('pa');
    expect(await ask(aAdmin, 'POST /networks', {}, { name: 'x', kind: 'provisioning' })).toMatchObject({ ok: false, status: 400 });
    expect(await ask(aAdmin, 'DELETE /networks/:ident', { ident: 'net-b' })).toMatchObject({ ok: false, status: 404 });
    expect((await ask(aAdmin, 'DELETE /networks/:ident', { ident: 'net-a2' })).ok).toBe(true);
    expect((await findNetwork(knex, 'net-a2'))?.owner).toBe('pa');
  });
});
