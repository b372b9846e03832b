// The switch network interface on fake hardware and fake switches, on both back ends: a node with
// a bond spanning two switches is cleaned on the cleaning VLAN, deploys through the provisioning
// VLAN onto its tenant VLAN (an LACP bond on each switch), goes back to the cleaning VLAN when torn
// down; a port without local_link_connection fails validation, naming the port; a switch that
// rejects a change fails the deploy naming the switch and port, and the other switch is put back.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createNetwork, createAttachment, type NetworkRecord } from '../../../db/networks.ts';
import { createPortgroup } from '../../../db/portgroups.ts';
import { createPort } from '../../../db/ports.ts';
import { FAKE_SWITCHES, fakePortView } from '../../../drivers/switch/fake.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { fakeNode, history, requestProvision, testConfig, untilState } from '../conductor/helpers.ts';

describe.each(BACKENDS)('switch network interface (%s)', (backend) => {
  let t: TestDatabase;
  let conductor: Conductor;
  const nets: Record<string, NetworkRecord> = {};

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    for (const [name, kind, vlan] of [['prov', 'provisioning', 100], ['clean', 'cleaning', 110], ['ten-a', 'tenant', 201], ['ten-b', 'tenant', 202]] as const) {
      nets[name] = await createNetwork(t.db.knex, { name, kind, vlan_id: vlan });
    }
    const config = testConfig(`sw-${backend}`);
    config.network = {
      provisioningNetwork: 'prov',
      cleaningNetwork: 'clean',
      switches: {
        leafA: { driver: 'fake' },
        leafB: { driver: 'fake', switchId: 'AA:BB:CC:00:00:02' },
        leafBad: { driver: 'fake', failPorts: ['bad1'] },
        leafNo202: { driver: 'fake', failVlans: [202] },
      },
    };
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
  });
  afterAll(async () => {
    await conductor?.stop();
    await t?.drop();
  });
  beforeEach(() => FAKE_SWITCHES.clear());

  async function toAvailable(nodeId: number) {
    const node = { id: nodeId } as never;
    await requestProvision(t.db, node, 'manage');
    await untilState(t.db, nodeId, 'manageable');
    await requestProvision(t.db, node, 'provide');
    return untilState(t.db, nodeId, ['available', 'clean failed']);
  }

  it('cleans on the cleaning VLAN, deploys via the provisioning VLAN to an LACP bond on the tenant VLAN, and goes back when torn down', async () => {
    const node = await fakeNode(t.db, { network_interface: 'switch' });
    const pg = await createPortgroup(t.db.knex, { node_id: node.id, name: `bond-${backend}`, mode: '802.3ad' });
    await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:01', portgroup_id: pg.id, local_link_connection: { switch_info: 'leafA', port_id: 'eth1' } });
    await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:02', portgroup_id: pg.id, local_link_connection: { switch_id: 'aa:bb:cc:00:00:02', port_id: 'eth1' } });
    await createAttachment(t.db.knex, { node_id: node.id, network_id: nets['ten-a'].id, port_id: null, portgroup_id: pg.id, address: null });

    expect((await toAvailable(node.id)).provision_state).toBe('available');
    expect([fakePortView('leafA', 'eth1'), fakePortView('leafB', 'eth1')]).toEqual(['access VLAN 110', 'access VLAN 110']);

    await requestProvision(t.db, node, 'active');
    const active = await untilState(t.db, node.id, ['active', 'deploy failed']);
    expect(active.last_error).toBeNull();
    expect(active.provision_state).toBe('active');
    const bond = `lacp bond bond-${backend}: access VLAN 201`;
    expect([fakePortView('leafA', 'eth1'), fakePortView('leafB', 'eth1')]).toEqual([bond, bond]);
    const lines = (await history(t.db, node.id)).map((h) => h.event);
    const prov = lines.findIndex((l) => l.startsWith('Switch ports on the provisioning network prov'));
    const tenant = lines.findIndex((l) => l.startsWith('Switch ports on the tenant networks'));
    expect(prov).toBeGreaterThan(-1);
    expect(tenant).toBeGreaterThan(prov);
    expect(lines[prov]).toContain('leafA eth1 access VLAN 100');

    await requestProvision(t.db, node, 'deleted');
    expect((await untilState(t.db, node.id, ['available', 'clean failed'])).provision_state).toBe('available');
    expect([fakePortView('leafA', 'eth1'), fakePortView('leafB', 'eth1')]).toEqual(['access VLAN 110', 'access VLAN 110']);
    expect(FAKE_SWITCHES.get('leafA')!.bonds.size).toBe(0);
  });

  it('refuses a port without local_link_connection, naming it', async () => {
    const node = await fakeNode(t.db, { network_interface: 'switch' });
    const port = await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:03' });
    const failed = await toAvailable(node.id);
    expect(failed.provision_state).toBe('clean failed');
    expect(failed.last_error).toContain(`Port ${port.uuid} (52:54:00:10:00:03) has no local_link_connection`);
  });

  it('fails a deploy naming the switch and port that refused, and puts the other switch back', async () => {
    const node = await fakeNode(t.db, { network_interface: 'switch' });
    await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:06', local_link_connection: { switch_info: 'leafA', port_id: 'eth6' } });
    const picky = await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:07', local_link_connection: { switch_info: 'leafNo202', port_id: 'eth7' } });
    const first = await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:08', local_link_connection: { switch_info: 'leafA', port_id: 'eth8' } });
    await createAttachment(t.db.knex, { node_id: node.id, network_id: nets['ten-a'].id, port_id: first.id, portgroup_id: null, address: null });
    await createAttachment(t.db.knex, { node_id: node.id, network_id: nets['ten-b'].id, port_id: picky.id, portgroup_id: null, address: null });
    expect((await toAvailable(node.id)).provision_state).toBe('available');
    await requestProvision(t.db, node, 'active');
    const failed = await untilState(t.db, node.id, ['active', 'deploy failed']);
    expect(failed.provision_state).toBe('deploy failed');
    expect(failed.last_error).toContain('Moving the switch ports to the tenant networks failed: switch leafNo202 port eth7: rejected VLAN 202');
    expect(failed.last_error).toContain('leafA put back');
    // leafA is back on what was applied before the tenant move: the provisioning VLAN; leafNo202 never changed.
    expect([fakePortView('leafA', 'eth6'), fakePortView('leafA', 'eth8'), fakePortView('leafNo202', 'eth7')]).toEqual(['access VLAN 100', 'access VLAN 100', 'access VLAN 100']);
  });

  it('fails cleaning naming the switch that refused; a switch with nothing known before is parked on the isolation VLAN', async () => {
    const node = await fakeNode(t.db, { network_interface: 'switch' });
    await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:04', local_link_connection: { switch_info: 'leafA', port_id: 'eth4' } });
    const bad = await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:10:00:05', local_link_connection: { switch_info: 'leafBad', port_id: 'bad1' } });
    await createAttachment(t.db.knex, { node_id: node.id, network_id: nets['ten-b'].id, port_id: bad.id, portgroup_id: null, address: null });
    // Cleaning already fails on leafBad; it leaves leafA as it found it (nothing known before: isolated).
    const cleaned = await toAvailable(node.id);
    expect(cleaned.provision_state).toBe('clean failed');
    expect(cleaned.last_error).toContain('switch leafBad port bad1: rejected the change');
    expect(cleaned.last_error).toContain('leafA put back');
    expect(fakePortView('leafA', 'eth4')).toBe('access VLAN 4094');
    expect(fakePortView('leafBad', 'bad1')).toBeUndefined();
  });
});
