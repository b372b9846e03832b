// Ironic's own API conformance tests (ironic-tempest-plugin's `tests.api`, run by Debian's tempest)
// against a live Anvil on loopback: keystone auth against the real Keystone, whose catalog's
// `baremetal` endpoint is this Anvil, and a conductor serving fake-hardware on SQLite. Every test
// must pass but the ones docs/api-compatibility.md excludes, each by name with its reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { MAX_VERSION, MIN_VERSION, versionString } from '../../../services/api/version.ts';
import { startKeystone, type TestKeystone } from '../../helpers/keystone.ts';
import { excludedTempestTests, removeTempestWorkspace, runTempest, type TempestAccount, type TempestResult } from '../../helpers/tempest.ts';
import { startHarness, type ApiHarness } from './harness.ts';

describe('ironic-tempest-plugin API tests against Anvil (sqlite, keystone)', { timeout: 600_000 }, () => {
  let ks: TestKeystone;
  let h: ApiHarness;
  let conductor: Conductor;
  let result: TempestResult | undefined;
  const excluded = excludedTempestTests();
  const concurrency = 2;
  const accounts: TempestAccount[] = [];

  beforeAll(async () => {
    ks = await startKeystone();
    await ks.createRole('service');
    await ks.createProject('service');
    await ks.createUser('anvil', 'anvil-service-pw', { project: 'service', roles: ['service'] });
    // Each test class holds an `admin` and a `system_admin` account, tempest may hand a system admin out as
    // `admin` (it matches on the role only), and a worker may still hold a finished class's accounts while the
    // next class starts (seen: four classes holding at once with two workers): four of each kind per worker.
    for (let i = 1; i <= 4 * concurrency; i++) {
      const project = `tempest-${i}`;
      await ks.createProject(project);
      accounts.push({ username: `tempest-project-admin-${i}`, password: `tempest-pw-${i}`, project });
      accounts.push({ username: `tempest-system-admin-${i}`, password: `tempest-pw-${i}`, system: true });
    }
    for (const a of accounts) await ks.createUser(a.username, a.password, { project: a.project, system: a.system, roles: ['admin'] });
    h = await startHarness('sqlite', {
      conductorRow: false,
      configure: (c) => {
        c.auth.strategy = 'keystone';
        Object.assign(c.auth.keystone, { authUrl: ks.authUrl, username: 'anvil', password: 'anvil-service-pw', projectName: 'service' });
        // As Ironic's tempest job (devstack): the fake console is enabled, and fake-hardware's optional
        // interfaces default to their fake implementations (the reset_interfaces tests read them back).
        c.interfaces.enabled.console = ['fake', 'no-console', 'ipmitool-socat'];
        c.interfaces.default = { console: 'fake', raid: 'fake', vendor: 'fake' };
      },
    });
    conductor = new Conductor({ db: h.t.db, config: h.config, logger: silentLogger });
    await conductor.start();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    await ks.addEndpoint('baremetal', `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`);
  }, 240_000);
  afterAll(async () => {
    await conductor?.stop();
    await h?.close();
    await ks?.stop();
  });

  it('lists each excluded test once, with a reason', () => {
    const names = excluded.map((e) => e.test);
    expect(new Set(names).size).toBe(names.length);
    for (const e of excluded) expect(e.reason.trim(), e.test).not.toBe('');
  });

  it('passes every test of ironic_tempest_plugin.tests.api but the excluded ones', async () => {
    result = await runTempest({
      authUrl: ks.authUrl,
      accounts,
      microversions: [versionString(MIN_VERSION), versionString(MAX_VERSION)],
      excluded,
      concurrency,
    });
    const by = (status: string) => [...result!.statuses].filter(([, s]) => s === status).map(([n]) => n).sort();
    const failed = [...result.statuses].filter(([, s]) => s !== 'success' && s !== 'skip').map(([n, s]) => `${n}: ${s}`);
    expect(result.statuses.size, result.output.slice(-4000)).toBeGreaterThan(100);
    expect(failed, result.output.slice(-20000)).toEqual([]);
    // Nothing excluded ran, and every excluded test exists (a renamed one would leave a stale line).
    for (const e of excluded) {
      expect(result.statuses.has(e.test), e.test).toBe(false);
      expect(result.listed.has(e.test), e.test).toBe(true);
    }
    console.info(`tempest: ${result.statuses.size} ran, ${by('success').length} passed, ${by('skip').length} skipped by tempest (${by('skip').join(', ')}), ${excluded.length} excluded`);
    // Kept for reading (stestr last, tempest.log) when an assertion above failed.
    removeTempestWorkspace(result);
  });
});
