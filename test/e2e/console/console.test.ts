// The web console in a real browser (Debian's chromium through playwright-core) against Anvil
// all-in-one with a real Keystone: sign in as the system admin, enroll a node from the form,
// manage and provide it from its page and deploy it from the fleet view's bulk bar, watching each
// state arrive live (no reload); a CSV inventory uploaded; a Redfish node whose BMC refuses shows
// its last_error; a project member signed in sees only its project's nodes. A screenshot of each page is written to
// $ANVIL_SCREENSHOTS (docs/console when `npm run docs:screenshots` runs it), else to a temp folder.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { startAllInOne, type RoleHandle } from '../../../services/roles.ts';
import { launchBrowser, type TestBrowser } from '../../helpers/browser.ts';
import { startKeystone, type TestKeystone } from '../../helpers/keystone.ts';
import { freeTcpPort } from '../../helpers/ports.ts';

const PW = 'member-pw-1';
const KEEP_SHOTS = Boolean(process.env.ANVIL_SCREENSHOTS);
const SHOTS = KEEP_SHOTS ? path.resolve(process.env.ANVIL_SCREENSHOTS!) : mkdtempSync(path.join(os.tmpdir(), 'anvil-console-shots-'));
const WAIT = { timeout: 90_000 };

// Each step waits for the browser and the conductor: generous on a loaded machine.
describe('web console in chromium', { timeout: 300_000 }, () => {
  let ks: TestKeystone;
  let anvil: RoleHandle;
  let browser: TestBrowser;
  let page: Page;
  let adminToken: string;
  let projectA: string;
  let dataDir: string;

  async function rest(method: string, url: string, body?: unknown): Promise<any> {
    const res = await fetch(`${anvil.apiUrl}${url}`, {
      method,
      headers: { 'x-auth-token': adminToken, 'x-openstack-ironic-api-version': 'latest', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async function reach(uuid: string, state: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const n = await rest('GET', `/v1/nodes/${uuid}?fields=provision_state,last_error`);
      if (n.provision_state === state) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${uuid} never reached ${state}`);
  }

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  async function signIn(user: string, password: string, project = ''): Promise<void> {
    await page.goto(`${anvil.apiUrl}/console/`);
    await page.getByLabel('Sign in').waitFor(WAIT);
    await page.locator('input[name=username]').fill(user);
    await page.locator('input[name=password]').fill(password);
    await page.locator('input[name=project]').fill(project);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid=live][data-live=live]').waitFor(WAIT);
  }

  /** Runs an action from the page's buttons through its confirmation. */
  async function act(scope: string, label: string, fill: Record<string, string> = {}): Promise<void> {
    await page.locator(scope).getByRole('button', { name: label, exact: true }).click();
    const dialog = page.getByRole('dialog');
    for (const [name, value] of Object.entries(fill)) await dialog.locator(`[name=${name}]`).fill(value);
    await dialog.locator('button[type=submit]').click();
    await dialog.getByText(/accepted/).waitFor(WAIT);
    await expect(dialog.getByText(/refused/).count()).resolves.toBe(0);
    await dialog.getByRole('button', { name: 'Close' }).click();
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ks = await startKeystone();
    await ks.createRole('service');
    for (const p of ['service', 'proj-a']) await ks.createProject(p);
    await ks.createUser('anvil', 'anvil-service-pw', { project: 'service', roles: ['service'] });
    await ks.createUser('a-member', PW, { project: 'proj-a', roles: ['member'] });
    adminToken = await ks.token('admin', ks.adminPassword, { system: true });
    const memberToken = await ks.token('a-member', PW, { project: 'proj-a' });
    const r = await fetch(`${ks.authUrl}/auth/tokens`, { headers: { 'X-Auth-Token': adminToken, 'X-Subject-Token': memberToken } });
    projectA = ((await r.json()) as { token: { project: { id: string } } }).token.project.id;

    dataDir = mkdtempSync(path.join(os.tmpdir(), 'anvil-console-e2e-'));
    const config = defaultConfig(dataDir);
    config.api.port = await freeTcpPort();
    config.auth.strategy = 'keystone';
    Object.assign(config.auth.keystone, { authUrl: ks.authUrl, username: 'anvil', password: 'anvil-service-pw', projectName: 'service' });
    Object.assign(config.conductor, { hostname: 'console-e2e', pollInterval: 0.1, powerSyncInterval: 0 });
    config.console.changeIntervalMs = 100;
    anvil = await startAllInOne(config, silentLogger);

    // A small fleet in a few states, some of it project A's.
    const seeded: string[] = [];
    for (let i = 0; i < 12; i++) {
      const n = await rest('POST', '/v1/nodes', { driver: 'fake-hardware', name: `rack1-node${String(i + 1).padStart(2, '0')}`, resource_class: 'baremetal', owner: i % 3 === 0 ? projectA : undefined });
      seeded.push(n.uuid);
    }
    for (const u of seeded.slice(0, 9)) await rest('PUT', `/v1/nodes/${u}/states/provision`, { target: 'manage' });
    for (const u of seeded.slice(0, 9)) await reach(u, 'manageable');
    for (const u of seeded.slice(0, 7)) await rest('PUT', `/v1/nodes/${u}/states/provision`, { target: 'provide' });
    for (const u of seeded.slice(0, 7)) await reach(u, 'available');
    for (const u of seeded.slice(0, 4)) {
      await rest('PATCH', `/v1/nodes/${u}`, [{ op: 'add', path: '/instance_info/image_source', value: 'http://127.0.0.1:8080/images/worker.qcow2' }]);
      await rest('PUT', `/v1/nodes/${u}/states/provision`, { target: 'active' });
    }
    for (const u of seeded.slice(0, 4)) await reach(u, 'active');
    await rest('PUT', `/v1/nodes/${seeded[5]}/maintenance`, { reason: 'fan replaced, waiting for burn-in' });

    browser = await launchBrowser();
    page = await browser.context.newPage();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await anvil?.stop();
    await ks?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (!KEEP_SHOTS) rmSync(SHOTS, { recursive: true, force: true });
  }, 120_000);

  it('signs the system admin in with Keystone and shows the whole fleet', async () => {
    await page.goto(`${anvil.apiUrl}/console/`);
    await page.getByLabel('Sign in').waitFor(WAIT);
    await shot('sign-in');
    await signIn('admin', ks.adminPassword);
    await expect(page.locator('[data-testid=who]').textContent()).resolves.toContain('admin');
    await page.getByText('12 nodes').waitFor(WAIT);
    await page.locator('.row[data-state=active]').first().waitFor(WAIT);
    await shot('fleet');
  });

  it('enrolls a node from the form, and watches it go to active live', async () => {
    await page.evaluate(() => ((window as any).__sameDocument = true));
    await page.getByRole('link', { name: 'Enroll' }).click();
    const form = page.getByLabel('Enroll a node');
    await form.locator('[name=name]').fill('web-1');
    await form.locator('[name=driver]').selectOption('fake-hardware');
    await form.locator('[name=macs]').fill('52:54:00:aa:00:01');
    await form.locator('[name=resource_class]').fill('baremetal');
    await shot('enroll');
    await form.getByRole('button', { name: 'Enroll' }).click();

    const state = page.locator('[data-testid=node-state]');
    await page.locator('.node-page').waitFor(WAIT);
    await expect(state.textContent()).resolves.toBe('enroll');
    await act('.node-page .actions', 'Manage');
    await page.locator('[data-testid=node-state]', { hasText: 'manageable' }).waitFor(WAIT);
    await act('.node-page .actions', 'Provide');
    await page.locator('[data-testid=node-state]', { hasText: 'available' }).waitFor(WAIT);
    expect(await page.locator('table.small').first().textContent()).toContain('52:54:00:aa:00:01');

    // Deploy from the fleet view's selection, and see the row change in place.
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByLabel('Search').fill('web-1');
    await page.getByText('1 nodes').waitFor(WAIT);
    await page.getByLabel('select web-1').check();
    await act('[aria-label="Bulk actions"]', 'Deploy', { image_source: 'http://127.0.0.1:8080/images/worker.qcow2', configdrive: '#cloud-config\nhostname: web-1\n' });
    await page.locator('.row[data-state=active]', { hasText: 'web-1' }).waitFor(WAIT);
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    await page.getByLabel('Search').fill('');
    await page.getByText('13 nodes').waitFor(WAIT);

    await page.getByRole('link', { name: 'web-1' }).click();
    await page.locator('[data-testid=node-state]', { hasText: 'active' }).waitFor(WAIT);
    await expect(page.locator('[data-testid=timeline]').textContent()).resolves.toMatch(/active/i);
    await shot('node');
  });

  it("shows a failure's last_error as it happens", async () => {
    const closed = await freeTcpPort();
    await page.getByRole('link', { name: 'Enroll' }).click();
    const form = page.getByLabel('Enroll a node');
    await form.locator('[name=name]').fill('bad-bmc');
    await form.locator('[name=driver]').selectOption('redfish');
    await form.locator('[name=bmc_address]').fill(`http://127.0.0.1:${closed}`);
    await form.locator('[name=system_id]').fill('/redfish/v1/Systems/1');
    await form.locator('[name=bmc_username]').fill('root');
    await form.locator('[name=bmc_password]').fill('calvin');
    await form.getByRole('button', { name: 'Enroll' }).click();
    await page.locator('.node-page').waitFor(WAIT);
    await act('.node-page .actions', 'Manage');
    const error = page.locator('[data-testid=last-error]');
    await error.waitFor(WAIT);
    expect(await error.textContent()).toMatch(new RegExp(`127\\.0\\.0\\.1:${closed}`));
    expect(await error.textContent()).not.toContain('calvin');
    await shot('node-error');

    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByLabel('with errors').check();
    await page.getByText('1 nodes').waitFor(WAIT);
    await expect(page.locator('.row[data-uuid] .c-error').first().textContent()).resolves.toMatch(/127\.0\.0\.1/);
    await page.getByLabel('with errors').uncheck();
  });

  it('enrolls an uploaded CSV inventory, leaving a node that exists alone', async () => {
    await page.getByRole('link', { name: 'Enroll' }).click();
    const csv = [
      'name,driver,macs,resource_class',
      'rack2-node01,fake-hardware,52:54:00:bb:00:01,baremetal',
      '"rack2-node02",fake-hardware,"52:54:00:bb:00:02 52:54:00:bb:00:03",baremetal',
      'rack1-node01,fake-hardware,,',
    ].join('\n');
    await page.getByLabel('Inventory file').setInputFiles({ name: 'rack2.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const preview = page.getByTestId('inventory-preview');
    await preview.waitFor(WAIT);
    await page.getByRole('button', { name: 'Enroll 3 nodes' }).click();
    await preview.getByText('exists already').waitFor(WAIT);
    await expect(preview.getByText('enrolled', { exact: true }).count()).resolves.toBe(2);
    await shot('enroll-upload');
    const ports = await rest('GET', '/v1/nodes/rack2-node02/ports');
    expect(ports.ports.map((p: { address: string }) => p.address).sort()).toEqual(['52:54:00:bb:00:02', '52:54:00:bb:00:03']);
  });

  it('draws the fleet picture', async () => {
    await page.getByRole('link', { name: 'Picture' }).click();
    await page.getByText(/Deploy durations \(5 deploys/).waitFor(WAIT);
    await page.getByText('Failures by reason').waitFor(WAIT);
    await shot('picture');
  });

  it('shows a project member only its own nodes', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn('a-member', PW, 'proj-a');
    await expect(page.locator('[data-testid=who]').textContent()).resolves.toContain('project proj-a');
    await page.getByText('4 nodes').waitFor(WAIT);
    const names = await page.locator('.row[data-uuid] .c-name').allTextContents();
    expect(names.sort()).toEqual(['rack1-node01', 'rack1-node04', 'rack1-node07', 'rack1-node10']);
    await shot('fleet-project-member');
    // Another project's node is not found, not shown.
    const other = (await rest('GET', '/v1/nodes/web-1')).uuid;
    await page.goto(`${anvil.apiUrl}/console/#/nodes/${other}`);
    await page.getByText(/could not be found/).waitFor(WAIT);
  });
});
