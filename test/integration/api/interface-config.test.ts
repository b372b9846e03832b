// The interfaces configuration (Ironic's enabled_<iface>_interfaces and default_<iface>_interface):
// GET /v1/drivers?detail shows each hardware type's enabled lists and defaults as configured; a node
// created or patched with a disabled implementation is a 400; a removed interface falls back to the
// configured default; a hardware type left with nothing enabled is not served; the fake console starts
// and stops at once with an empty console_info, as Ironic's. SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { checkInterfaceConfig } from '../../../drivers/registry.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { eventually } from '../conductor/helpers.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('enabled and default interfaces (%s)', (backend) => {
  let h: ApiHarness;
  let conductor: Conductor;

  beforeAll(async () => {
    h = await startHarness(backend, {
      conductorRow: false,
      configure: (c) => {
        c.interfaces.enabled = { console: ['fake', 'no-console'], raid: ['no-raid', 'fake'], power: ['fake', 'redfish', 'ipmitool'] };
        c.interfaces.default = { console: 'fake', raid: 'fake' };
      },
    });
    conductor = new Conductor({ db: h.t.db, config: h.config, logger: silentLogger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor?.stop();
    await h?.close();
  });

  it('lists the enabled implementations and the defaults of each served hardware type', async () => {
    const detail = await h.call('GET', '/v1/drivers?detail=true');
    const byName = Object.fromEntries(detail.body.drivers.map((d: any) => [d.name, d]));
    expect(byName['fake-hardware']).toMatchObject({
      default_console_interface: 'fake', enabled_console_interfaces: ['fake', 'no-console'],
      default_raid_interface: 'fake', enabled_raid_interfaces: ['fake', 'no-raid'],
      default_power_interface: 'fake', default_bios_interface: 'no-bios',
    });
    // ipmi has no fake console: its default is its first enabled one.
    expect(byName.ipmi).toMatchObject({ default_console_interface: 'no-console', enabled_console_interfaces: ['no-console'], default_raid_interface: 'no-raid' });
    expect(byName.ipmi.enabled_power_interfaces).toEqual(['ipmitool']);
    // idrac keeps plain Redfish power; ovirt's only power interface is not enabled, so it is not served.
    expect(byName.idrac.enabled_power_interfaces).toEqual(['redfish']);
    expect(Object.keys(byName)).not.toContain('ovirt');
    expect((await h.call('GET', '/v1/drivers/ovirt')).status).toBe(404);
    expect((await h.call('GET', '/v1/drivers/ipmi')).body.default_console_interface).toBe('no-console');
  });

  it('gives new nodes the configured defaults and refuses disabled implementations', async () => {
    const node = await createNode(h);
    expect(node).toMatchObject({ console_interface: 'fake', raid_interface: 'fake', bios_interface: 'no-bios' });
    const refused = await h.call('POST', '/v1/nodes', { driver: 'fake-hardware', console_interface: 'ipmitool-socat' });
    expect(refused.status, refused.raw).toBe(400);
    expect(fault(refused)).toContain('The console interface "ipmitool-socat" is not enabled (interfaces.enabled.console); enabled for hardware type "fake-hardware": fake, no-console');
    const patched = await h.call('PATCH', `/v1/nodes/${node.uuid}`, [{ op: 'replace', path: '/console_interface', value: 'ipmitool-socat' }]);
    expect(patched.status, patched.raw).toBe(400);
    expect(fault(patched)).toContain('is not enabled');
    // A removed interface goes back to the configured default.
    await h.call('PATCH', `/v1/nodes/${node.uuid}`, [{ op: 'replace', path: '/console_interface', value: 'no-console' }]);
    const removed = await h.call('PATCH', `/v1/nodes/${node.uuid}`, [{ op: 'remove', path: '/console_interface' }]);
    expect(removed.body.console_interface).toBe('fake');
    // A new driver resets the interfaces to its own defaults.
    const moved = await h.call('PATCH', `/v1/nodes/${node.uuid}?reset_interfaces=true`, [{ op: 'replace', path: '/driver', value: 'ipmi' }]);
    expect(moved.status, moved.raw).toBe(200);
    expect(moved.body).toMatchObject({ console_interface: 'no-console', raid_interface: 'no-raid', power_interface: 'ipmitool' });
  });

  it('starts and stops the fake console, with an empty console_info', async () => {
    const node = await createNode(h);
    expect((await h.call('PUT', `/v1/nodes/${node.uuid}/states/console`, { enabled: true })).status).toBe(202);
    const on = await eventually(async () => {
      const r = await h.call('GET', `/v1/nodes/${node.uuid}/states/console`);
      return r.body.console_enabled ? r.body : undefined;
    }, 20_000, 'the fake console enabled');
    expect(on).toEqual({ console_enabled: true, console_info: {} });
    // Also where Ironic's states sub-controller serves it.
    expect((await h.call('GET', `/v1/nodes/states/console/${node.uuid}`)).body).toEqual(on);
    expect((await h.call('PUT', `/v1/nodes/states/console/${node.uuid}`, { enabled: false })).status).toBe(202);
    await eventually(async () => !(await h.call('GET', `/v1/nodes/${node.uuid}/states/console`)).body.console_enabled, 20_000, 'the fake console disabled');
    const events = (await h.call('GET', `/v1/nodes/${node.uuid}/history`)).raw;
    expect(events).toContain('Console enabled (fake)');
    expect(events).toContain('Console disabled');
  });

  it('refuses a configuration naming an interface or implementation Anvil lacks', () => {
    const check = (change: (c: ReturnType<typeof defaultConfig>['interfaces']) => void) => {
      const c = defaultConfig().interfaces;
      change(c);
      return () => checkInterfaceConfig(c);
    };
    expect(check(() => undefined)).not.toThrow();
    expect(check((c) => { c.enabled.consol = ['fake']; })).toThrow('interfaces.enabled.consol: no such interface');
    expect(check((c) => { c.enabled.console = ['shellinabox']; })).toThrow('interfaces.enabled.console: no console interface named shellinabox');
    expect(check((c) => { c.enabled.console = []; })).toThrow('must be a non-empty list');
    expect(check((c) => { c.default.console = 'fake'; c.enabled.console = ['no-console']; })).toThrow('interfaces.default.console is fake, which interfaces.enabled.console (no-console) does not enable');
    expect(check((c) => { c.default.raid = 'hardware'; })).toThrow('interfaces.default.raid: no raid interface named hardware');
  });
});
