import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { parseRange, startHttpBootServer, type HttpBootServer } from '../../../services/netboot/http/server.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { setBootRecords } from '../../../db/boot-records.ts';
import { enrollNode } from '../../integration/netboot/fixtures.ts';
import { netbootConfig } from './config-fixture.ts';

function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP boot server', () => {
  let dir: string;
  let tdb: TestDatabase;
  let server: HttpBootServer;
  const kernel = randomBytes(100_000);
  const mac = '52:54:00:12:00:01';
  let uuid: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-http-'));
    mkdirSync(path.join(dir, 'root', 'images'), { recursive: true });
    writeFileSync(path.join(dir, 'root', 'images', 'deploy.kernel'), kernel);
    writeFileSync(path.join(dir, 'root', 'empty'), '');
    writeFileSync(path.join(dir, 'root', 'snponly.efi'), 'MZ');
    writeFileSync(path.join(dir, 'secret'), 'secret');
    tdb = await createTestDatabase('sqlite');
    const node = await enrollNode(tdb.db, {
      mac, state: 'inspecting',
      driver_info: { deploy_kernel: 'images/deploy.kernel', deploy_ramdisk: 'http://images.example/ipa.initramfs', kernel_append_params: 'nofb' },
    });
    uuid = node.uuid;
    await enrollNode(tdb.db, { mac: '52:54:00:12:00:02', state: 'active' });
    const config = netbootConfig({ kernelAppend: 'ipa-debug=1' });
    server = await startHttpBootServer({ host: '127.0.0.1', port: 0, root: path.join(dir, 'root'), targets: databaseTargets(tdb.db.knex, config), logger: silentLogger });
  });
  afterAll(async () => {
    await server.close();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('labels EFI applications application/efi, as UEFI HTTP boot firmware expects, and other files as octets', async () => {
    expect((await get(server.port, '/snponly.efi')).headers['content-type']).toBe('application/efi');
    expect((await get(server.port, '/images/deploy.kernel')).headers['content-type']).toBe('application/octet-stream');
  });

  it('renders the iPXE script of a node being inspected, with the agent arguments', async () => {
    const r = await get(server.port, `/boot/${mac}.ipxe`);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const script = r.body.toString();
    expect(script).toContain(`kernel http://10.0.0.1:8080/images/deploy.kernel initrd=ramdisk ipa-api-url=http://10.0.0.1:6385 ipa-node-uuid=${uuid} BOOTIF=${mac} ipa-inspection-callback-url=http://10.0.0.1:6385/v1/continue_inspection ipa-collect-lldp=1 ipa-debug=1 nofb || goto retry`);
    expect(script).toContain('initrd --name ramdisk http://images.example/ipa.initramfs || goto retry');
    // The same node by a dash-separated MAC, and the pxelinux / GRUB flavours.
    expect((await get(server.port, `/boot/${mac.replace(/:/g, '-')}.ipxe`)).status).toBe(200);
    expect((await get(server.port, `/pxelinux.cfg/01-${mac.replace(/:/g, '-')}`)).body.toString()).toContain('append initrd=http://images.example/ipa.initramfs ipa-api-url=');
    expect((await get(server.port, `/grub/grub.cfg-01-${mac.replace(/:/g, '-')}`)).body.toString()).toContain('linux http://10.0.0.1:8080/images/deploy.kernel ipa-api-url=');
  });

  it('hands out the iPXE script of a boot record verbatim', async () => {
    const script = '#!ipxe\nchain http://images.example/custom.ipxe\n';
    const node = await enrollNode(tdb.db, { mac: '52:54:00:12:00:03', state: 'deploying', booting: null });
    await setBootRecords(tdb.db.knex, node, [{ kind: 'ramdisk', mac: '52:54:00:12:00:03', portId: null, purpose: 'deploy', kernel: null, initrd: null, kernelArgs: '', ipxeScript: script, bootFile: null, expiresAt: null }]);
    expect((await get(server.port, '/boot/52:54:00:12:00:03.ipxe')).body.toString()).toBe(script);
  });

  it('has no script for an active node or an unknown MAC', async () => {
    for (const m of ['52:54:00:12:00:02', '52:54:00:12:00:09']) {
      const r = await get(server.port, `/boot/${m}.ipxe`);
      expect(r.status).toBe(404);
      expect(r.body.toString()).toContain('not being provisioned');
    }
  });

  it('serves files whole and by range', async () => {
    const whole = await get(server.port, '/images/deploy.kernel');
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.body).toEqual(kernel);
    const part = await get(server.port, '/images/deploy.kernel', { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${kernel.length}`);
    expect(part.body).toEqual(kernel.subarray(100, 200));
    expect((await get(server.port, '/images/deploy.kernel', { range: 'bytes=-10' })).body).toEqual(kernel.subarray(kernel.length - 10));
    expect((await get(server.port, '/images/deploy.kernel', { range: 'bytes=99990-' })).body).toEqual(kernel.subarray(99990));
    const beyond = await get(server.port, '/images/deploy.kernel', { range: 'bytes=100000-' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${kernel.length}`);
    expect((await get(server.port, '/images/deploy.kernel', { range: 'bytes=0-1,5-6' })).status).toBe(200);
    const head = await get(server.port, '/images/deploy.kernel', {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(kernel.length), 0]);
    expect((await get(server.port, '/empty')).body.length).toBe(0);
  });

  it('refuses traversal, other methods and missing files', async () => {
    expect((await get(server.port, '/..%2f..%2fsecret')).status).toBe(403);
    expect((await get(server.port, '/images/%00x')).status).toBe(403);
    expect((await get(server.port, '/images/missing')).status).toBe(404);
    expect((await get(server.port, '/images')).status).toBe(404);
    expect((await get(server.port, '/%E0%A4%A')).status).toBe(400);
    expect((await get(server.port, '/images/deploy.kernel', {}, 'PUT')).status).toBe(405);
  });

  it('parses ranges as RFC 9110 says', () => {
    expect(parseRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=7-3', 10)).toBe('unsatisfiable');
    expect(parseRange('items=0-1', 10)).toBeUndefined();
  });
});
