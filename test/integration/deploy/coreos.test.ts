// OpenShift's custom deploy: deploy_interface=custom-agent with the deploy step install_coreos, the
// agent's built-in plugin. A CoreOS-layout image (GPT, boot as ext4 labelled boot, root) is written
// to the simulated machine's disk and the Ignition config of the config drive's user_data ends in
// ignition/config.ign on the boot file system, read back with debugfs. Bad input fails the deploy
// with a last_error naming the step.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugfsCat, debugfsMode, makeCoreosImage, type CoreosImage } from '../../helpers/coreos-image.ts';
import { untilState } from '../conductor/helpers.ts';
import { startAgentHarness, type AgentHarness } from './agent-harness.ts';

let h: AgentHarness;
let image: CoreosImage;
let noBoot: CoreosImage;

const IGNITION = JSON.stringify({ ignition: { version: '3.4.0' }, passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAAC3Nza anvil-test'] }] } });
const INSTALL_COREOS = [{ interface: 'deploy', step: 'install_coreos', args: {}, priority: 80 }];

beforeAll(async () => {
  h = await startAgentHarness('sqlite', 'coreos');
  image = await makeCoreosImage(path.join(h.dir, 'images'));
  noBoot = await makeCoreosImage(path.join(h.dir, 'images'), { withoutBoot: true });
});
afterAll(() => h?.close());

/** An available custom-agent node whose instance_info names `img`. */
async function coreosNode(name: string, img: CoreosImage = image) {
  const n = await h.availableNode(name, { deploy_interface: 'custom-agent' });
  await h.setInstanceInfo(n.uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2' });
  return n;
}

/** `size` bytes at `offset` of two raw files are the same. */
async function sameBytes(a: string, b: string, offset: number, size: number): Promise<boolean> {
  const view = (file: string) => `json:{"driver":"raw","offset":${offset},"size":${size},"file":{"driver":"file","filename":"${file}"}}`;
  return (await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', view(a), view(b)], { reject: false })).stdout.includes('Images are identical');
}

describe('custom-agent deploy with install_coreos', () => {
  it('writes the CoreOS image and puts the Ignition config in ignition/config.ign of the boot file system', async () => {
    const { id, uuid, machine } = await coreosNode('coreos-0');
    await h.provision(uuid, 'active', { configdrive: { meta_data: { hostname: 'coreos-0' }, user_data: IGNITION }, deploy_steps: INSTALL_COREOS });
    const node = await untilState(h.t.db, id, 'active', 60_000);
    expect(node.last_error).toBeNull();
    expect(node.power_state).toBe('power on');
    expect(await h.events(id)).toContain('Deploy steps: install_coreos(80), prepare_instance_boot(60), tear_down_agent(40), switch_to_tenant_network(30), boot_instance(20)');

    const disk = h.rack.agents.diskPath(machine);
    // The image as written, but for the boot partition, which gained the Ignition config.
    expect(await sameBytes(image.raw, disk, 0, image.boot!.offset)).toBe(true);
    expect(await sameBytes(image.raw, disk, image.root.offset, image.root.size)).toBe(true);
    const table = JSON.parse((await execa('sfdisk', ['-J', disk])).stdout).partitiontable;
    expect(table.partitions.map((p: { name: string }) => p.name)).toEqual(['BIOS-BOOT', 'EFI-SYSTEM', 'boot', 'root']);
    expect(await debugfsCat(disk, image.root.offset, 'etc/os-release')).toBe(image.osRelease.trimEnd());
    expect(await debugfsCat(disk, image.boot!.offset, 'loader/entries/ostree-1.conf')).toContain('title Fedora CoreOS');
    expect(await debugfsCat(disk, image.boot!.offset, 'ignition/config.ign')).toBe(IGNITION);
    // As coreos-installer leaves them: the directory 0700, the file 0600, both root's.
    expect(await debugfsMode(disk, image.boot!.offset, 'ignition')).toEqual({ mode: '0700', uid: 0, gid: 0 });
    expect(await debugfsMode(disk, image.boot!.offset, 'ignition/config.ign')).toEqual({ mode: '0600', uid: 0, gid: 0 });
    const fsck = await execa('e2fsck', ['-fn', `${disk}?offset=${image.boot!.offset}`], { reject: false });
    expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);

    await h.provision(uuid, 'deleted');
    await untilState(h.t.db, id, 'available', 30_000);
  });

  it.each([
    ['no config drive', undefined, /Error performing deploy_step install_coreos: No Ignition config: the node's config drive has no user_data/],
    ['user data that is not JSON', { user_data: '#cloud-config\nhostname: x\n' }, /Error performing deploy_step install_coreos: The config drive's user_data is not an Ignition config: it is not JSON/],
    ['JSON user data without ignition.version', { user_data: '{"passwd": {}}' }, /Error performing deploy_step install_coreos: The config drive's user_data is not an Ignition config: it has no ignition\.version/],
  ])('fails the deploy on %s, naming the step, with the disk untouched', async (what, configdrive, error) => {
    const { id, uuid, machine } = await coreosNode(`coreos-bad-${what.replace(/\W+/g, '-')}`);
    await h.provision(uuid, 'active', { ...(configdrive ? { configdrive } : {}), deploy_steps: INSTALL_COREOS });
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/^Deploy failed: Agent returned error for deploy step \{"interface":"deploy","step":"install_coreos","priority":80\} on node /);
    expect(node.last_error).toMatch(error);
    expect((await execa('sfdisk', ['-J', h.rack.agents.diskPath(machine)], { reject: false })).stdout).toBe('');
  });

  it('fails the deploy of an image without a boot partition, naming the step', async () => {
    const { id, uuid } = await coreosNode('coreos-noboot', noBoot);
    await h.provision(uuid, 'active', { configdrive: { user_data: IGNITION }, deploy_steps: INSTALL_COREOS });
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/Error performing deploy_step install_coreos: The image written to \/dev\/sda has no partition labelled "boot": it is not a CoreOS disk image$/);
  });

  it('fails the deploy without instance_info.image_source, naming the step', async () => {
    const { id, uuid } = await h.availableNode('coreos-noimage', { deploy_interface: 'custom-agent' });
    await h.provision(uuid, 'active', { configdrive: { user_data: IGNITION }, deploy_steps: INSTALL_COREOS });
    const node = await untilState(h.t.db, id, 'deploy failed', 30_000);
    expect(node.last_error).toMatch(/Error performing deploy_step install_coreos: No image: instance_info\.image_source \(the CoreOS disk image\) is not set$/);
  });
});
