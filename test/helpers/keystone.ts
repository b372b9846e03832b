// A real Keystone for auth tests (Debian's python3-keystone): SQLite, fernet tokens and
// `keystone-manage bootstrap` in a temporary folder, served on loopback by keystone-wsgi-public.
// Start it once per test file (~10-20 s); the admin helpers create projects, users and roles.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import axios, { type AxiosInstance } from 'axios';
import { freeTcpPort } from './ports.ts';

const run = promisify(execFile);

export interface TokenScope { project?: string; system?: boolean }

export interface TestKeystone {
  /** e.g. http://127.0.0.1:PORT/v3 */
  authUrl: string;
  adminPassword: string;
  createProject(name: string): Promise<string>;
  /** A user in the Default domain with these roles on a project (or on the system). */
  createUser(name: string, password: string, grants: { project?: string; system?: boolean; roles: string[] }): Promise<string>;
  createRole(name: string): Promise<string>;
  /** A token for a user, scoped to a project (by name) or to the system. */
  token(user: string, password: string, scope: TokenScope): Promise<string>;
  revoke(token: string): Promise<void>;
  /** Registers a service of this type with a public endpoint in the catalog. */
  addEndpoint(type: string, url: string): Promise<void>;
  stop(): Promise<void>;
}


export async function startKeystone(): Promise<TestKeystone> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-keystone-'));
  const conf = path.join(dir, 'keystone.conf');
  writeFileSync(conf, [
    '[DEFAULT]', 'use_stderr = true', `log_file = ${path.join(dir, 'keystone.log')}`,
    '[database]', `connection = sqlite:///${path.join(dir, 'keystone.db')}`,
    // bcrypt's cheapest cost: every token request checks a password, and the default cost makes each take ~1 s here.
    '[identity]', 'password_hash_rounds = 4',
    '[token]', 'provider = fernet', 'expiration = 3600',
    '[fernet_tokens]', `key_repository = ${path.join(dir, 'fernet-keys')}`,
    '[fernet_receipts]', `key_repository = ${path.join(dir, 'fernet-receipts')}`,
    '[credential]', `key_repository = ${path.join(dir, 'credential-keys')}`,
    '',
  ].join('\n'));
  const logTail = () => {
    try {
      return readFileSync(path.join(dir, 'keystone.log'), 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '';
    }
  };
  const port = await freeTcpPort();
  const authUrl = `http://127.0.0.1:${port}/v3`;
  const adminPassword = 'keystone-admin-pw';
  const manage = (...args: string[]) => run('keystone-manage', ['--config-file', conf, ...args], { timeout: 120_000 });
  await manage('db_sync');
  await manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage('bootstrap', '--bootstrap-password', adminPassword, '--bootstrap-public-url', authUrl, '--bootstrap-region-id', 'RegionOne');
  // WAL: Keystone's own reads (token checks in one request) no longer lock out its writes (catalog changes).
  await run('python3', ['-c', 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")', path.join(dir, 'keystone.db')]);

  const child: ChildProcess = spawn('keystone-wsgi-public', ['--host', '127.0.0.1', '--port', String(port)], {
    env: { ...process.env, OS_KEYSTONE_CONFIG_FILES: conf },
    stdio: ['ignore', 'ignore', openSync(path.join(dir, 'keystone.log'), 'a')],
  });
  const http: AxiosInstance = axios.create({ baseURL: authUrl, validateStatus: () => true, timeout: 30_000 });
  for (let i = 0; ; i++) {
    const up = await http.get('/').then((r) => r.status === 200, () => false);
    if (up) break;
    if (i > 240 || child.exitCode !== null) throw new Error(`keystone-wsgi-public did not start on port ${port} (see ${dir}/keystone.log)`);
    await new Promise((r) => setTimeout(r, 250));
  }

  async function token(user: string, password: string, scope: TokenScope): Promise<string> {
    const res = await http.post('/auth/tokens', {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, password, domain: { id: 'default' } } } },
        scope: scope.system ? { system: { all: true } } : scope.project ? { project: { name: scope.project, domain: { id: 'default' } } } : undefined,
      },
    });
    if (res.status !== 201) throw new Error(`token for ${user}: ${res.status} ${JSON.stringify(res.data)}`);
    return res.headers['x-subject-token'] as string;
  }
  let adminToken = await token('admin', adminPassword, { system: true });
  const admin = async (method: 'get' | 'post' | 'put' | 'delete', url: string, body?: unknown) => {
    const res = await http.request({ method, url, data: body, headers: { 'X-Auth-Token': adminToken } });
    if (res.status >= 300) throw new Error(`keystone ${method} ${url}: ${res.status} ${JSON.stringify(res.data)}\n${logTail()}`);
    return res.data;
  };
  const roleId = async (name: string): Promise<string> => {
    const { roles } = await admin('get', `/roles?name=${encodeURIComponent(name)}`);
    if (!roles.length) throw new Error(`no role ${name}`);
    return roles[0].id;
  };
  const projectId = async (name: string): Promise<string> => (await admin('get', `/projects?name=${encodeURIComponent(name)}`)).projects[0].id;

  return {
    authUrl,
    adminPassword,
    async createProject(name) {
      return (await admin('post', '/projects', { project: { name, domain_id: 'default' } })).project.id;
    },
    async createRole(name) {
      return (await admin('post', '/roles', { role: { name } })).role.id;
    },
    async createUser(name, password, grants) {
      const id = (await admin('post', '/users', { user: { name, password, domain_id: 'default', enabled: true } })).user.id;
      for (const role of grants.roles) {
        const rid = await roleId(role);
        if (grants.system) await admin('put', `/system/users/${id}/roles/${rid}`);
        if (grants.project) await admin('put', `/projects/${await projectId(grants.project)}/users/${id}/roles/${rid}`);
      }
      return id;
    },
    token,
    async revoke(t) {
      const res = await http.delete('/auth/tokens', { headers: { 'X-Auth-Token': adminToken, 'X-Subject-Token': t } });
      if (res.status !== 204) throw new Error(`revoke: ${res.status}`);
    },
    async addEndpoint(type, url) {
      const service = (await admin('post', '/services', { service: { type, name: type, enabled: true } })).service.id;
      await admin('post', '/endpoints', { endpoint: { service_id: service, interface: 'public', url, region_id: 'RegionOne', enabled: true } });
      adminToken = await token('admin', adminPassword, { system: true });
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
