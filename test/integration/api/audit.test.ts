// Audit events of mutating requests (JSON lines in their own rotated file) and the 429 back-off
// of repeated failed authentication, on both back ends with http_basic.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../helpers/db.ts';
import { startHarness, type ApiHarness } from './harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-audit-'));
const userFile = path.join(dir, 'htpasswd');
writeFileSync(userFile, execFileSync('htpasswd', ['-nbB', '-C', '5', 'ops', 'pw-ops'], { encoding: 'utf8' }));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const GOOD = basic('ops', 'pw-ops');

describe.each(BACKENDS)('audit and back-off (%s)', (backend) => {
  let h: ApiHarness;
  const auditFile = path.join(dir, `audit-${backend}.log`);
  beforeAll(async () => {
    h = await startHarness(backend, {
      configure: (c) => Object.assign(c.auth, { strategy: 'http_basic', userFile, audit: { file: auditFile, maxBytes: 4096, keep: 2 }, backoff: { failures: 3, baseSeconds: 1, maxSeconds: 4 } }),
    });
  });
  afterAll(() => h?.close());

  const call = async (method: string, url: string, auth: string | undefined, body?: unknown) => {
    const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': '1.89' };
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await h.app.inject({ method: method as 'GET', url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined, id: res.headers['openstack-request-id'] };
  };
  const events = () => readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

  it('writes one event per mutating request, with who, what, node, outcome and request id; reads are not audited', async () => {
    const created = await call('POST', '/v1/nodes', GOOD, { driver: 'fake-hardware', name: 'aud-1', driver_info: { ipmi_password: 'never-in-audit' } });
    const patched = await call('PATCH', '/v1/nodes/aud-1', GOOD, [{ op: 'add', path: '/extra/a', value: 1 }]);
    await call('GET', '/v1/nodes/aud-1', GOOD);
    const denied = await call('DELETE', '/v1/nodes/aud-1', basic('ops', 'wrong'));
    const power = await call('PUT', '/v1/nodes/aud-1/states/power?x=secret-query', GOOD, { target: 'power on' });
    await new Promise((r) => setTimeout(r, 100));
    const all = events();
    expect(all).toHaveLength(4);
    expect(all[0]).toMatchObject({ request_id: created.id, strategy: 'http_basic', user: 'ops', roles: ['admin', 'member', 'reader'], system_scope: true, method: 'POST', path: '/v1/nodes', status: 201, outcome: 'success', client: '127.0.0.1' });
    expect(Date.parse(all[0].time)).not.toBeNaN();
    expect(all[1]).toMatchObject({ request_id: patched.id, method: 'PATCH', path: '/v1/nodes/aud-1', node: 'aud-1', status: 200 });
    expect(all[2]).toMatchObject({ request_id: denied.id, method: 'DELETE', user: null, status: 401, outcome: 'denied', node: 'aud-1' });
    expect(all[3]).toMatchObject({ request_id: power.id, path: '/v1/nodes/aud-1/states/power', node: 'aud-1', status: 202 });
    expect(readFileSync(auditFile, 'utf8')).not.toMatch(/never-in-audit|secret-query|pw-ops|wrong/);
  });

  it('rotates the file at maxBytes, keeping `keep` old files', async () => {
    for (let i = 0; i < 60; i++) await call('PATCH', '/v1/nodes/aud-1', GOOD, [{ op: 'add', path: '/extra/n', value: i }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(`${auditFile}.1`)).toBe(true);
    expect(existsSync(`${auditFile}.2`)).toBe(true);
    expect(existsSync(`${auditFile}.3`)).toBe(false);
    for (const f of [auditFile, `${auditFile}.1`, `${auditFile}.2`]) {
      const text = readFileSync(f, 'utf8');
      expect(text.length).toBeLessThanOrEqual(4096 + 1024);
      for (const line of text.trim().split('\n')) expect(JSON.parse(line).method).toBe('PATCH');
    }
  });

  it('answers 429 with Retry-After after repeated wrong credentials, even to right ones, until the wait is over', async () => {
    for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/nodes', basic('ops', `guess-${i}`))).status).toBe(401);
    const blocked = await call('GET', '/v1/nodes', GOOD);
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toBe('1');
    expect(JSON.parse(blocked.body.error_message).faultstring).toMatch(/Too many failed authentications/);
    // Missing credentials cost nothing and are not counted; the root documents stay open.
    expect((await call('GET', '/v1', undefined)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call('GET', '/v1/nodes', GOOD)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call('GET', '/v1/nodes', undefined)).status).toBe(401);
    expect((await call('GET', '/v1/nodes', GOOD)).status).toBe(200);
  });
});
