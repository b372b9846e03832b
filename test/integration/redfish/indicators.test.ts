// /v1/nodes/{ident}/management/indicators (1.63) through the API and a conductor, on SQLite and
// PostgreSQL: a redfish node's system LED (IndicatorLED) and chassis LED (LocationIndicatorActive)
// on the simulated BMC, read and set, the BMC's resources read back; a fake node's LEDs; bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { startOobHarness, type OobHarness } from './oob-harness.ts';

describe.each(BACKENDS)('indicators on %s', (backend) => {
  let h: OobHarness;
  beforeAll(async () => { h = await startOobHarness(backend, 'indicators', { systems: 1 }); });
  afterAll(async () => { await h.close(); });
  const call = (method: string, url: string, body?: unknown) => h.call(method, url, body, '1.63');
  const fault = (r: { body: any }) => JSON.parse(r.body.error_message).faultstring as string;

  it('lists, reads and sets a redfish node\'s system and chassis LEDs on the BMC', async () => {
    const node = await createNode(h.t.db.knex, { driver: 'redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'manageable', driver_info: h.driverInfo(0) });
    const bmc = async (path: string) => (await fetch(`${h.sim.url}${path}`, { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } })).json() as Promise<any>;
    const system = await bmc('/redfish/v1/Systems');
    const systemPath = system.Members[0]['@odata.id'] as string;
    const systemId = (await bmc(systemPath)).Id as string;
    const chassisPath = (await bmc(systemPath)).Links.Chassis[0]['@odata.id'] as string;
    const chassisId = (await bmc(chassisPath)).Id as string;

    const list = await call('GET', `/v1/nodes/${node.uuid}/management/indicators`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.indicators).toEqual([
      { name: `${systemId}@system`, component: 'system', readonly: false, states: ['BLINKING', 'OFF', 'ON'], links: expect.any(Array) },
      { name: `${chassisId}@chassis`, component: 'chassis', readonly: false, states: ['OFF', 'ON'], links: expect.any(Array) },
    ]);
    expect(list.body.indicators[0].links[0].href).toMatch(new RegExp(`/v1/nodes/${node.uuid}/management/indicators/${systemId}@system$`));
    expect((await call('GET', `/v1/nodes/${node.uuid}/management/indicators/${systemId}@system`)).body).toEqual({ state: 'OFF' });

    expect((await call('PUT', `/v1/nodes/${node.uuid}/management/indicators/${systemId}@system`, { state: 'BLINKING' })).status).toBe(204);
    expect((await bmc(systemPath)).IndicatorLED).toBe('Blinking');
    expect((await call('GET', `/v1/nodes/${node.uuid}/management/indicators/${systemId}@system`)).body).toEqual({ state: 'BLINKING' });
    expect((await call('PUT', `/v1/nodes/${node.uuid}/management/indicators/${chassisId}@chassis`, { state: 'ON' })).status).toBe(204);
    expect((await bmc(chassisPath)).LocationIndicatorActive).toBe(true);
    expect((await call('GET', `/v1/nodes/${node.uuid}/management/indicators/${chassisId}@chassis`)).body).toEqual({ state: 'ON' });

    const blink = await call('PUT', `/v1/nodes/${node.uuid}/management/indicators/${chassisId}@chassis`, { state: 'BLINKING' });
    expect(blink.status).toBe(400);
    expect(fault(blink)).toBe(`Indicator ${chassisId}@chassis of node ${node.uuid} cannot be BLINKING; it can be OFF, ON`);
    const missing = await call('GET', `/v1/nodes/${node.uuid}/management/indicators/nope@system`);
    expect(fault(missing)).toContain(`has no indicator nope@system`);
  });

  it('serves a fake node\'s LEDs, and refuses malformed names, unknown components and states, and older versions', async () => {
    const node = await createNode(h.t.db.knex, { driver: 'fake-hardware', provision_state: 'manageable' });
    const base = `/v1/nodes/${node.uuid}/management/indicators`;
    expect((await call('GET', base)).body.indicators.map((i: { name: string; readonly: boolean }) => [i.name, i.readonly])).toEqual([['led@system', false], ['led@chassis', true]]);
    expect((await call('GET', `${base}/led@system`)).body).toEqual({ state: 'OFF' });
    expect((await call('PUT', `${base}/led@system`, { state: 'ON' })).status).toBe(204);
    expect((await call('GET', `${base}/led@system`)).body).toEqual({ state: 'ON' });
    expect(fault(await call('PUT', `${base}/led@chassis`, { state: 'ON' }))).toContain('is read-only');
    expect(fault(await call('GET', `${base}/led`))).toBe('Malformed indicator name "led"');
    expect(fault(await call('GET', `${base}/led@rack`))).toBe('Invalid indicator component "rack": use one of system, chassis, disk, power, nic');
    expect(fault(await call('PUT', `${base}/led@system`, { state: 'GLOWING' }))).toBe('Invalid indicator state "GLOWING": use one of ON, OFF, BLINKING, UNKNOWN');
    expect((await h.call('GET', base, undefined, '1.62')).status).toBe(404);
  });
});
