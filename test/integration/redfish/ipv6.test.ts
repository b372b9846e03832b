// A Redfish BMC that speaks only IPv6: the simulator listens on ::1 alone (HTTPS, its certificate for
// IP ::1), reached as redfish_address https://[::1]:PORT by Anvil's driver and by Debian's
// python3-sushy; the node's ISO (virtual media, UEFI HTTP boot) is handed to it at an IPv6 URL,
// images.publicHost6, and a conductor that cannot give it one says which setting is missing.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopImageServer } from '../../../drivers/in-band/image-source.ts';
import { getImplementation } from '../../../drivers/registry.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { parseRedfishInfo } from '../../../drivers/redfish/driver-info.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { redfishContext } from './context.ts';

const SUSHY = path.join(import.meta.dirname, 'sushy_client.py');

describe('a Redfish BMC on IPv6 only (::1)', () => {
  let sim: RedfishSimulator;
  let dir: string;
  let ca: string;
  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 1, tls: true, listen: { host: '::1' }, auth: { username: 'admin', password: 's3cret' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-redfish-v6-'));
    ca = path.join(dir, 'ca.pem');
    await writeFile(ca, sim.certificate!);
    await writeFile(path.join(dir, 'deploy.kernel'), Buffer.alloc(32 * 1024, 7));
    await writeFile(path.join(dir, 'deploy.initramfs'), Buffer.alloc(64 * 1024, 8));
  });
  afterAll(async () => {
    await stopImageServer();
    await closeAllClients();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A node on the simulator; `config` edits the conductor's configuration. */
  function context(address = `https://[::1]:${sim.port}`) {
    const ctx = redfishContext('redfish', {
      redfish_address: address, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 's3cret',
      redfish_verify_ca: ca, redfish_retry_interval: 0.05,
    });
    ctx.config.images.cacheDir = path.join(dir, 'cache');
    ctx.config.netboot = { serverAddress: '192.0.2.1', apiUrl: 'http://[2001:db8::1]:6385', http: { root: dir } };
    Object.assign(ctx, { ports: [{ id: 1, address: '52:54:00:aa:bb:01', pxe_enabled: true }] });
    return ctx;
  }

  it('listens on ::1 only: the simulator URL is bracketed and 127.0.0.1 is refused', async () => {
    expect(sim.url).toBe(`https://[::1]:${sim.port}`);
    await expect(fetch(`http://127.0.0.1:${sim.port}/redfish/v1`)).rejects.toThrow();
  });

  it('parses IPv6 BMC addresses: a bracketed URL, a bare literal (https, port 443) and a bracketed literal with a port', () => {
    expect(parseRedfishInfo(context().node).origin).toBe(`https://[::1]:${sim.port}`);
    expect(parseRedfishInfo(context('2001:db8::5').node).origin).toBe('https://[2001:db8::5]');
    expect(parseRedfishInfo(context('[2001:db8::5]:8443').node).origin).toBe('https://[2001:db8::5]:8443');
    expect(() => parseRedfishInfo(context('https://[2001:db8::5').node)).toThrow('Invalid Redfish address https://[2001:db8::5 set in driver_info/redfish_address');
  });

  it('drives power and the boot device through https://[::1]:PORT, checking the certificate', async () => {
    const ctx = context();
    await ctx.driver.power.setPowerState(ctx, 'power on', 10);
    expect(await ctx.driver.power.getPowerState(ctx)).toBe('power on');
    await ctx.driver.management.setBootDevice(ctx, 'pxe', false);
    expect((await ctx.driver.management.getBootDevice(ctx)).boot_device).toBe('pxe');
    await ctx.driver.power.setPowerState(ctx, 'power off', 10);
    expect(await sim.machines[0].powerState()).toBe('off');
  });

  it('python3-sushy reaches the same BMC at its bracketed URL', async () => {
    const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env;
    const run = await execa('/usr/bin/python3', [SUSHY, sim.url, 'admin', 's3cret', ca], { env, extendEnv: false, reject: false, timeout: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { systems: Array<Record<string, unknown>> };
    expect(out.systems).toHaveLength(1);
    expect(out.systems[0]).toMatchObject({ identity: sim.systemIds[0] });
  });

  it('a conductor whose image server listens on IPv4 only fails the virtual media boot naming api.host, mounting nothing and leaving no ISO', async () => {
    const ctx = context();
    await expect(getImplementation('boot', 'redfish-virtual-media').prepareRamdisk(ctx, 'deploy')).rejects.toThrow(
      `The BMC at https://[::1]:${sim.port} of node ${ctx.node.uuid} speaks IPv6, but the image server listens on api.host 127.0.0.1, an IPv4 address: set api.host to ::`,
    );
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
    expect(await readdir(ctx.config.images.cacheDir).catch(() => [])).toEqual([]);
  });

  it('an IPv4 public address without images.publicHost6 is refused the same way', async () => {
    await stopImageServer();
    const ctx = context();
    Object.assign(ctx.config.api, { host: '::', publicUrl: 'http://127.0.0.1:6385' });
    await expect(getImplementation('boot', 'redfish-virtual-media').prepareRamdisk(ctx, 'deploy')).rejects.toThrow(
      "speaks IPv6, but the image server's public address 127.0.0.1 is IPv4: set images.publicHost6 to this conductor's IPv6 address",
    );
    expect(sim.machines[0].getVirtualMedia().inserted).toBe(false);
  });

  it('virtual media and UEFI HTTP boot get the ISO at http://[images.publicHost6]:PORT, which the BMC can fetch', async () => {
    await stopImageServer();
    const ctx = context();
    Object.assign(ctx.config.api, { host: '::', publicUrl: 'http://127.0.0.1:6385' });
    ctx.config.images.publicHost6 = '::1';
    const vmedia = getImplementation('boot', 'redfish-virtual-media');
    await vmedia.prepareRamdisk(ctx, 'deploy');
    const image = new URL(sim.machines[0].getVirtualMedia().image!);
    expect(image.hostname).toBe('[::1]');
    const got = await fetch(image);
    expect(got.status).toBe(200);
    const iso = path.join(dir, 'v6.iso');
    await writeFile(iso, Buffer.from(await got.arrayBuffer()));
    // The agent inside is told the bracketed IPv6 API URL.
    expect((await execa('isoinfo', ['-J', '-i', iso, '-x', '/isolinux/isolinux.cfg'])).stdout).toContain(`ipa-api-url=http://[2001:db8::1]:6385 ipa-node-uuid=${ctx.node.uuid}`);
    await vmedia.cleanUpRamdisk(ctx);

    const https = getImplementation('boot', 'redfish-https');
    await https.prepareRamdisk(ctx, 'deploy');
    const uri = new URL(sim.machines[0].getBootOverride().httpBootUri!);
    expect(uri.hostname).toBe('[::1]');
    expect((await fetch(uri)).status).toBe(200);
    await https.cleanUpRamdisk(ctx);
    expect(await readdir(ctx.config.images.cacheDir)).toEqual([]);
  });

  it('an IPv4 BMC of the same conductor still gets the IPv4 URL', async () => {
    const v4 = await startRedfishSimulator({ systems: 1, auth: { username: 'admin', password: 's3cret' } });
    try {
      const ctx = context(v4.url);
      ctx.node.driver_info.redfish_system_id = v4.systemIds[0];
      Object.assign(ctx.config.api, { host: '::', publicUrl: 'http://127.0.0.1:6385' });
      ctx.config.images.publicHost6 = '::1';
      const vmedia = getImplementation('boot', 'redfish-virtual-media');
      await vmedia.prepareRamdisk(ctx, 'deploy');
      const image = new URL(v4.machines[0].getVirtualMedia().image!);
      expect(image.hostname).toBe('127.0.0.1');
      expect((await fetch(image)).status).toBe(200);
      await vmedia.cleanUpRamdisk(ctx);
    } finally {
      await v4.close();
    }
  });
});
