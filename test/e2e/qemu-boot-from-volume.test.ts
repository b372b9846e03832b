// Boot from volume, for real: Debian's tgt (the userspace iSCSI target daemon) serves the e2e OS
// image (support/os-image.ts) as a LUN in the provisioning namespace, with CHAP and an ACL that
// lets in only the node's initiator name. The QEMU machine is enrolled with the `external` storage
// interface, an `iqn` volume connector and an iSCSI volume target of boot_index 0 (first with a wrong
// CHAP secret, which tgt refuses: nothing boots); its deploy boots
// no ramdisk and writes nothing to its disk: the machine DHCPs through the relay, iPXE fetches its
// sanboot script from the netboot role, logs in to the target and boots the OS from the LUN, whose
// report appears on the serial console. The undeploy powers it off and takes the volume target
// away. Once on BIOS (SeaBIOS, the image's SYSLINUX), once on UEFI (OVMF, the image's GRUB on its
// ESP). The network, Anvil and the BMC are the rig of support/rig.ts.
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
const WRONG_SECRET = 'Not-the-Secret-0815';
/** tgtd's control socket (/var/run/tgtd/socket.N, N below 32768): one of this run's own, per case. */
const tgtControl = (firmware: Firmware) => String(1_000 + (process.pid % 15_000) * 2 + (firmware === 'uefi' ? 1 : 0));

type Firmware = 'bios' | 'uefi';

describe.each<Firmware>(['bios', 'uefi'])('a QEMU machine (%s) booting its OS from an iSCSI volume', (firmware) => {
  let rig: QemuRig;
  let nodeUuid: string;
  const control = tgtControl(firmware);
  const tgtadm = (...args: string[]) => execa('tgtadm', ['-C', control, '--lld', 'iscsi', ...args]);

  beforeAll(async () => {
    rig = await startQemuRig({ name: `bfv-${firmware}`, mac: firmware === 'uefi' ? '52:54:00:e2:e0:0b' : '52:54:00:e2:e0:0a', diskBytes: 1024 ** 3, machine: { firmware } });
    const os = await rig.timed('build the instance OS image (cached after the first run)', () => buildOsImage());
    // tgt serves files as they are: the LUN is the image's raw form.
    const lun = join(rig.dir, 'os-volume.raw');
    await execa('qemu-img', ['convert', '-O', 'raw', os.qcow2, lun]);
    await rig.timed('tgt iSCSI target', async () => {
      await rig.startIn('prov', 'tgtd', ['tgtd', '-f', '-C', control, '--iscsi', `portal=${SERVER}:3260`], 'signalfd');
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
    await rm(`/var/run/tgtd/socket.${control}`, { force: true });
    await rm(`/var/run/tgtd/socket.${control}.lock`, { force: true });
  }, 60_000);

  /** Describes the boot volume (the undeploy deletes it, as Ironic does), with `secret` as its CHAP secret. */
  async function addBootVolume(secret: string): Promise<void> {
    const target = await rig.api.post('/v1/volume/targets', {
      node_uuid: nodeUuid, volume_type: 'iscsi', boot_index: 0, volume_id: 'os-volume',
      properties: { target_iqn: TARGET_IQN, target_portal: `${SERVER}:3260`, target_lun: 1, auth_method: 'CHAP', auth_username: CHAP_USER, auth_password: secret },
    });
    expect(target.status, JSON.stringify(target.data)).toBe(201);
    expect(JSON.stringify(target.data)).not.toContain(secret);
  }

  it('enrolls the machine with the external storage interface, its initiator and its boot volume', async () => {
    nodeUuid = await rig.enroll({ storage_interface: 'external', automated_clean: false });
    const connector = await rig.api.post('/v1/volume/connectors', { node_uuid: nodeUuid, type: 'iqn', connector_id: INITIATOR_IQN });
    expect(connector.status, JSON.stringify(connector.data)).toBe(201);
    await addBootVolume(WRONG_SECRET);
    const validation = (await rig.api.get(`/v1/nodes/${nodeUuid}/validate`)).data;
    expect(validation.storage).toEqual({ result: true, reason: null });
    expect(validation.deploy).toEqual({ result: true, reason: null });
    await rig.provision(nodeUuid, 'provide');
    await rig.waitForState(nodeUuid, 'available', 60);
  }, 180_000);

  it('with a wrong CHAP secret the target refuses the login and nothing boots; the undeploy takes that volume away', async () => {
    const from = await rig.consoleLength();
    await rig.provision(nodeUuid, 'active');
    await rig.waitForState(nodeUuid, 'active', 120);
    // tgtd says so when iPXE's login fails: the secret iPXE sent is the volume target's.
    const refused = `authentication of ${INITIATOR_IQN} failed`;
    for (let i = 0; i < 300 && !(rig.output.tgtd ?? '').includes(refused); i++) await new Promise((r) => setTimeout(r, 1000));
    expect(rig.output.tgtd).toContain(refused);
    expect((await readFile(rig.machine.consoleLog, 'latin1')).slice(from)).not.toContain('anvil-os:');
    await rig.provision(nodeUuid, 'deleted');
    await rig.waitForState(nodeUuid, 'available', 120);
    expect((await rig.api.get(`/v1/nodes/${nodeUuid}/volume/targets`)).data.targets).toEqual([]);
  }, 420_000);

  it('deploys it with no ramdisk and no image: iPXE logs in to the target and boots the OS on the LUN', async () => {
    await addBootVolume(CHAP_SECRET);
    const from = await rig.consoleLength();
    const node = await rig.timed('deploy (boot from volume)', async () => {
      await rig.provision(nodeUuid, 'active');
      return rig.waitForState(nodeUuid, 'active', 120);
    });
    expect(node.last_error).toBeNull();
    const since = await rig.timed('iPXE sanboot to the OS report', () => rig.consoleUntil(from, 'anvil-os: first boot done', 300));
    // The image's own boot loader for this firmware, from the LUN.
    expect(since).toContain(firmware === 'bios' ? 'SYSLINUX' : 'Welcome to GRUB!');
    expect(since).toMatch(new RegExp(`anvil-os: firmware ${firmware}\\r?\\n`));
    // Booted from the LUN, not by the agent: no ramdisk started, nothing written to the machine's own disk.
    expect(since).not.toContain('starting the agent');
    expect((await readSectors(rig.disk, 0, 2048)).every((b) => b === 0)).toBe(true);
    // tgt let it in: its ACL names only the node's initiator and its account asks for the CHAP secret, so
    // the boot itself shows that iPXE logged in as the connector's IQN with the target's credentials.
    // (Whether the session is still up now depends on the firmware: UEFI's ends at ExitBootServices.)
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
