// `anvil simulate ovirt`, as a tester starts it: N VMs over HTTPS, its certificate written where
// asked, an SSO token for its user, a bad user name refused with a clear message.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ANVIL = resolve(fileURLToPath(import.meta.url), '../../../../bin/anvil.js');
let dir: string;
let child: ResultPromise | undefined;

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'anvil-ovirt-cli-')); });
afterAll(async () => {
  child?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('anvil simulate ovirt', () => {
  it('serves N VMs over HTTPS with the certificate it wrote, and stops on SIGTERM', async () => {
    const caFile = join(dir, 'ca.pem');
    child = execa(process.execPath, [ANVIL, 'simulate', 'ovirt', '--vms', '5', '--listen', '127.0.0.1:0', '--ca-file', caFile, '--password', 'cli-pw'], { all: true, reject: false });
    let output = '';
    child.all!.on('data', (c: Buffer) => { output += c.toString(); });
    while (!output.includes('oVirt Engine simulator ready')) {
      if (child.exitCode !== null) throw new Error(`anvil simulate ovirt exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toMatch(/5 VM\(s\) \(node-0001 \.\.\. node-0005\) at https:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api/);
    const origin = /at (https:\/\/[^/]+)\//.exec(output)![1];
    const http = axios.create({ baseURL: origin, httpsAgent: new https.Agent({ ca: await readFile(caFile, 'utf8') }), validateStatus: () => true });
    const token = await http.post('/ovirt-engine/sso/oauth/token', 'grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=cli-pw', { headers: { Accept: 'application/json' } });
    expect(token.status).toBe(200);
    const vms = await http.get('/ovirt-engine/api/vms', { headers: { Accept: 'application/json', Version: '4', Authorization: `Bearer ${token.data.access_token}` } });
    expect(vms.data.vm.map((v: { name: string; status: string }) => `${v.name} ${v.status}`)).toEqual([1, 2, 3, 4, 5].map((i) => `node-000${i} down`));
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  }, 60_000);

  it('refuses a user name without a domain', async () => {
    const bad = await execa(process.execPath, [ANVIL, 'simulate', 'ovirt', '--username', 'admin'], { reject: false });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('--username must be user@domain (as admin@internal), got "admin"');
  }, 30_000);
});
