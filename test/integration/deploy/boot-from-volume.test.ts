// Boot from volume with the `external` storage interface, through the API and a conductor: validate
// refuses a node without a boot target or an iSCSI connector (Ironic's messages), a deploy that
// would fail says why in last_error, a deploy with an iSCSI target of boot_index 0 and an `iqn`
// connector boots no ramdisk and writes no image, the netboot role's HTTP server serves the node
// the iPXE sanboot script (initiator, CHAP, the target's URI), the CHAP secret appears nowhere
// else, and the undeploy withdraws the boot record and deletes the targets, as Ironic's tear-down
// does. On SQLite and PostgreSQL. The real iSCSI boot (tgt, iPXE, QEMU) is test/e2e/qemu-boot-from-volume.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { bootRecordOf } from '../../../db/boot-records.ts';
import { findNode, updateNode } from '../../../db/nodes.ts';
import { historyOfNode } from '../../../db/history.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { startHttpBootServer, type HttpBootServer } from '../../../services/netboot/http/server.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { netbootConfig } from '../../unit/netboot/config-fixture.ts';
import { createNode, startHarness, type ApiHarness } from '../api/harness.ts';

const MAC = '52:54:00:bf:00:01';
const CHAP_SECRET = 'bfv-chap-Secret-4711';
const TARGET_IQN = 'iqn.2026-12.org.example:storage.lun7';
const INITIATOR = 'iqn.2026-12.org.anvil:node-bfv';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

describe.each(BACKENDS)('boot from volume (external storage) on %s', (backend) => {
  let h: ApiHarness;
  let conductor: Conductor;
  let netboot: HttpBootServer;
  let node: { uuid: string; id: number };
  let httpRoot: string;

  beforeAll(async () => {
    h = await startHarness(backend, { taskTimeoutMs: 60_000, conductorRow: false });
    conductor = new Conductor({ db: h.t.db, config: h.config, logger: silentLogger });
    await conductor.start();
    httpRoot = await mkdtemp(join(tmpdir(), 'anvil-bfv-'));
    netboot = await startHttpBootServer({ host: '127.0.0.1', port: 0, root: httpRoot, targets: databaseTargets(h.t.db.knex, netbootConfig()), logger: silentLogger });
    const created = await createNode(h, {
      name: `bfv-${backend}`, boot_interface: 'ipxe', deploy_interface: 'direct', storage_interface: 'external', automated_clean: false,
    });
    node = (await findNode(h.t.db.knex, created.uuid))!;
    expect((await h.call('POST', '/v1/ports', { node_uuid: node.uuid, address: MAC, pxe_enabled: true })).status).toBe(201);
    await move('manage', 'manageable');
    await move('provide', 'available');
  }, 60_000);
  afterAll(async () => {
    await conductor?.stop();
    await netboot?.close();
    await h?.close();
    if (httpRoot) await rm(httpRoot, { recursive: true, force: true });
  });

  async function until(state: string): Promise<Record<string, any>> {
    for (let i = 0; i < 600; i++) {
      const n = (await h.call('GET', `/v1/nodes/${node.uuid}`)).body;
      // A failure state keeps its target (Ironic's deploy failed still aims at active).
      if (n.provision_state === state && (n.target_provision_state === null || state.endsWith('failed')) && n.reservation === null) return n;
      if (/failed$/.test(n.provision_state) && !state.endsWith('failed')) throw new Error(`node went to ${n.provision_state}: ${n.last_error}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`node never reached ${state}`);
  }
  async function move(target: string, state: string, body: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const r = await h.call('PUT', `/v1/nodes/${node.uuid}/states/provision`, { target, ...body });
    expect(r.status, r.raw).toBe(202);
    return until(state);
  }
  const validation = async () => (await h.call('GET', `/v1/nodes/${node.uuid}/validate`)).body;
  const prefix = () => `Failed to validate external storage interface for node ${node.uuid}.`;

  it('validate refuses the node without a boot target, then without an iSCSI connector, in Ironic\'s words', async () => {
    let v = await validation();
    expect(v.storage).toEqual({ result: false, reason: `${prefix()} No volume target with boot_index 0 is configured for the node: it is the volume the node boots.` });

    const target = await h.call('POST', '/v1/volume/targets', {
      node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-bfv-0',
      properties: { target_iqn: TARGET_IQN, target_portal: '192.0.2.20:3260', target_lun: 7, auth_method: 'CHAP', auth_username: 'bfv-user', auth_password: CHAP_SECRET },
    }, '1.32');
    expect(target.status, target.raw).toBe(201);
    expect(target.body.properties.auth_password).toBe('******');
    v = await validation();
    const target0 = target.body.uuid as string;
    expect(v.storage).toEqual({ result: false, reason: `${prefix()} Volume target ${target0} is configured for 'iscsi', however no iSCSI connectors are configured for the node.` });
    // A node that boots a volume writes no image: the deploy interface asks for none.
    expect(v.deploy).toEqual({ result: true, reason: null });
  });

  it('a deploy the storage interface refuses fails with that reason in last_error, before anything is powered or booted', async () => {
    const failed = await move('active', 'deploy failed');
    expect(failed.last_error).toContain('however no iSCSI connectors are configured for the node');
    expect(await bootRecordOf(h.t.db.knex, MAC)).toBeUndefined();
    await move('deleted', 'available');
  });

  it('deploys by booting the iSCSI volume: no ramdisk, no image, the boot record a sanboot the netboot role renders', async () => {
    // The undeploy of the failed deploy deleted the targets, as Ironic does: the volume is described again.
    expect((await h.call('GET', `/v1/nodes/${node.uuid}/volume/targets`, undefined, '1.32')).body.targets).toEqual([]);
    const target = await h.call('POST', '/v1/volume/targets', {
      node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-bfv-0',
      properties: { target_iqn: TARGET_IQN, target_portal: '192.0.2.20:3260', target_lun: 7, auth_method: 'CHAP', auth_username: 'bfv-user', auth_password: CHAP_SECRET },
    }, '1.32');
    expect(target.status, target.raw).toBe(201);
    expect((await h.call('POST', '/v1/volume/connectors', { node_uuid: node.uuid, type: 'iqn', connector_id: INITIATOR }, '1.32')).status).toBe(201);
    const v = await validation();
    expect(v.storage).toEqual({ result: true, reason: null });

    const active = await move('active', 'active');
    expect(active.last_error).toBeNull();
    // No agent was booted: no agent token, no deploy steps planned; the boot device is the network, for good.
    expect(active.driver_internal_info).toMatchObject({ fake_boot_device: 'pxe', fake_boot_persistent: true });
    expect(active.driver_internal_info).not.toHaveProperty('agent_secret_token');
    expect(active.driver_internal_info).not.toHaveProperty('deploy_steps');
    expect(active.power_state).toBe('power on');
    const history = (await historyOfNode(h.t.db.knex, node.id)).map((e) => e.event);
    expect(history).toContain(`Booting the instance from volume target ${target.body.uuid} (iSCSI ${TARGET_IQN}, LUN 7, initiator ${INITIATOR}); no image was written`);
    expect(history.some((e) => /ramdisk/i.test(e))).toBe(false);

    const record = await bootRecordOf(h.t.db.knex, MAC);
    expect(record).toMatchObject({ kind: 'san', sanUrls: [`iscsi:192.0.2.20::3260:7:${TARGET_IQN}`], initiatorIqn: INITIATOR, volumeTarget: target.body.uuid });
    const script = await get(netboot.port, `/boot/${MAC}.ipxe`);
    expect(script.status).toBe(200);
    expect(script.body).toBe([
      '#!ipxe',
      `# Anvil boot from volume for node ${node.uuid}: volume target ${target.body.uuid}`,
      ':start',
      `set initiator-iqn ${INITIATOR}`,
      'set username bfv-user',
      `set password ${CHAP_SECRET}`,
      `sanboot iscsi:192.0.2.20::3260:7:${TARGET_IQN} || goto retry`,
      ':retry',
      'echo Booting the iSCSI volume failed, retrying in 10 seconds',
      'sleep 10',
      'goto start',
      '',
    ].join('\n'));
    // pxelinux and GRUB cannot sanboot: the loaders get no config of this node.
    expect((await get(netboot.port, `/pxelinux.cfg/01-${MAC.replace(/:/g, '-')}`)).status).toBe(404);

    // The secret is in the node's boot script only: not in the node, its volumes or its history as the API shows them.
    const shown = [
      (await h.call('GET', `/v1/nodes/${node.uuid}`)).raw,
      (await h.call('GET', `/v1/nodes/${node.uuid}/volume/targets?detail=True`, undefined, '1.32')).raw,
      (await h.call('GET', `/v1/nodes/${node.uuid}/history?detail=True`, undefined, '1.78')).raw,
    ];
    for (const body of shown) expect(body).not.toContain(CHAP_SECRET);
  });

  it('undeploys: the boot record is withdrawn, the script gone, the volume targets deleted, the connector kept', async () => {
    await updateNode(h.t.db.knex, node.id, { power_state: 'power on' });
    const available = await move('deleted', 'available');
    expect(available.power_state).toBe('power off');
    expect(await bootRecordOf(h.t.db.knex, MAC)).toBeUndefined();
    expect((await get(netboot.port, `/boot/${MAC}.ipxe`)).status).toBe(404);
    expect((await h.call('GET', `/v1/nodes/${node.uuid}/volume/targets`, undefined, '1.32')).body.targets).toEqual([]);
    expect((await h.call('GET', `/v1/nodes/${node.uuid}/volume/connectors`, undefined, '1.32')).body.connectors).toHaveLength(1);
  });

  it('refuses an image to write onto the boot volume, and a boot interface that is not ipxe', async () => {
    const target = await h.call('POST', '/v1/volume/targets', {
      node_uuid: node.uuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'vol-bfv-1', properties: { target_iqn: TARGET_IQN, target_portal: '192.0.2.20', target_lun: 0 },
    }, '1.32');
    expect(target.status, target.raw).toBe(201);
    const patched = await h.call('PATCH', `/v1/nodes/${node.uuid}`, [{ op: 'add', path: '/instance_info/image_source', value: 'http://192.0.2.30/os.qcow2' }]);
    expect(patched.status, patched.raw).toBe(200);
    expect((await validation()).storage.reason).toBe(`${prefix()} instance_info.image_source is set, but the node boots its volume target ${target.body.uuid}: Anvil writes no image onto a volume (unset image_source to boot the volume as it is).`);
    await h.call('PATCH', `/v1/nodes/${node.uuid}`, [{ op: 'remove', path: '/instance_info/image_source' }, { op: 'replace', path: '/boot_interface', value: 'pxe' }]);
    expect((await validation()).storage.reason).toBe(`${prefix()} The boot interface must be set to \`\`ipxe\`\` to support network booting to an iSCSI volume; it is "pxe".`);
    const deploy = await h.call('PUT', `/v1/nodes/${node.uuid}/states/provision`, { target: 'active' });
    expect(deploy.status).toBe(202);
    const failed = await until('deploy failed');
    expect(failed.last_error).toContain('The boot interface must be set to ``ipxe``');
  });
});
