// redfish-virtual-media without driver_info.deploy_iso: the node gets its own ISO of the deploy
// kernel and ramdisk, with the agent's command line and its network_data (DHCP-less), served by
// the image server at a URL signed for the node; the BMC mounts it, clean-up deletes it. Failures
// (no kernel, a BMC that cannot be reached) leave no ISO and mount nothing.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_DATA_PATH } from '../../../drivers/in-band/boot-iso.ts';
import { stopImageServer } from '../../../drivers/in-band/image-source.ts';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { redfishContext } from './context.ts';

const NETWORK_DATA = {
  links: [{ id: 'eth0', type: 'phy', ethernet_mac_address: '52:54:00:aa:bb:01' }],
  networks: [{ id: 'v4', type: 'ipv4', link: 'eth0', ip_address: '192.0.2.10', netmask: '255.255.255.0', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.0.2.1' }] }],
  services: [{ type: 'dns', address: '192.0.2.53' }],
};

describe('redfish-virtual-media with a per-node ISO', () => {
  let sim: RedfishSimulator;
  let dir: string;
  const boot = getImplementation('boot', 'redfish-virtual-media');
  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 1, auth: { username: 'admin', password: 's3cret' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-node-iso-'));
    await writeFile(path.join(dir, 'deploy.kernel'), Buffer.alloc(32 * 1024, 7));
    await writeFile(path.join(dir, 'deploy.initramfs'), Buffer.alloc(64 * 1024, 8));
  });
  afterAll(async () => {
    await stopImageServer();
    await closeAllClients();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  function context(extraInfo: Record<string, unknown> = {}, address = sim.url) {
    const ctx = redfishContext('redfish', {
      redfish_address: address, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 's3cret', redfish_retry_interval: 0.05,
      kernel_append_params: 'console=ttyS0', ...extraInfo,
    }, { network_data: NETWORK_DATA } as never);
    ctx.config.images.cacheDir = path.join(dir, 'cache');
    ctx.config.netboot = { serverAddress: '192.0.2.1', apiUrl: 'http://192.0.2.1:6385', kernelAppend: 'ipa-debug=1', http: { root: dir } };
    Object.assign(ctx, { ports: [{ id: 1, address: '52:54:00:aa:bb:01', pxe_enabled: true }] });
    return ctx;
  }

  it('builds, serves (signed, for this node only) and mounts the ISO; clean-up ejects and deletes it', async () => {
    const ctx = context();
    boot.validate(ctx.node, ctx.ports);
    await boot.prepareRamdisk(ctx, 'inspect');
    const media = sim.machines[0].getVirtualMedia();
    expect(media.inserted).toBe(true);
    const url = new URL(media.image!);
    expect(url.searchParams.get('node')).toBe(ctx.node.uuid);
    expect(url.searchParams.get('temp_url_sig')).toMatch(/^[\w-]{43}$/);
    expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'cdrom', persistent: false });
    const internal = ctx.node.driver_internal_info.boot as Record<string, string>;
    expect(internal).toMatchObject({ purpose: 'inspect', via: 'virtual-media' });
    expect(internal.image).not.toContain('temp_url_sig');

    const got = await fetch(url);
    expect(got.status).toBe(200);
    const iso = path.join(dir, 'fetched.iso');
    await writeFile(iso, Buffer.from(await got.arrayBuffer()));
    const extract = async (name: string) => (await execa('isoinfo', ['-J', '-i', iso, '-x', name])).stdout;
    const cfg = await extract('/isolinux/isolinux.cfg');
    expect(cfg).toContain(`append initrd=/anvil/initrd ipa-api-url=http://192.0.2.1:6385 ipa-node-uuid=${ctx.node.uuid} BOOTIF=52:54:00:aa:bb:01 ipa-inspection-callback-url=http://192.0.2.1:6385/v1/continue_inspection ipa-collect-lldp=1 anvil.static_network ipa-debug=1 console=ttyS0`);
    expect(JSON.parse(await extract(`/${NETWORK_DATA_PATH}`))).toEqual(NETWORK_DATA);
    // The signature covers the node: another node's name, or none, is refused.
    const other = new URL(url);
    other.searchParams.set('node', 'someone-else');
    expect((await fetch(other)).status).toBe(403);
    expect((await fetch(`${url.origin}${url.pathname}`)).status).toBe(403);

    // Preparing again with the same content finds the ISO in the cache.
    await boot.prepareRamdisk(ctx, 'inspect');
    expect(sim.machines[0].getVirtualMedia().image).toContain(url.pathname);
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([url.pathname.slice(1)]);

    await boot.cleanUpRamdisk(ctx);
    expect(sim.machines[0].getVirtualMedia()).toEqual({ image: null, inserted: false });
    expect(ctx.node.driver_internal_info.boot).toBeUndefined();
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([]);
    expect((await fetch(url)).status).toBe(404);
  });

  it('without network_data the ISO has none (the ramdisk asks DHCP)', async () => {
    const ctx = context();
    ctx.node.network_data = {};
    await boot.prepareRamdisk(ctx, 'deploy');
    const iso = path.join(dir, 'plain.iso');
    await writeFile(iso, Buffer.from(await (await fetch(sim.machines[0].getVirtualMedia().image!)).arrayBuffer()));
    expect((await execa('isoinfo', ['-J', '-f', '-i', iso])).stdout).not.toContain('network_data');
    await boot.cleanUpRamdisk(ctx);
  });

  it('a missing deploy kernel fails with a clear error, mounting nothing and leaving no ISO', async () => {
    const ctx = context({ deploy_kernel: 'no-such.kernel' });
    await expect(boot.prepareRamdisk(ctx, 'deploy')).rejects.toThrow(`Cannot build the boot ISO: cannot read ${path.join(dir, 'no-such.kernel')}: ENOENT`);
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
    expect(existsSync(ctx.config.images.cacheDir) ? await readdir(ctx.config.images.cacheDir) : []).toEqual([]);
    expect(ctx.node.driver_internal_info.boot).toBeUndefined();
  });

  it('a conductor without a usable netboot section says so', async () => {
    const ctx = context();
    ctx.config.netboot = { http: { root: dir } };
    await expect(boot.prepareRamdisk(ctx, 'deploy')).rejects.toThrow(`Cannot build the boot ISO of node ${ctx.node.uuid}: the conductor's netboot configuration (apiUrl, deployKernel, http.root) is unusable: netboot.serverAddress`);
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
  });

  it('an unreachable BMC fails the boot and the built ISO is deleted again', async () => {
    const ctx = context({}, 'http://127.0.0.1:9');
    await expect(boot.prepareRamdisk(ctx, 'deploy')).rejects.toThrow(/127\.0\.0\.1:9/);
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([]);
  });

  it('refuses network_data that does not validate before touching the BMC', async () => {
    const ctx = context();
    ctx.node.network_data = { networks: [{ id: 'x', type: 'ipv4', link: 'nowhere', ip_address: '192.0.2.9/24' }] };
    expect(() => boot.validate(ctx.node, ctx.ports)).toThrow(`Invalid network_data of node ${ctx.node.uuid}: /networks/0 (x) is on link nowhere, which is not among the links`);
    await expect(boot.prepareRamdisk(ctx, 'deploy')).rejects.toThrow('is on link nowhere');
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
  });

  it('redfish-https gives the BMC the node ISO as HttpBootUri and deletes it at clean-up', async () => {
    const https = getImplementation('boot', 'redfish-https');
    const ctx = context();
    https.validate(ctx.node, ctx.ports);
    await https.prepareRamdisk(ctx, 'deploy');
    const override = sim.machines[0].getBootOverride();
    expect(override).toMatchObject({ device: 'http', persistent: false });
    const uri = new URL(override.httpBootUri!);
    expect(uri.searchParams.get('node')).toBe(ctx.node.uuid);
    expect((await fetch(uri)).status).toBe(200);
    expect(ctx.node.driver_internal_info.boot).toMatchObject({ purpose: 'deploy', via: 'uefi-http', iso: uri.pathname.slice(1) });
    await https.cleanUpRamdisk(ctx);
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([]);
    expect(ctx.node.driver_internal_info.boot).toBeUndefined();
  });

  it('boots a ramdisk instance from instance_info kernel + ramdisk persistently and deletes its ISO at clean-up', async () => {
    const ctx = context();
    // The deploy ramdisk's ISO goes when the instance boots.
    await boot.prepareRamdisk(ctx, 'deploy');
    expect(await readdir(ctx.config.images.cacheDir)).toHaveLength(1);
    ctx.node.instance_info = { kernel: 'deploy.kernel', ramdisk: 'deploy.initramfs', kernel_append_params: 'root=/dev/ram0 live' };
    await boot.prepareInstance(ctx);
    expect(ctx.node.driver_internal_info.boot).toBeUndefined();
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([ctx.node.driver_internal_info.instance_iso]);
    const image = sim.machines[0].getVirtualMedia().image!;
    expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'cdrom', persistent: true });
    const iso = path.join(dir, 'instance.iso');
    await writeFile(iso, Buffer.from(await (await fetch(image)).arrayBuffer()));
    expect((await execa('isoinfo', ['-J', '-i', iso, '-x', '/isolinux/isolinux.cfg'])).stdout).toContain('append initrd=/anvil/initrd root=/dev/ram0 live');
    expect(ctx.node.driver_internal_info.instance_iso).toMatch(/^[0-9a-f]{40}$/);
    await boot.cleanUpInstance(ctx);
    expect(ctx.node.driver_internal_info.instance_iso).toBeUndefined();
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([]);
  });
});
