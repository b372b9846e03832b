// The netboot HTTP boot server and the image server over HTTPS (netboot.http.tls, images.tls) with
// a certificate of a CA the test makes with openssl: clients that trust the CA get scripts, files
// and ranges; clients that do not, or trust another CA, are refused; bad settings fail with the key.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { downloadDispatcher } from '../../../deploy-agent/api-ca.ts';
import { downloadImage } from '../../../images/download.ts';
import { startImageServer, type ImageServer } from '../../../images/server.ts';
import { parseNetbootConfig } from '../../../services/netboot/config.ts';
import { startHttpBootServer, type HttpBootServer } from '../../../services/netboot/http/server.ts';
import { databaseTargets } from '../../../services/netboot/targets.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { makeTestPki, type TestPki } from '../../helpers/tls.ts';
import { anvilConfig } from '../../unit/netboot/config-fixture.ts';

function get(url: string, ca: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca: ca ? readFileSync(ca) : undefined, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

let pki: TestPki;
const kernel = randomBytes(50_000);
const mac = '52:54:00:12:34:56';

beforeAll(() => {
  pki = makeTestPki();
  mkdirSync(path.join(pki.dir, 'root', 'images'), { recursive: true });
  writeFileSync(path.join(pki.dir, 'root', 'images', 'deploy.kernel'), kernel);
});
afterAll(async () => {
  await rm(pki.dir, { recursive: true, force: true });
});

describe('netboot HTTP boot server over HTTPS', () => {
  let tdb: TestDatabase;
  let server: HttpBootServer;
  let base: string;

  const config = (http: Record<string, unknown>) => parseNetbootConfig(anvilConfig({
    http, apiUrl: 'https://10.0.0.1:6385', apiCa: pki.caCert, deployKernel: 'images/deploy.kernel', hosts: [{ mac, purpose: 'deploy' }],
  }));

  beforeAll(async () => {
    tdb = await createTestDatabase('sqlite');
    const netboot = config({ listen: '127.0.0.1:0', root: path.join(pki.dir, 'root'), tls: { cert: pki.serverCert, key: pki.serverKey } });
    server = await startHttpBootServer({ ...netboot.http, targets: databaseTargets(tdb.db.knex, netboot), logger: silentLogger });
    base = `https://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await tdb?.drop();
  });

  it('defaults publicUrl to https and serves the iPXE script with https URLs and the API CA', async () => {
    const netboot = config({ listen: '0.0.0.0:8443', tls: { cert: pki.serverCert, key: pki.serverKey } });
    expect(netboot.http.publicUrl).toBe('https://10.0.0.1:8443');
    const r = await get(`${base}/boot/${mac}.ipxe`, pki.caCert);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toMatch(/kernel https:\/\/10\.0\.0\.1:0\/images\/deploy\.kernel initrd=ramdisk ipa-api-url=https:\/\/10\.0\.0\.1:6385 BOOTIF=52:54:00:12:34:56 anvil\.api_ca=[A-Za-z0-9+/=]+ /);
  });

  it('serves files whole and by range to a client that trusts the CA', async () => {
    const whole = await get(`${base}/images/deploy.kernel`, pki.caCert);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(kernel)).toBe(true);
    const part = await get(`${base}/images/deploy.kernel`, pki.caCert, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.body.equals(kernel.subarray(100, 200))).toBe(true);
  });

  it('is refused by clients without the CA or with another one', async () => {
    await expect(get(`${base}/images/deploy.kernel`, undefined)).rejects.toThrow('unable to verify the first certificate');
    await expect(get(`${base}/images/deploy.kernel`, pki.otherCaCert)).rejects.toThrow('unable to verify the first certificate');
  });

  it('refuses half a TLS setting, unknown keys and unreadable files, naming the key', async () => {
    expect(() => config({ tls: { cert: pki.serverCert } })).toThrow('netboot.http.tls needs both cert and key');
    expect(() => config({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert } })).toThrow('netboot.http.tls: unknown key "ca"');
    expect(() => config({ tls: 'yes' })).toThrow('netboot.http.tls must be a mapping');
    const missing = config({ listen: '127.0.0.1:0', root: path.join(pki.dir, 'root'), tls: { cert: pki.serverCert, key: path.join(pki.dir, 'missing.key') } });
    await expect(startHttpBootServer({ ...missing.http, targets: databaseTargets(tdb.db.knex, missing), logger: silentLogger }))
      .rejects.toThrow(/^Cannot read the key of netboot\.http\.tls .*missing\.key: ENOENT/);
  });
});

describe('image server over HTTPS', () => {
  let images: ImageServer;

  beforeAll(async () => {
    images = await startImageServer({ root: path.join(pki.dir, 'root'), tls: { cert: pki.serverCert, key: pki.serverKey } });
  });
  afterAll(async () => {
    await images?.close();
  });

  it('has an https URL and serves images to a client that trusts the CA, whole and by range', async () => {
    expect(images.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const whole = await get(`${images.url}/images/deploy.kernel`, pki.caCert);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(kernel)).toBe(true);
    const part = await get(`${images.url}/images/deploy.kernel`, pki.caCert, { range: 'bytes=-10' });
    expect(part.status).toBe(206);
    expect(part.body.equals(kernel.subarray(-10))).toBe(true);
  });

  it('is refused by clients without the CA or with another one', async () => {
    await expect(get(`${images.url}/images/deploy.kernel`, undefined)).rejects.toThrow('unable to verify the first certificate');
    await expect(get(`${images.url}/images/deploy.kernel`, pki.otherCaCert)).rejects.toThrow('unable to verify the first certificate');
  });

  it('the agent downloads from it with anvil.api_ca in its download dispatcher, and names the certificate problem without', async () => {
    const dispatcher = await downloadDispatcher(readFileSync(pki.caCert, 'utf8'));
    try {
      const dest = path.join(pki.dir, 'downloaded');
      const got = await downloadImage(`${images.url}/images/deploy.kernel`, dest, null, { dispatcher });
      expect(got.bytes).toBe(kernel.length);
      expect(readFileSync(dest).equals(kernel)).toBe(true);
    } finally {
      await dispatcher.close();
    }
    await expect(downloadImage(`${images.url}/images/deploy.kernel`, path.join(pki.dir, 'refused'), null))
      .rejects.toThrow(`Cannot download image ${images.url}/images/deploy.kernel: unable to verify the first certificate`);
  });

  it('images.tls needs both cert and key', () => {
    const file = path.join(pki.dir, 'anvil.yaml');
    writeFileSync(file, `images:\n  tls:\n    cert: ${pki.serverCert}\n`);
    expect(() => loadConfig({ file, env: {} })).toThrow('images.tls needs both cert and key');
    writeFileSync(file, `images:\n  tls:\n    cert: ${pki.serverCert}\n    key: ${pki.serverKey}\n`);
    expect(loadConfig({ file, env: {} }).images.tls).toEqual({ cert: pki.serverCert, key: pki.serverKey });
  });
});
