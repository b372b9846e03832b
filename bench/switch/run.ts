// Port moves per second through one switch: N fake-hardware nodes (2 ports each, one VIF) deploy
// at once through a real Open vSwitch (private ovsdb-server + ovs-vswitchd, userspace datapath),
// driven by the ovs driver (OVSDB) or by the ssh driver's ovs dialect (ovs-vsctl over Debian's
// sshd). Each deploy moves both ports twice (provisioning VLAN, then tenant VLAN). Prints figures;
// passes or fails nothing. Usage: npx tsx bench/switch/run.ts [--nodes 100] [--driver ovs|ssh|both]
import { execa } from 'execa';
import { silentLogger } from '../../common/logger.ts';
import { createAttachment, createNetwork } from '../../db/networks.ts';
import { createPort } from '../../db/ports.ts';
import { Conductor } from '../../services/conductor/conductor.ts';
import { createTestDatabase } from '../../test/helpers/db.ts';
import { startOvs } from '../../test/helpers/ovs.ts';
import { startSshd } from '../../test/helpers/sshd.ts';
import { fakeNode, requestProvision, testConfig, untilState } from '../../test/integration/conductor/helpers.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('nodes', '100'));
const which = arg('driver', 'both');

async function run(driver: 'ovs' | 'ssh'): Promise<void> {
  const ovs = await startOvs();
  const sshd = driver === 'ssh' ? await startSshd() : undefined;
  const t = await createTestDatabase('sqlite');
  const br = `nt${ovs.tag}br`;
  const links: string[] = [];
  try {
    await ovs.addBridge(br);
    // Plain veth pairs as the switch's ports (no namespaces: only the switch side matters here).
    const ports: string[] = [];
    for (let i = 0; i < N * 2; i++) {
      const name = `nt${ovs.tag}s${i}`;
      await execa('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `nt${ovs.tag}x${i}`]);
      links.push(name);
      ports.push(name);
    }
    for (let i = 0; i < ports.length; i += 50) await ovs.vsctl(...ports.slice(i, i + 50).flatMap((p) => ['--', 'add-port', br, p]));
    for (const [name, kind, vlan] of [['prov', 'provisioning', 100], ['clean', 'cleaning', 110], ['tenant', 'tenant', 201]] as const) await createNetwork(t.db.knex, { name, kind, vlan_id: vlan });
    const sw = driver === 'ovs'
      ? { driver: 'ovs', socket: ovs.socket, bridge: br }
      : { driver: 'ssh', dialect: 'ovs', host: '127.0.0.1', port: sshd!.port, username: 'root', privateKeyFile: sshd!.keyFile, bridge: br, vsctl: `ovs-vsctl --db=${ovs.socket}`, timeout: 60 };
    const config = testConfig(`bench-switch-${driver}`, { workers: 200 });
    config.network = { provisioningNetwork: 'prov', cleaningNetwork: 'clean', switches: { leaf: sw } };
    const conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
    const nodes = [];
    for (let i = 0; i < N; i++) {
      const node = await fakeNode(t.db, { network_interface: 'switch', automated_clean: false });
      const p0 = await createPort(t.db.knex, { node_id: node.id, address: `52:54:01:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, local_link_connection: { switch_info: 'leaf', port_id: ports[2 * i] } });
      await createPort(t.db.knex, { node_id: node.id, address: `52:54:02:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, local_link_connection: { switch_info: 'leaf', port_id: ports[2 * i + 1] } });
      await createAttachment(t.db.knex, { node_id: node.id, network_id: (await t.db.knex('networks').where({ name: 'tenant' }).first()).id, port_id: p0.id, portgroup_id: null, address: null });
      nodes.push(node);
    }
    for (const [verb, state] of [['manage', 'manageable'], ['provide', 'available']]) {
      for (const n of nodes) await requestProvision(t.db, n, verb);
      for (const n of nodes) await untilState(t.db, n.id, state, 600_000);
    }
    const started = performance.now();
    await Promise.all(nodes.map((n) => requestProvision(t.db, n, 'active')));
    let failed = 0;
    for (const n of nodes) if ((await untilState(t.db, n.id, ['active', 'deploy failed'], 600_000)).provision_state !== 'active') failed++;
    const seconds = (performance.now() - started) / 1000;
    const moves = N * 2 * 2;
    const tags = (await ovs.vsctl('--format=csv', '--columns=tag', 'list', 'port')).split('\n').filter((l) => l === '201').length;
    console.log(`${driver.padEnd(4)} ${N} nodes deployed at once: ${seconds.toFixed(1)} s, ${moves} port moves, ${(moves / seconds).toFixed(1)} port moves/s, ${(2 * N / seconds).toFixed(1)} switch batches/s; ${failed} failed; ${tags} ports on the tenant VLAN`);
    await conductor.stop();
  } finally {
    await t.drop();
    await sshd?.stop();
    await ovs.stop();
    for (const l of links) await execa('ip', ['link', 'del', l], { reject: false });
  }
}

for (const d of which === 'both' ? (['ovs', 'ssh'] as const) : [which as 'ovs' | 'ssh']) await run(d);
