// HTTPS for the API with a CA the test makes with openssl, and the real `baremetal` CLI
// (python3-ironicclient) with --os-auth-type http_basic over it, verifying the server with
// --os-cacert; with api.tls.clientCa, a client certificate is required. SQLite only: each CLI
// command is a Python start-up; the API paths run on both back ends in auth-basic.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execa } from 'execa';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { registerConductor } from '../../../db/conductors.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { makeTestPki, type TestPki } from '../../helpers/tls.ts';
import { testConfig } from './harness.ts';

function get(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, opts, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('API over HTTPS with http_basic (sqlite)', { timeout: 300_000 }, () => {
  let pki: TestPki;
  let t: TestDatabase;
  let app: FastifyInstance;
  let mtls: FastifyInstance;
  let endpoint: string;
  let mtlsEndpoint: string;
  const password = 'correct horse:battery';

  beforeAll(async () => {
    pki = makeTestPki();
    const userFile = path.join(pki.dir, 'htpasswd');
    writeFileSync(userFile, execFileSync('htpasswd', ['-nbB', '-C', '5', 'operator', password], { encoding: 'utf8' }));
    t = await createTestDatabase('sqlite');
    await registerConductor(t.db.knex, 'c1', '', ['fake-hardware']);
    const config = testConfig();
    Object.assign(config.auth, { strategy: 'http_basic', userFile });
    config.api.tls = { cert: pki.serverCert, key: pki.serverKey, clientCa: undefined };
    app = await createApiServer({ db: t.db, config, logger: silentLogger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    endpoint = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    mtls = await createApiServer({ db: t.db, config: { ...config, api: { ...config.api, tls: { ...config.api.tls, clientCa: pki.caCert } } }, logger: silentLogger });
    await mtls.listen({ host: '127.0.0.1', port: 0 });
    mtlsEndpoint = `https://127.0.0.1:${(mtls.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await mtls?.close();
    await t?.drop();
  });

  async function baremetal(args: string[], opts: { cacert?: string | null; endpoint?: string; password?: string; extra?: string[] } = {}) {
    const cacert = opts.cacert === undefined ? pki.caCert : opts.cacert;
    const r = await execa('/usr/bin/baremetal', [
      '--os-auth-type', 'http_basic', '--os-username', 'operator', '--os-password', opts.password ?? password,
      '--os-endpoint', opts.endpoint ?? endpoint, ...(cacert ? ['--os-cacert', cacert] : []), ...(opts.extra ?? []), ...args,
    ], { reject: false, timeout: 120_000, env: { HOME: process.env.HOME ?? '/tmp' }, extendEnv: false });
    return { code: r.exitCode, out: r.stdout, err: r.stderr };
  }

  it('answers HTTPS with its certificate, and links say https', async () => {
    const root = await get(`${endpoint}/`, { ca: [readFileSync(pki.caCert)] });
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body).default_version.links[0].href).toBe(`${endpoint}/v1/`);
    await expect(get(`${endpoint}/`, { ca: [readFileSync(pki.otherCaCert)] })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  it('drives nodes with the real CLI over HTTPS with basic auth', async () => {
    const created = await baremetal(['node', 'create', '--driver', 'fake-hardware', '--name', 'tls-1', '--driver-info', 'ipmi_password=bmc-secret', '-f', 'json']);
    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ name: 'tls-1', provision_state: 'enroll', driver_info: { ipmi_password: '******' } });
    const list = await baremetal(['node', 'list', '-f', 'json']);
    expect(list.code, list.err).toBe(0);
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ Name: 'tls-1' })]);
    const show = await baremetal(['node', 'show', 'tls-1', '--fields', 'name', 'driver', '-f', 'json']);
    expect(JSON.parse(show.out)).toEqual({ name: 'tls-1', driver: 'fake-hardware' });
  });

  it('fails clearly with a wrong password, and refuses a server it cannot verify', async () => {
    const wrong = await baremetal(['node', 'list'], { password: 'wrong' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/401|Unauthorized|Invalid user name or password/i);
    const unverified = await baremetal(['node', 'list'], { cacert: pki.otherCaCert });
    expect(unverified.code).not.toBe(0);
    expect(unverified.err).toMatch(/SSL|certificate|verify/i);
  });

  it('requires a client certificate signed by api.tls.clientCa when one is set', async () => {
    const ca = [readFileSync(pki.caCert)];
    await expect(get(`${mtlsEndpoint}/`, { ca })).rejects.toThrow();
    const withCert = await get(`${mtlsEndpoint}/`, { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
    expect(withCert.status).toBe(200);
    const cli = await baremetal(['node', 'list', '-f', 'json'], { endpoint: mtlsEndpoint, extra: ['--os-cert', pki.clientCert, '--os-key', pki.clientKey] });
    expect(cli.code, cli.err).toBe(0);
    const noCert = await baremetal(['node', 'list'], { endpoint: mtlsEndpoint });
    expect(noCert.code).not.toBe(0);
  });
});
