// Tenant isolation on a real Open vSwitch, on both back ends, through each switch driver: OVSDB
// (`ovs`) and the SSH CLI driver's ovs dialect (`ssh`: ovs-vsctl over Debian's sshd on
// 127.0.0.1). Three fake-hardware nodes whose ports are OVS ports (veth pairs into network
// namespaces). While available they all sit on the cleaning VLAN and reach each other; tenant A
// deploys two nodes and tenant B one, and then A's two reach each other while B's reaches neither
// (real traffic: busybox ping); undeploy puts the ports back on the cleaning VLAN. A port group of
// 802.3ad becomes an OVS LACP bond. A switch that cannot be reached fails the deploy naming it, and
// the other switch is put back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createAttachment, createNetwork, type NetworkRecord } from '../../../db/networks.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { createPortgroup } from '../../../db/portgroups.ts';
import { createPort } from '../../../db/ports.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';
import { freeTcpPort } from '../../helpers/ports.ts';
import { startSshd, type TestSshd } from '../../helpers/sshd.ts';
import { fakeNode, requestProvision, testConfig, untilState } from '../conductor/helpers.ts';

/** Each switch driver's configuration of the working switch and of one that cannot be reached, and how its failure reads. */
const DRIVERS = {
  async ovs(ovs: TestOvs, br: string) {
    return {
      leaf: { driver: 'ovs', socket: ovs.socket, bridge: br },
      dead: { driver: 'ovs', socket: `unix:${ovs.dir}/gone.sock`, bridge: br, timeout: 2 },
      deadError: /switch zz-dead: \(ovs at unix:.*gone.sock.*\) changing eth9, nothing changed: cannot reach OVSDB/,
      stop: async () => undefined,
    };
  },
  async ssh(ovs: TestOvs, br: string) {
    const sshd: TestSshd = await startSshd();
    const login = { driver: 'ssh', dialect: 'ovs', host: '127.0.0.1', username: 'root', privateKeyFile: sshd.keyFile, hostKeySha256: sshd.hostKeySha256, bridge: br };
    return {
      leaf: { ...login, port: sshd.port, vsctl: `ovs-vsctl --db=${ovs.socket}`, timeout: 20 },
      // A port nothing listens on.
      dead: { ...login, port: await freeTcpPort(), timeout: 2 },
      deadError: /switch zz-dead: \(ssh ovs at 127.0.0.1\) SSH to root@127.0.0.1:\d+ failed: connect ECONNREFUSED/,
      stop: () => sshd.stop(),
    };
  },
};

const CASES = BACKENDS.flatMap((backend) => (Object.keys(DRIVERS) as (keyof typeof DRIVERS)[]).map((driver) => [backend, driver] as const));

describe.each(CASES)('tenant isolation on Open vSwitch (%s, %s driver)', (backend, driver) => {
  let t: TestDatabase;
  let ovs: TestOvs;
  let conductor: Conductor;
  let br: string;
  let switches: Awaited<ReturnType<(typeof DRIVERS)[keyof typeof DRIVERS]>>;
  const nets: Record<string, NetworkRecord> = {};
  const nodes: Record<string, NodeRecord> = {};
  const port = (n: string) => `nt${ovs.tag}${n}`;
  const ns = (n: string) => `nt${ovs.tag}n${n}`;
  const ip: Record<string, string> = { a1: '10.88.0.1', a2: '10.88.0.2', b1: '10.88.0.3' };
  const tag = async (p: string) => (await ovs.vsctl('get', 'port', p, 'tag')).trim();

  async function provision(node: NodeRecord, verb: string, state: string) {
    await requestProvision(t.db, node, verb);
    const n = await untilState(t.db, node.id, [state, 'deploy failed', 'clean failed'], 60_000);
    return n;
  }

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    ovs = await startOvs();
    br = `nt${ovs.tag}br`;
    await ovs.addBridge(br);
    for (const n of ['a1', 'a2', 'b1']) await ovs.addHost(ns(n), port(n), br, `${ip[n]}/24`);
    for (const n of ['c1', 'c2']) await ovs.addHost(ns(n), port(n), br);
    for (const [name, kind, vlan, owner] of [['prov', 'provisioning', 100, null], ['clean', 'cleaning', 110, null], ['ten-a', 'tenant', 201, 'proj-a'], ['ten-b', 'tenant', 202, 'proj-b']] as const) {
      nets[name] = await createNetwork(t.db.knex, { name, kind, vlan_id: vlan, owner });
    }
    switches = await DRIVERS[driver](ovs, br);
    const config = testConfig(`${driver}-${backend}`);
    config.network = {
      provisioningNetwork: 'prov',
      cleaningNetwork: 'clean',
      switches: {
        leaf1: { ...switches.leaf, switchId: '52:54:00:aa:bb:01' },
        'zz-dead': switches.dead,
      },
    };
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
    for (const [n, owner, net] of [['a1', 'proj-a', 'ten-a'], ['a2', 'proj-a', 'ten-a'], ['b1', 'proj-b', 'ten-b']] as const) {
      const node = await fakeNode(t.db, { name: `${backend}-${n}`, network_interface: 'switch', owner });
      const p = await createPort(t.db.knex, { node_id: node.id, address: `52:54:00:88:00:0${Object.keys(ip).indexOf(n) + 1}`, local_link_connection: { switch_id: '52:54:00:AA:BB:01', port_id: port(n) } });
      await createAttachment(t.db.knex, { node_id: node.id, network_id: nets[net].id, port_id: p.id, portgroup_id: null, address: null });
      nodes[n] = node;
    }
  }, 120_000);
  afterAll(async () => {
    await conductor?.stop();
    await switches?.stop();
    await ovs?.stop();
    await t?.drop();
  });

  it('isolates tenant A\'s two nodes from tenant B\'s, and puts them back on the cleaning VLAN when undeployed', async () => {
    for (const n of Object.values(nodes)) {
      expect((await provision(n, 'manage', 'manageable')).provision_state).toBe('manageable');
      expect((await provision(n, 'provide', 'available')).provision_state).toBe('available');
    }
    expect([await tag(port('a1')), await tag(port('a2')), await tag(port('b1'))]).toEqual(['110', '110', '110']);
    // On the cleaning VLAN everyone reaches everyone: the isolation below is the switch's doing.
    expect(await ovs.ping(ns('b1'), ip.a1)).toBe(true);

    await Promise.all(Object.values(nodes).map((n) => requestProvision(t.db, n, 'active')));
    for (const n of Object.values(nodes)) {
      const done = await untilState(t.db, n.id, ['active', 'deploy failed'], 60_000);
      expect(done.last_error).toBeNull();
    }
    expect([await tag(port('a1')), await tag(port('a2')), await tag(port('b1'))]).toEqual(['201', '201', '202']);
    expect(await ovs.ping(ns('a1'), ip.a2)).toBe(true);
    expect(await ovs.ping(ns('a2'), ip.a1)).toBe(true);
    expect(await ovs.ping(ns('b1'), ip.a1, 3)).toBe(false);
    expect(await ovs.ping(ns('b1'), ip.a2, 3)).toBe(false);

    expect((await provision(nodes.a1, 'deleted', 'available')).provision_state).toBe('available');
    expect(await tag(port('a1'))).toBe('110');
    expect(await ovs.ping(ns('a1'), ip.a2, 3)).toBe(false);
    expect(await ovs.ping(ns('a2'), ip.a1, 3)).toBe(false);
  });

  it('makes a port group of 802.3ad an OVS LACP bond on the tenant VLAN, and undoes it on undeploy', async () => {
    const node = await fakeNode(t.db, { name: `${backend}-c`, network_interface: 'switch', owner: 'proj-a' });
    const pg = await createPortgroup(t.db.knex, { node_id: node.id, name: `nt${ovs.tag}bond`, mode: '802.3ad' });
    for (const [i, n] of ['c1', 'c2'].entries()) {
      await createPort(t.db.knex, { node_id: node.id, address: `52:54:00:88:01:0${i}`, portgroup_id: pg.id, local_link_connection: { switch_info: 'leaf1', port_id: port(n) } });
    }
    await createAttachment(t.db.knex, { node_id: node.id, network_id: nets['ten-a'].id, port_id: null, portgroup_id: pg.id, address: null });
    await provision(node, 'manage', 'manageable');
    expect((await provision(node, 'provide', 'available')).provision_state).toBe('available');
    expect((await provision(node, 'active', 'active')).provision_state).toBe('active');
    const bond = `nt${ovs.tag}bond`;
    expect([await ovs.vsctl('get', 'port', bond, 'lacp'), await ovs.vsctl('get', 'port', bond, 'bond_mode'), await tag(bond)]).toEqual(['active', 'balance-tcp', '201']);
    expect((await ovs.vsctl('get', 'port', bond, 'other_config')).trim()).toContain('lacp-fallback-ab="true"');
    expect((await ovs.vsctl('list-ifaces', br)).split('\n')).toEqual(expect.arrayContaining([port('c1'), port('c2')]));
    expect((await ovs.vsctl('list-ports', br)).split('\n')).not.toContain(port('c1'));

    expect((await provision(node, 'deleted', 'available')).provision_state).toBe('available');
    expect((await ovs.vsctl('list-ports', br)).split('\n')).not.toContain(bond);
    expect([await tag(port('c1')), await tag(port('c2'))]).toEqual(['110', '110']);
  });

  it('fails a deploy cleanly when a switch cannot be reached, naming it, and leaves the other switch as it was', async () => {
    const node = nodes.a1;
    await createPort(t.db.knex, { node_id: node.id, address: '52:54:00:88:02:01', local_link_connection: { switch_info: 'zz-dead', port_id: 'eth9' } });
    const failed = await provision(node, 'active', 'active');
    expect(failed.provision_state).toBe('deploy failed');
    expect(failed.last_error).toContain('Moving the switch ports to the provisioning network prov failed: switch zz-dead');
    expect(failed.last_error).toMatch(switches.deadError);
    expect(failed.last_error).toContain('leaf1 put back');
    expect(await tag(port('a1'))).toBe('110');
  });
});
