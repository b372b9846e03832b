// /v1/volume (1.32) as Ironic serves it: connectors and targets created, listed (all, by node,
// under the node), shown, patched and deleted; connector types, (type, connector_id) and
// (node, boot_index) uniqueness, changes only while the node is powered off, CHAP secrets masked,
// 404 below 1.32. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('volume connectors and targets on %s', (backend) => {
  let h: ApiHarness;
  let node: { uuid: string; id: number };
  let other: { uuid: string; id: number };
  const powered = async (n: { id: number }, state: string) => { await updateNode(h.t.db.knex, n.id, { power_state: state }); };

  beforeAll(async () => {
    h = await startHarness(backend);
    for (const name of ['bfv-0', 'bfv-1']) {
      const created = await createNode(h, { name, storage_interface: 'noop' });
      const row = (await findNode(h.t.db.knex, created.uuid))!;
      if (name === 'bfv-0') node = row; else other = row;
      await powered(row, 'power off');
    }
  });
  afterAll(async () => { await h.close(); });

  it('serves the volume root documents', async () => {
    const root = await h.call('GET', '/v1/volume', undefined, '1.32');
    expect(root.status).toBe(200);
    expect(root.body.connectors[0].href).toMatch(/\/v1\/volume\/connectors$/);
    expect(root.body.targets[1]).toEqual({ href: expect.stringMatching(/[^1]\/volume\/targets$/), rel: 'bookmark' });
    const ofNode = await h.call('GET', `/v1/nodes/bfv-0/volume`, undefined, '1.32');
    expect(ofNode.body.connectors[0].href).toMatch(new RegExp(`/v1/nodes/${node.uuid}/volume/connectors$`));
    expect((await h.call('GET', '/v1', undefined, '1.32')).body.volume).toBeDefined();
  });

  it('creates, lists, shows, patches and deletes connectors', async () => {
    const iqn = `iqn.2026-12.org.anvil:${backend}-0`;
    const r = await h.call('POST', '/v1/volume/connectors', { node_uuid: node.uuid, type: 'iqn', connector_id: iqn, extra: { a: 1 } });
    expect(r.status, r.raw).toBe(201);
    expect(r.headers.location).toMatch(new RegExp(`/v1/volume/connectors/${r.body.uuid}$`));
    expect(r.body).toMatchObject({ node_uuid: node.uuid, type: 'iqn', connector_id: iqn, extra: { a: 1 }, updated_at: null });
    const wwpn = await h.call('POST', '/v1/volume/connectors', { node_uuid: other.uuid, type: 'wwpn', connector_id: '50:01:43:80:12:34:56:78' });
    expect(wwpn.status).toBe(201);

    const list = await h.call('GET', '/v1/volume/connectors');
    expect(list.body.connectors).toContainEqual({ uuid: r.body.uuid, node_uuid: node.uuid, type: 'iqn', connector_id: iqn, links: expect.any(Array) });
    expect(list.body.connectors).toHaveLength(2);
    expect((await h.call('GET', '/v1/volume/connectors?node=bfv-1')).body.connectors.map((c: { uuid: string }) => c.uuid)).toEqual([wwpn.body.uuid]);
    const under = await h.call('GET', `/v1/nodes/${node.uuid}/volume/connectors?detail=True`);
    expect(under.body.connectors).toEqual([expect.objectContaining({ uuid: r.body.uuid, extra: { a: 1 }, created_at: expect.any(String) })]);
    expect((await h.call('GET', '/v1/volume/connectors?fields=type')).body.connectors[0]).toEqual({ type: 'iqn', links: expect.any(Array) });
    expect((await h.call('GET', '/v1/volume/connectors?fields=type&detail=True')).status).toBe(400);
    expect((await h.call('GET', '/v1/volume/connectors?node=nope')).status).toBe(404);
    expect((await h.call('GET', `/v1/volume/connectors/${r.body.uuid}`)).body.connector_id).toBe(iqn);

    const patched = await h.call('PATCH', `/v1/volume/connectors/${r.body.uuid}`, [{ op: 'replace', path: '/connector_id', value: `${iqn}-b` }, { op: 'remove', path: '/extra/a' }]);
    expect(patched.status, patched.raw).toBe(200);
    expect(patched.body).toMatchObject({ connector_id: `${iqn}-b`, extra: {} });
    const moved = await h.call('PATCH', `/v1/volume/connectors/${r.body.uuid}`, [{ op: 'replace', path: '/node_uuid', value: other.uuid }]);
    expect(moved.body.node_uuid).toBe(other.uuid);

    await powered(other, 'power on');
    const busy = await h.call('PATCH', `/v1/volume/connectors/${r.body.uuid}`, [{ op: 'replace', path: '/type', value: 'ip' }, { op: 'replace', path: '/connector_id', value: '192.0.2.7' }]);
    expect(busy.status).toBe(400);
    expect(fault(busy)).toBe(`The requested action "volume connector update" can not be performed on node "${other.uuid}" while it is in state "power on".`);
    const cannotDelete = await h.call('DELETE', `/v1/volume/connectors/${r.body.uuid}`);
    expect(fault(cannotDelete)).toContain('"volume connector deletion"');
    await powered(other, 'power off');
    expect((await h.call('DELETE', `/v1/volume/connectors/${r.body.uuid}`)).status).toBe(204);
    expect((await h.call('GET', `/v1/volume/connectors/${r.body.uuid}`)).status).toBe(404);
    expect((await h.call('DELETE', `/v1/volume/connectors/${wwpn.body.uuid}`)).status).toBe(204);
  });

  it('refuses bad connectors: unknown type, missing fields, unknown node, a (type, connector_id) taken', async () => {
    const body = { node_uuid: node.uuid, type: 'mac', connector_id: '52:54:00:12:34:56' };
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ ...body, type: 'nvme' }, 400, /type/],
      [{ node_uuid: node.uuid, type: 'iqn' }, 400, /connector_id/],
      [{ type: 'iqn', connector_id: 'iqn.x' }, 400, /node_uuid/],
      [{ ...body, node_uuid: '00000000-0000-4000-8000-000000000000' }, 400, /Node 00000000-0000-4000-8000-000000000000 could not be found/],
      [{ ...body, node_uuid: 'bfv-0' }, 400, /UUID/],
      [{ ...body, colour: 'red' }, 400, /colour/],
    ];
    for (const [b, status, message] of cases) {
      const r = await h.call('POST', '/v1/volume/connectors', b);
      expect(r.status, JSON.stringify(b)).toBe(status);
      expect(fault(r), JSON.stringify(b)).toMatch(message);
    }
    const first = await h.call('POST', '/v1/volume/connectors', body);
    expect(first.status).toBe(201);
    const again = await h.call('POST', '/v1/volume/connectors', { ...body, node_uuid: other.uuid });
    expect(again.status).toBe(409);
    expect(fault(again)).toBe('A volume connector with type mac and connector ID 52:54:00:12:34:56 already exists.');
    expect((await h.call('GET', '/v1/volume/connectors/not-a-uuid')).status).toBe(400);
    await h.call('DELETE', `/v1/volume/connectors/${first.body.uuid}`);
  });

  it('creates targets with one boot_index per node, masks CHAP secrets and keeps them through a patch', async () => {
    const properties = { target_iqn: 'iqn.2026-12.org.anvil:boot', target_portal: '192.0.2.20:3260', target_lun: 0, auth_method: 'CHAP', auth_username: 'u', auth_password: 'chap-secret' };
    const t = await h.call('POST', '/v1/volume/targets', { node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-boot', properties });
    expect(t.status, t.raw).toBe(201);
    expect(t.body).toMatchObject({ node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-boot', properties: { ...properties, auth_password: '******' } });
    const dup = await h.call('POST', '/v1/volume/targets', { node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-2' });
    expect(dup.status).toBe(409);
    expect(fault(dup)).toBe("A volume target with boot index '0' for the same node already exists.");
    expect((await h.call('POST', '/v1/volume/targets', { node_uuid: other.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-3' })).status).toBe(201);
    const data = await h.call('POST', '/v1/volume/targets', { node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 1, volume_id: 'vol-data' });
    expect(data.status).toBe(201);
    for (const bad of [{ node_uuid: node.uuid, volume_type: 'iscsi', boot_index: -1, volume_id: 'v' }, { node_uuid: node.uuid, volume_type: 'iscsi', volume_id: 'v' }, { node_uuid: node.uuid, boot_index: 3, volume_id: 'v' }]) {
      expect((await h.call('POST', '/v1/volume/targets', bad)).status, JSON.stringify(bad)).toBe(400);
    }

    const list = await h.call('GET', `/v1/nodes/${node.uuid}/volume/targets?sort_key=boot_index`);
    expect(list.body.targets).toEqual([
      { uuid: t.body.uuid, node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-boot', links: expect.any(Array) },
      { uuid: data.body.uuid, node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 1, volume_id: 'vol-data', links: expect.any(Array) },
    ]);
    const clash = await h.call('PATCH', `/v1/volume/targets/${data.body.uuid}`, [{ op: 'replace', path: '/boot_index', value: 0 }]);
    expect(clash.status).toBe(409);
    const patched = await h.call('PATCH', `/v1/volume/targets/${t.body.uuid}`, [{ op: 'replace', path: '/properties/target_lun', value: 1 }]);
    expect(patched.status, patched.raw).toBe(200);
    expect(patched.body.properties).toEqual({ ...properties, target_lun: 1, auth_password: '******' });
    const row = await h.t.db.knex('volume_targets').where({ uuid: t.body.uuid }).first();
    expect(JSON.parse(row.properties).auth_password).toBe('chap-secret');

    // A node's volumes go with it.
    const gone = await createNode(h, { name: 'bfv-gone' });
    expect((await h.call('POST', '/v1/volume/targets', { node_uuid: gone.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'v' })).status).toBe(201);
    expect((await h.call('DELETE', `/v1/nodes/${gone.uuid}`)).status).toBe(204);
    expect((await h.call('GET', '/v1/volume/targets?detail=True')).body.targets.map((x: { volume_id: string }) => x.volume_id).sort()).toEqual(['vol-3', 'vol-boot', 'vol-data']);
  });

  it('is not there below 1.32', async () => {
    for (const path of ['/v1/volume', '/v1/volume/connectors', '/v1/volume/targets', `/v1/nodes/${node.uuid}/volume/targets`]) {
      expect((await h.call('GET', path, undefined, '1.31')).status, path).toBe(404);
    }
    expect((await h.call('POST', '/v1/volume/connectors', { node_uuid: node.uuid, type: 'iqn', connector_id: 'iqn.old' }, '1.31')).status).toBe(404);
    expect((await h.call('GET', '/v1', undefined, '1.31')).body.volume).toBeUndefined();
  });
});
