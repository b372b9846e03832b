// Inspection rules run by the conductor on SQLite and PostgreSQL: rules made through the API run
// on the agent's inventory posted to /v1/continue_inspection (in band) and on an out-of-band
// inspection's result; early before the hooks, main after, by priority; a `fail` action ends in
// `inspect failed` with its message; a rule that sets driver and driver_info from the discovered
// BMC address makes the node an IPMI node.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { inventoryOfNode } from '../../../db/inventory.ts';
import { getNodeById } from '../../../db/nodes.ts';
import { createPort, portsOfNode } from '../../../db/ports.ts';
import { traitsOfNode } from '../../../db/traits.ts';
import { lldpTlvs } from '../../../deploy-agent/inventory.ts';
import { fakeInspect } from '../../../drivers/fake/index.ts';
import { createApiServer } from '../../../services/api/server.ts';
import type { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { fakeNode, history, requestProvision, startConductor, testConfig, untilState } from './helpers.ts';

/** What the agent posts: an IPA inventory with a BMC address, and one NIC with its LLDP neighbour. */
function agentData(mac: string, bmc: string | null): Record<string, unknown> {
  return {
    inventory: {
      interfaces: [{ name: 'eth0', mac_address: mac, ipv4_address: '10.20.0.15', has_carrier: true, lldp: lldpTlvs('52:54:00:ff:00:01', 'Ethernet1/7', 'tor-7') }],
      cpu: { model_name: 'Xeon', count: 16, architecture: 'x86_64', flags: ['fpu', 'vmx', 'avx2'] },
      memory: { physical_mb: 65536, total: 65536 * 1024 * 1024 },
      disks: [{ name: '/dev/sda', size: 480 * 1024 ** 3, rotational: false, model: 'SSD' }],
      bmc_address: bmc,
      system_vendor: { manufacturer: 'Dell Inc.', product_name: 'PowerEdge R640', serial_number: 'S1' },
      boot: { current_boot_mode: 'uefi', pxe_interface: mac },
    },
    boot_interface: mac,
  };
}

describe.each(BACKENDS)('inspection rules in the conductor on %s', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  let app: FastifyInstance;
  let seq = 0;
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await app.inject({ method: method as 'GET', url, headers: { 'x-openstack-ironic-api-version': '1.96' }, payload: body as object });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  };
  const rule = async (body: Record<string, unknown>) => {
    const r = await api('POST', '/v1/inspection_rules', body);
    if (r.status !== 201) throw new Error(`rule refused: ${JSON.stringify(r.body)}`);
    return r.body.uuid as string;
  };

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    conductor = await startConductor(t.db, `rules-${backend}`);
    app = await createApiServer({ db: t.db, config: testConfig('rules-api'), logger: silentLogger });
  });
  afterAll(async () => {
    await app.close();
    await conductor.stop();
    await t.drop();
  });

  /** A node waiting for the agent's inventory, with its PXE port enrolled. */
  async function waitingNode() {
    const mac = `52:54:00:0a:0b:${(++seq).toString(16).padStart(2, '0')}`;
    const node = await fakeNode(t.db, { provision_state: 'inspect wait', inspect_interface: 'agent', power_interface: 'fake', management_interface: 'fake', boot_interface: 'fake', power_state: 'power on', name: `rules-${backend}-${seq}` });
    await createPort(t.db.knex, { node_id: node.id, address: mac });
    return { node, mac };
  }

  it('in band: sets driver and driver_info from inventory.bmc_address, traits, capabilities, ports and plugin data', async () => {
    await api('DELETE', '/v1/inspection_rules');
    const bmcRule = await rule({
      description: 'IPMI from the discovered BMC', priority: 100, sensitive: true,
      conditions: [{ op: '!is-empty', args: { value: '{inventory[bmc_address]}' } }, { op: 'contains', args: { value: '{inventory[system_vendor][manufacturer]}', regex: '(?i)dell' } }],
      actions: [
        { op: 'set-attribute', args: { path: '/driver', value: 'ipmi' } },
        { op: 'set-attribute', args: { path: '{item[path]}', value: '{item[value]}' }, loop: [
          { path: '/driver_info/ipmi_address', value: '{inventory[bmc_address]}' }, { path: '/driver_info/ipmi_username', value: 'root' }, { path: '/driver_info/ipmi_password', value: 'calvin' },
        ] },
      ],
    });
    // Lower priority: runs after the driver is set, and sees it.
    await rule({ priority: 10, conditions: [{ op: 'eq', args: { values: ['{node.driver}', 'ipmi'] } }], actions: [{ op: 'add-trait', args: { name: 'CUSTOM_IPMI' } }] });
    await rule({
      priority: 5,
      conditions: [{ op: 'contains', args: { value: '{inventory[cpu][flags]}', regex: "'vmx'" } }, { op: 'gt', args: { values: ['{inventory[memory][physical_mb]}', 32768] } }],
      actions: [
        { op: 'set-capability', args: { name: 'cpu_vt', value: 'true' } },
        { op: 'set-port-attribute', args: { port_id: '{item}', path: '/physical_network', value: 'physnet-{inventory[interfaces][0][name]}' }, loop: ['{inventory[boot][pxe_interface]}'] },
        { op: 'set-plugin-data', args: { path: 'rules.sorted', value: 'compute' } },
      ],
    });
    // Early: before the hooks, so the port's LLDP-derived local_link_connection is not there yet.
    await rule({ phase: 'early', actions: [{ op: 'set-plugin-data', args: { path: 'early.saw_llc', value: '{inventory[interfaces][0][name]}' } }, { op: 'set-attribute', args: { path: '/extra/early', value: true } }] });
    await rule({ phase: 'main', conditions: [{ op: 'is-true', args: { value: '{plugin_data[rules_never]}' } }], actions: [{ op: 'fail', args: { msg: 'never' } }] });

    const { node, mac } = await waitingNode();
    expect((await api('POST', '/v1/continue_inspection', agentData(mac, '192.0.2.40'))).status).toBe(202);
    const n = await untilState(t.db, node.id, 'manageable');
    expect(n.last_error).toBeNull();
    expect(n.driver).toBe('ipmi');
    expect(n.driver_info).toEqual({ ipmi_address: '192.0.2.40', ipmi_username: 'root', ipmi_password: 'calvin' });
    // The fake interfaces ipmi does not have are replaced by its defaults; agent inspection it has.
    expect(n.power_interface).toBe('ipmitool');
    expect(n.management_interface).toBe('ipmitool');
    expect(n.inspect_interface).toBe('agent');
    expect(n.properties).toMatchObject({ cpus: 16, memory_mb: 65536, cpu_arch: 'x86_64' });
    expect(String(n.properties.capabilities).split(',').sort()).toEqual(['boot_mode:uefi', 'cpu_vt:true']);
    expect(n.extra).toEqual({ early: true });
    expect(await traitsOfNode(t.db.knex, node.id)).toEqual(['CUSTOM_IPMI']);
    const [port] = await portsOfNode(t.db.knex, node.id);
    expect(port.physical_network).toBe('physnet-eth0');
    expect(port.local_link_connection).toEqual({ switch_id: '52:54:00:ff:00:01', port_id: 'Ethernet1/7', switch_info: 'tor-7' });
    const stored = await inventoryOfNode(t.db.knex, node.id);
    expect(stored!.plugin_data).toMatchObject({ boot_interface: mac, early: { saw_llc: 'eth0' }, rules: { sorted: 'compute' } });
    const events = (await history(t.db, node.id)).map((h) => h.event);
    expect(events.find((e) => e.includes(bmcRule))).toMatch(new RegExp(`^Inspection rules ${bmcRule}, \\S+, \\S+ \\(main phase\\) applied, changing driver_info, properties, driver, management_interface, power_interface, port ${mac}, traits$`));
    expect(events.find((e) => e.startsWith('Inspection rules ') && e.includes('(early phase)'))).toMatch(/changing extra$/);
    // A history line names what changed, never the values (the password is not in it).
    expect(events.join('\n')).not.toContain('calvin');
  });

  it('in band: a machine without a BMC address keeps its driver; a fail rule ends in inspect failed with its message', async () => {
    await api('DELETE', '/v1/inspection_rules');
    await rule({ priority: 50, conditions: [{ op: 'is-empty', args: { value: '{inventory[bmc_address]}' } }], actions: [{ op: 'add-trait', args: { name: 'CUSTOM_NO_BMC' } }] });
    const failRule = await rule({ priority: 1, description: 'small machines', conditions: [{ op: 'lt', args: { values: ['{inventory[memory][physical_mb]}', 131072] } }], actions: [{ op: 'fail', args: { msg: 'needs at least 128 GiB of memory' } }] });
    const { node, mac } = await waitingNode();
    await api('POST', '/v1/continue_inspection', agentData(mac, null));
    const n = await untilState(t.db, node.id, 'inspect failed');
    expect(n.last_error).toBe(`Inspection failed: inspection rule ${failRule} (small machines) failed the inspection: needs at least 128 GiB of memory`);
    expect(n.driver).toBe('fake-hardware');
    // The rule before the failing one was saved, as Ironic saves each action.
    expect(await traitsOfNode(t.db.knex, node.id)).toEqual(['CUSTOM_NO_BMC']);
  });

  it('in band: a rule that cannot run (a driver that does not exist) fails the inspection naming it', async () => {
    await api('DELETE', '/v1/inspection_rules');
    const bad = await rule({ actions: [{ op: 'set-attribute', args: { path: '/driver', value: 'no-such-driver' } }] });
    const { node, mac } = await waitingNode();
    await api('POST', '/v1/continue_inspection', agentData(mac, '192.0.2.41'));
    const n = await untilState(t.db, node.id, 'inspect failed');
    expect(n.last_error).toMatch(new RegExp(`^Inspection failed: Failed to apply inspection rule ${bad}: Cannot load specified driver: no-such-driver. Known hardware types: .*ipmi`));
  });

  it('out of band: rules run on the inspect interface\'s result too', async () => {
    await api('DELETE', '/v1/inspection_rules');
    await rule({ conditions: [{ op: 'matches', args: { value: '{inventory[system_vendor][product_name]}', regex: 'ProLiant.*' } }], actions: [{ op: 'set-attribute', args: { path: '/resource_class', value: 'hpe-{inventory[cpu][count]}c' } }] });
    const spy = vi.spyOn(fakeInspect, 'inspect').mockResolvedValueOnce({
      outcome: 'done', result: { properties: { cpus: 32 }, inventory: { cpu: { count: 32 }, system_vendor: { product_name: 'ProLiant DL380 Gen10' }, interfaces: [] }, plugin_data: {} },
    });
    try {
      const node = await fakeNode(t.db, { provision_state: 'manageable' });
      await requestProvision(t.db, node, 'inspect');
      const n = await untilState(t.db, node.id, 'manageable');
      expect(n.resource_class).toBe('hpe-32c');
      expect((await getNodeById(t.db.knex, node.id))!.properties.cpus).toBe(32);
    } finally {
      spy.mockRestore();
    }
  });
});
