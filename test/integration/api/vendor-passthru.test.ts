// Vendor passthru as the API lists it: an ipmi node's methods (the ipmitool vendor interface's
// send_raw and bmc_reset; they run against BMCs in test/integration/ipmi/driver.test.ts) and the
// drivers' vendor passthru, which no hardware type has methods for, as in Ironic. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConductor } from '../../../db/conductors.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { createNode, fault, startHarness, type ApiHarness } from './harness.ts';

describe.each(BACKENDS)('vendor passthru on %s', (backend) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startHarness(backend);
    await registerConductor(h.t.db.knex, 'c-ipmi', '', ['ipmi', 'redfish']);
  });
  afterAll(async () => { await h.close(); });

  it('lists the ipmitool vendor interface\'s methods of an ipmi node, and refuses a call with no method or an unknown one', async () => {
    const node = await createNode(h, { driver: 'ipmi', driver_info: { ipmi_address: '192.0.2.9', ipmi_username: 'u', ipmi_password: 'p' } });
    expect(node.vendor_interface).toBe('ipmitool');
    const methods = await h.call('GET', `/v1/nodes/${node.uuid}/vendor_passthru/methods`);
    expect(methods.status).toBe(200);
    expect(methods.body).toEqual({
      send_raw: { http_methods: ['POST'], async: false, description: expect.stringContaining('raw IPMI request'), attach: false, require_exclusive_lock: true },
      bmc_reset: { http_methods: ['POST'], async: false, description: expect.stringContaining('Resets the BMC'), attach: false, require_exclusive_lock: true },
    });
    expect(fault(await h.call('POST', `/v1/nodes/${node.uuid}/vendor_passthru`, {}))).toBe('Method not specified');
    expect(fault(await h.call('POST', `/v1/nodes/${node.uuid}/vendor_passthru?method=send_raw`, {}))).toContain('needs argument "raw_bytes"');
    expect(fault(await h.call('GET', `/v1/nodes/${node.uuid}/vendor_passthru?method=bmc_reset`))).toContain('does not support HTTP GET');
  });

  it('serves the drivers\' vendor passthru: no methods, a call names the method it lacks', async () => {
    const methods = await h.call('GET', '/v1/drivers/ipmi/vendor_passthru/methods');
    expect(methods.status).toBe(200);
    expect(methods.body).toEqual({});
    const call = await h.call('POST', '/v1/drivers/redfish/vendor_passthru?method=lookup', {});
    expect(call.status).toBe(400);
    expect(fault(call)).toBe('No handler for method lookup: the redfish vendor interface of driver redfish has no driver vendor passthru methods');
    expect(fault(await h.call('GET', '/v1/drivers/ipmi/vendor_passthru'))).toBe('Method not specified');
    expect((await h.call('GET', '/v1/drivers/no-such/vendor_passthru/methods')).status).toBe(404);
    expect((await h.call('POST', '/v1/drivers/no-such/vendor_passthru?method=x', {})).status).toBe(404);
  });
});
