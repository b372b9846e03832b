// Boot from volume, for real: Debian's tgt (the userspace iSCSI target daemon) serves the e2e OS
// image (support/os-image.ts) as a LUN in the provisioning namespace, with CHAP and an ACL that
// lets in only the node's initiator name. The QEMU machine is enrolled with the `external` storage
// interface, an `iqn` volume connector and an iSCSI volume target of boot_index 0; its deploy boots
// no ramdisk and writes nothing to its disk: the machine DHCPs through the relay, iPXE fetches its
// sanboot script from the netboot role, logs in to the target and boots the OS from the LUN, whose
// report appears on the serial console. The undeploy powers it off and takes the volume target
// away. The network, Anvil and the BMC are the rig of support/rig.ts.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOsImage } from './support/os-image.ts';
import { readSectors, SERVER, startQemuRig, type QemuRig } from './support/rig.ts';

const TARGET_IQN = 'iqn.2026-12.org.anvil.e2e:os-volume';
const INITIATOR_IQN = 'iqn.2026-12.org.anvil.e2e:node-bfv';
const CHAP_USER = 'bfv-e2e';
const CHAP_SECRET = 'Chap-Secret-e2e-4711';
/** tgtd's control socket (/var/run/tgtd/socket.N, N below 32768): one of this run's own. */
const TGT_CONTROL = String(1_000 + (process.pid % 30_000));

let rig: QemuRig;
let nodeUuid: string;
let lun: string;

const tgtadm = (...args: string[]) => execa('tgtadm', ['-C', TGT_CONTROL, '--lld', 'iscsi', ...args]);

beforeAll(async () => {
  rig = await startQemuRig({ name: 'bfv', diskBytes: 1024 ** 3 });
  const os = await rig.timed('build the instance OS image (cached after the first run)', () => buildOsImage());
  // tgt serves files as they are: the LUN is the image's raw form.
  lun = join(rig.dir, 'os-volume.raw');
  await execa('qemu-img', ['convert', '-O', 'raw', os.qcow2, lun]);
  await rig.timed('tgt iSCSI target', async () => {
    await rig.startIn('prov', 'tgtd', ['tgtd', '-f', '-C', TGT_CONTROL, '--iscsi', `portal=${SERVER}:3260`], 'signalfd');
    await tgtadm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', TARGET_IQN);
    await tgtadm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', lun);
    // Only the node's initiator name may log in, and only with the CHAP secret.
    await tgtadm('--op', 'bind', '--mode', 'target', '--tid', '1', '--initiator-name', INITIATOR_IQN);
    await tgtadm('--op', 'new', '--mode', 'account', '--user', CHAP_USER, '--password', CHAP_SECRET);
    await tgtadm('--op', 'bind', '--mode', 'account', '--tid', '1', '--user', CHAP_USER);
  });
}, 900_000);

afterAll(async () => {
  await rig?.close();
  await rm(`/var/run/tgtd/socket.${TGT_CONTROL}`, { force: true });
  await rm(`/var/run/tgtd/socket.${TGT_CONTROL}.lock`, { force: true });
}, 60_000);

/** Waits for `line` on the serial console after `from` (its length before); returns what came since. */
async function consoleUntil(from: number, line: string, limitSec: number): Promise<string> {
  const deadline = Date.now() + limitSec * 1000;
  for (;;) {
    const since = (await readFile(rig.machine.consoleLog, 'latin1')).slice(from);
    if (since.includes(line)) return since;
    if (Date.now() > deadline) throw new Error(`no "${line}" on the serial console after ${limitSec} s:\n${await rig.diagnostics()}\n--- tgtd ---\n${rig.output.tgtd?.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('a QEMU machine booting its OS from an iSCSI volume', () => {
  it('enrolls the machine with the external storage interface, its initiator and its boot volume', async () => {
    nodeUuid = await rig.enroll({ storage_interface: 'external', automated_clean: false });
    const connector = await rig.api.post('/v1/volume/connectors', { node_uuid: nodeUuid, type: 'iqn', connector_id: INITIATOR_IQN });
    expect(connector.status, JSON.stringify(connector.data)).toBe(201);
    const target = await rig.api.post('/v1/volume/targets', {
      node_uuid: nodeUuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'os-volume',
      properties: { target_iqn: TARGET_IQN, target_portal: `${SERVER}:3260`, target_lun: 1, auth_method: 'CHAP', auth_username: CHAP_USER, auth_password: CHAP_SECRET },
    });
    expect(target.status, JSON.stringify(target.data)).toBe(201);
    expect(JSON.stringify(target.data)).not.toContain(CHAP_SECRET);
    const validation = (await rig.api.get(`/v1/nodes/${nodeUuid}/validate`)).data;
    expect(validation.storage).toEqual({ result: true, reason: null });
    expect(validation.deploy).toEqual({ result: true, reason: null });
    await rig.provision(nodeUuid, 'provide');
    await rig.waitForState(nodeUuid, 'available', 60);
  }, 180_000);

  it('deploys it with no ramdisk and no image: iPXE logs in to the target and boots the OS on the LUN', async () => {
    const from = (await readFile(rig.machine.consoleLog, 'latin1').catch(() => '')).length;
    const node = await rig.timed('deploy (boot from volume)', async () => {
      await rig.provision(nodeUuid, 'active');
      return rig.waitForState(nodeUuid, 'active', 120);
    });
    expect(node.last_error).toBeNull();
    const since = await rig.timed('iPXE sanboot to the OS report', () => consoleUntil(from, 'anvil-os: first boot done', 300));
    expect(since).toContain('anvil-os: kernel');
    // Booted from the LUN, not by the agent: no ramdisk started, nothing written to the machine's own disk.
    expect(since).not.toContain('starting the agent');
    expect((await readSectors(rig.disk, 0, 2048)).every((b) => b === 0)).toBe(true);
    // tgt saw the node's initiator name (the ACL let it in) log in.
    const shown = (await tgtadm('--op', 'show', '--mode', 'target')).stdout;
    expect(shown).toContain(`Initiator: ${INITIATOR_IQN}`);
    expect(rig.output.anvil ?? '').not.toContain(CHAP_SECRET);
  }, 600_000);

  it('undeploys it: powered off, its volume target gone with the instance', async () => {
    await rig.provision(nodeUuid, 'deleted');
    await rig.waitForState(nodeUuid, 'available', 120);
    for (let i = 0; i < 60 && (await rig.machine.powerState()) !== 'off'; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await rig.machine.powerState()).toBe('off');
    expect((await rig.api.get(`/v1/nodes/${nodeUuid}/volume/targets`)).data.targets).toEqual([]);
  }, 180_000);
});
