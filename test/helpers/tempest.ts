// Ironic's own API conformance tests (Debian's python3-tempest + ironic-tempest-plugin) run against a
// live Anvil: a tempest workspace in a temporary folder, a tempest.conf naming the real Keystone, and the
// results read back from stestr's subunit stream. The tests Anvil does not pass on purpose are listed
// once, in docs/api-compatibility.md, and read from there.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const COMPATIBILITY_DOC = path.resolve(import.meta.dirname, '../../docs/api-compatibility.md');
const EXCLUDED_HEADING = "## Ironic's API tests (ironic-tempest-plugin)";
/** Test ids in the plugin are this module path plus `module.Class.test_name[id-…,tags]`. */
export const PLUGIN_API_TESTS = 'ironic_tempest_plugin.tests.api';

export interface ExcludedTest {
  /** `module.Class.test_name` under ironic_tempest_plugin.tests.api.admin */
  test: string;
  reason: string;
}

/** The table of excluded tests in docs/api-compatibility.md: one row per test, with its reason. */
export function excludedTempestTests(doc = readFileSync(COMPATIBILITY_DOC, 'utf8')): ExcludedTest[] {
  const start = doc.indexOf(EXCLUDED_HEADING);
  if (start < 0) throw new Error(`${COMPATIBILITY_DOC} has no "${EXCLUDED_HEADING}" section`);
  const section = doc.slice(start + EXCLUDED_HEADING.length).split(/\n## /)[0];
  const rows: ExcludedTest[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| `([\w.]+)` \| (.+?) \|$/.exec(line.trim());
    if (m) rows.push({ test: m[1], reason: m[2] });
  }
  return rows;
}

/** `module.Class.test_name` of a full subunit test id (`ironic_tempest_plugin.tests.api.admin.…[id-…]`). */
export function shortTestName(id: string): string {
  return id.replace(/\[[^\]]*\]$/, '').replace(`${PLUGIN_API_TESTS}.admin.`, '');
}

/** A Keystone user tempest may take: an admin of a project, or of the system. */
export interface TempestAccount {
  username: string;
  password: string;
  project?: string;
  system?: boolean;
}

export interface TempestOptions {
  authUrl: string;
  /** Pre-provisioned admins (at least one project and one system admin per worker): creating users per test class
   * (tempest's dynamic credentials) costs Keystone more time than all the tests take. */
  accounts: TempestAccount[];
  /** The microversion range Anvil serves, e.g. ['1.1', '1.95']. */
  microversions: [string, string];
  excluded: ExcludedTest[];
  /** stestr workers; the machine is shared, so 1 or 2. */
  concurrency: number;
}

export interface TempestResult {
  /** status per short test name: success, fail, skip, ... (subunit's words) */
  statuses: Map<string, string>;
  /** short names of every test of the plugin's API tests, run or not */
  listed: Set<string>;
  /** tempest's own console output, tracebacks of failures included */
  output: string;
  workspace: string;
}

function accountsYaml(accounts: TempestAccount[]): string {
  // JSON is YAML: one flow mapping per account.
  return accounts.map((a) => `- ${JSON.stringify({
    // user_domain_name, not domain_name: tempest would take the latter for a domain-scoped account.
    username: a.username, password: a.password, user_domain_name: 'Default', roles: ['admin'],
    ...(a.system ? { system: 'all' } : { project_name: a.project, project_domain_name: 'Default' }),
  })}`).join('\n') + '\n';
}

function tempestConf(o: TempestOptions, dir: string, accountsFile: string): string {
  return [
    '[DEFAULT]', `log_dir = ${dir}`, 'log_file = tempest.log',
    '[auth]', 'use_dynamic_credentials = false', `test_accounts_file = ${accountsFile}`,
    'default_credentials_domain_name = Default', 'create_isolated_networks = false',
    '[identity]', `uri_v3 = ${o.authUrl}`, 'auth_version = v3', 'region = RegionOne', 'v3_endpoint_type = public',
    '[identity-feature-enabled]', 'api_v2 = false',
    '[service_available]', 'ironic = true', 'nova = false', 'glance = false', 'neutron = false', 'cinder = false', 'swift = false',
    '[baremetal]', 'driver = fake-hardware', 'endpoint_type = public', `min_microversion = ${o.microversions[0]}`, `max_microversion = ${o.microversions[1]}`,
    // ipmi too: the reset_interfaces tests move a node from fake-hardware to ipmi.
    'enabled_hardware_types = fake-hardware,ipmi', 'power_timeout = 60', 'unprovision_timeout = 60',
    // Anvil enforces Ironic's new policy defaults and scopes, so tempest acts as a system-scoped admin.
    '[enforce_scope]', 'ironic = true',
    '',
  ].join('\n');
}

/** Runs the plugin's API tests in a fresh workspace and reads back every test's status. */
export async function runTempest(o: TempestOptions): Promise<TempestResult> {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'anvil-tempest-'));
  const env = { ...process.env, HOME: workspace };
  await execa('tempest', ['init', '--workspace-path', path.join(workspace, 'workspaces.yaml'), path.join(workspace, 'ws')], { env, cwd: workspace });
  const ws = path.join(workspace, 'ws');
  const accountsFile = path.join(ws, 'etc', 'accounts.yaml');
  writeFileSync(accountsFile, accountsYaml(o.accounts));
  writeFileSync(path.join(ws, 'etc', 'tempest.conf'), tempestConf(o, ws, accountsFile));
  // Exclude entries are regexes on the full id: the short name, then its `[id-…]` or the end.
  const excludeFile = path.join(workspace, 'exclude.txt');
  writeFileSync(excludeFile, o.excluded.map((e) => `${PLUGIN_API_TESTS}.admin.${e.test.replaceAll('.', '\\.')}(\\[|$)`).join('\n') + '\n');
  const list = await execa('tempest', ['run', '--list-tests', '--regex', `^${PLUGIN_API_TESTS}\\.`], { env, cwd: ws });
  const listed = new Set(list.stdout.split('\n').filter((l) => l.startsWith(PLUGIN_API_TESTS)).map(shortTestName));
  const run = await execa('tempest', ['run', '--regex', `^${PLUGIN_API_TESTS}\\.`, '--exclude-list', excludeFile, '--concurrency', String(o.concurrency)], {
    env, cwd: ws, reject: false, all: true,
  });
  // subunit2csv exits 1 when a test failed: its output is read all the same.
  const csv = await execa('bash', ['-c', 'stestr last --subunit | subunit2csv --no-passthrough'], { env, cwd: ws, reject: false });
  const statuses = new Map<string, string>();
  for (const line of csv.stdout.split(/\r?\n/).slice(1)) {
    const m = /^"?([^"]+?)"?,(\w+),/.exec(line);
    // `setUpClass (…Class)` rows carry a whole class's set-up: kept, so a class that failed to start counts.
    if (m && m[1].includes(PLUGIN_API_TESTS)) statuses.set(shortTestName(m[1]), m[2]);
  }
  return { statuses, listed, output: run.all ?? '', workspace };
}

export function removeTempestWorkspace(r: TempestResult | undefined): void {
  if (r) rmSync(r.workspace, { recursive: true, force: true });
}
