// The SSH CLI switch driver's faults through the conductor, on SQLite and PostgreSQL: an available
// fake-hardware node with one port on an OVSDB switch (`a-ovs`) and one on an SSH switch (ovs
// dialect, Debian's sshd on 127.0.0.1, ovs-vsctl into the test's Open vSwitch) that fails: its key
// refused, a command it rejects (its ovs-vsctl cannot reach its database), or a database that stops
// answering mid-change (ovsdb-server frozen). Each deploy fails with last_error naming the SSH
// switch, `a-ovs` is put back (parked on the isolation VLAN: Anvil never set it before), and the
// failing switch's port holds nothing of the change, even once its database answers again: the
// switch's transaction log says so. (An SSH switch nothing listens on: ovs-isolation.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { createNetwork } from '../../../db/networks.ts';
import { createPort } from '../../../db/ports.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';
import { startSshd, type TestSshd } from '../../helpers/sshd.ts';
import { fakeNode, requestProvision, testConfig, untilState } from '../conductor/helpers.ts';

const ISOLATION = 4094;

describe.each(BACKENDS)('SSH switch faults through the conductor (%s)', (backend) => {
  let t: TestDatabase;
  let ovs: TestOvs;
  /** The database the stalling switch's ovs-vsctl talks to, frozen by its test. */
  let stalled: TestOvs;
  let sshd: TestSshd;
  let conductor: Conductor;
  let n = 0;

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    [ovs, stalled, sshd] = await Promise.all([startOvs(), startOvs(), startSshd()]);
    await ovs.addBridge(`nt${ovs.tag}br`);
    await stalled.addBridge(`nt${stalled.tag}br`);
    for (const i of [1, 2, 3, 4, 5, 6]) await ovs.addHost(`nt${ovs.tag}n${i}`, `nt${ovs.tag}p${i}`, `nt${ovs.tag}br`);
    await stalled.addHost(`nt${stalled.tag}n1`, `nt${stalled.tag}p1`, `nt${stalled.tag}br`);
    // Where cleaning would have left them.
    for (const i of [1, 2, 3, 4, 5, 6]) await ovs.vsctl('set', 'port', `nt${ovs.tag}p${i}`, 'tag=110');
    await stalled.vsctl('set', 'port', `nt${stalled.tag}p1`, 'tag=110');
    await createNetwork(t.db.knex, { name: 'prov', kind: 'provisioning', vlan_id: 100 });
    await createNetwork(t.db.knex, { name: 'clean', kind: 'cleaning', vlan_id: 110 });
    const login = { driver: 'ssh', dialect: 'ovs', host: '127.0.0.1', port: sshd.port, username: 'root', privateKeyFile: sshd.keyFile, hostKeySha256: sshd.hostKeySha256, timeout: 20 };
    const config = testConfig(`sshfault-${backend}`);
    config.network = {
      provisioningNetwork: 'prov',
      cleaningNetwork: 'clean',
      isolationVlan: ISOLATION,
      switches: {
        'a-ovs': { driver: 'ovs', socket: ovs.socket, bridge: `nt${ovs.tag}br` },
        'b-auth': { ...login, privateKeyFile: sshd.strangerKeyFile, bridge: `nt${ovs.tag}br`, vsctl: `ovs-vsctl --db=${ovs.socket}` },
        'b-refuse': { ...login, bridge: `nt${ovs.tag}br`, vsctl: `ovs-vsctl --db=unix:${ovs.dir}/no-such-db.sock` },
        // ovs-vsctl gives up after 3 s, the driver after 4 s.
        'b-stall': { ...login, bridge: `nt${stalled.tag}br`, vsctl: `ovs-vsctl --db=${stalled.socket}`, timeout: 4 },
      },
    };
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
  }, 120_000);
  afterAll(async () => {
    await conductor?.stop();
    await sshd?.stop();
    await ovs?.stop();
    await stalled?.stop();
    await t?.drop();
  });

  /** Deploys an available node with a port on a-ovs and one on `faulty`'s OVS port `port`; returns the failed node. */
  async function deployAcross(faulty: string, port: string) {
    const good = `nt${ovs.tag}p${++n}`;
    const node = await fakeNode(t.db, { name: `${backend}-${faulty}`, network_interface: 'switch', provision_state: 'available' });
    await createPort(t.db.knex, { node_id: node.id, address: `52:54:00:8a:00:${String(n).padStart(2, '0')}`, local_link_connection: { switch_info: 'a-ovs', port_id: good } });
    await createPort(t.db.knex, { node_id: node.id, address: `52:54:00:8b:00:${String(n).padStart(2, '0')}`, local_link_connection: { switch_info: faulty, port_id: port } });
    await requestProvision(t.db, node, 'active');
    const failed = await untilState(t.db, node.id, ['deploy failed', 'active'], 60_000);
    expect(failed.provision_state).toBe('deploy failed');
    expect(failed.last_error).toContain(`Moving the switch ports to the provisioning network prov failed: switch ${faulty}: (ssh ovs at 127.0.0.1)`);
    expect(failed.last_error).toContain('(a-ovs put back)');
    // a-ovs went to the provisioning VLAN, then was parked: Anvil had never set it before.
    expect(await ovs.tagHistory(good)).toEqual(['110', '100', String(ISOLATION)]);
    return failed;
  }

  it('fails naming the switch whose SSH key is refused; that switch is unchanged', async () => {
    const port = `nt${ovs.tag}p5`;
    const failed = await deployAcross('b-auth', port);
    expect(failed.last_error).toMatch(/SSH to root@127\.0\.0\.1:\d+ failed: All configured authentication methods failed/);
    expect(await ovs.tagHistory(port)).toEqual(['110']);
  });

  it('fails naming the switch and the command it rejected; that switch is unchanged', async () => {
    const port = `nt${ovs.tag}p6`;
    const failed = await deployAcross('b-refuse', port);
    expect(failed.last_error).toMatch(/refused "ovs-vsctl --db=unix:\S+no-such-db\.sock --timeout=19 .*": .*database connection failed.*; nothing changed \(one transaction\)/);
    expect(await ovs.tagHistory(port)).toEqual(['110']);
  });

  it('fails naming the switch whose database stops answering mid-change; it holds nothing of the change once it answers again', async () => {
    const port = `nt${stalled.tag}p1`;
    const thaw = stalled.freezeDatabase();
    let failed;
    try {
      failed = await deployAcross('b-stall', port);
    } finally {
      thaw();
    }
    // ovs-vsctl's own --timeout (3 s: SIGALRM) or the driver's deadline (4 s), whichever the loaded machine hits first.
    expect(failed.last_error).toMatch(/switch b-stall: \(ssh ovs at 127\.0\.0\.1\) refused "ovs-vsctl .*--timeout=3 .*": (.*signal 14 \(Alarm clock\)|no answer within 4000 ms)/);
    // Time for a transaction ovs-vsctl might still have sent to commit: none was.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stalled.vsctl('get', 'port', port, 'tag')).toBe('110');
    expect(await stalled.tagHistory(port)).toEqual(['110']);
  });
});
