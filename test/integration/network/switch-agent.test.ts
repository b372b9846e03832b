// The switch network interface through a whole in-band life, on real Open vSwitch, on SQLite and
// PostgreSQL: a fake-hardware node whose simulated agent (FakePowerRack) inspects, cleans, deploys
// (direct), is rescued (agent rescue), serviced with an agent step and undeployed, while its two
// ports (OVS ports of the test's bridge) move between the inspection, cleaning, provisioning,
// tenant, rescuing and servicing VLANs. What the ports carried is read from the switch's own
// transaction log, so every move is seen in order, not sampled; the deploy's history shows
// switch_to_tenant_network running after the agent is torn down and before the instance boots.
// Then the faults on OVSDB: a switch that stops answering mid-change (ovsdb-server frozen) fails
// the deploy naming it, the other switch is put back, and the frozen one holds nothing of it.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PLUGIN_DIR } from '../../../deploy-agent/plugins.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';
import { untilState } from '../conductor/helpers.ts';
import { startAgentHarness, type AgentHarness } from '../deploy/agent-harness.ts';
import { makeTestImages, type TestImages } from '../images/fixtures.ts';
import { createNetworks, switchNode } from './switch-nodes.ts';

type Json = Record<string, any>;
const EXAMPLE_PLUGINS = path.resolve(import.meta.dirname, '../../../docs/examples/agent-plugins');
const VLAN = { prov: 100, clean: 110, inspect: 120, rescue: 130, service: 140, 'ten-a': 201 } as const;
const KIND = { prov: 'provisioning', clean: 'cleaning', inspect: 'inspection', rescue: 'rescuing', service: 'servicing', 'ten-a': 'tenant' } as const;
const ISOLATION = 4094;

describe.each(BACKENDS)('switch network interface with the agent, on Open vSwitch (%s)', (backend) => {
  let ovs: TestOvs;
  /** A second switch, for the fault that needs one switch changed and another frozen. */
  let ovs2: TestOvs;
  let h: AgentHarness;
  let img: TestImages;
  const br = () => `nt${ovs.tag}br`;
  const tag = async (sw: TestOvs, p: string) => (await sw.vsctl('get', 'port', p, 'tag')).trim();

  beforeAll(async () => {
    ovs = await startOvs();
    ovs2 = await startOvs();
    await ovs.addBridge(br());
    await ovs2.addBridge(`nt${ovs2.tag}br`);
    for (const n of ['a0', 'a1', 'f0']) await ovs.addHost(`nt${ovs.tag}n${n}`, `nt${ovs.tag}${n}`, br());
    await ovs2.addHost(`nt${ovs2.tag}nf1`, `nt${ovs2.tag}f1`, `nt${ovs2.tag}br`);
    img = await makeTestImages();
    h = await startAgentHarness(backend, 'swagent', {
      pluginDirs: [BUILTIN_PLUGIN_DIR, EXAMPLE_PLUGINS],
      configure(config) {
        config.network = {
          provisioningNetwork: 'prov', cleaningNetwork: 'clean', inspectionNetwork: 'inspect', rescuingNetwork: 'rescue', servicingNetwork: 'service',
          isolationVlan: ISOLATION,
          switches: {
            tor: { driver: 'ovs', socket: ovs.socket, bridge: br() },
            'tor-z': { driver: 'ovs', socket: ovs2.socket, bridge: `nt${ovs2.tag}br`, timeout: 2 },
          },
        };
      },
    });
    await createNetworks(h, Object.fromEntries(Object.entries(VLAN).map(([name, vlan]) => [name, [KIND[name as keyof typeof VLAN], vlan]])));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await img?.cleanup();
    await ovs?.stop();
    await ovs2?.stop();
  });

  const agentSwitchNode = (name: string, plugs: [string, string][]) => switchNode(h, name, { inspect_interface: 'agent', rescue_interface: 'agent' }, plugs);

  async function reach(id: number, uuid: string, target: string, state: string, extra: Json = {}, limitMs = 60_000) {
    await h.provision(uuid, target, extra);
    const node = await untilState(h.t.db, id, [state, 'deploy failed', 'clean failed', 'inspect failed', 'rescue failed', 'service failed'], limitMs);
    expect(node.provision_state, String(node.last_error)).toBe(state);
    expect(node.last_error).toBeNull();
    return node;
  }

  const image = () => ({ image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2' });

  it('moves the ports through inspection, cleaning, a direct deploy, rescue, servicing and undeploy, as the switch\'s log records', async () => {
    const [p0, p1] = [`nt${ovs.tag}a0`, `nt${ovs.tag}a1`];
    const { id, uuid, ports } = await agentSwitchNode(`sw-agent-${backend}`, [['tor', p0], ['tor', p1]]);
    await reach(id, uuid, 'manage', 'manageable');

    await reach(id, uuid, 'inspect', 'manageable');
    // LLDP from the agent fills only what the port lacked: the operator's switch_info and port_id stay.
    const inspected = (await h.call('GET', `/v1/ports/${ports[0].uuid}`)).body;
    expect(inspected.local_link_connection).toEqual({ switch_info: 'tor', port_id: p0, switch_id: '52:54:00:ff:00:01' });

    await reach(id, uuid, 'provide', 'available');
    expect([await tag(ovs, p0), await tag(ovs, p1)]).toEqual([String(VLAN.clean), String(VLAN.clean)]);

    const vif = await h.call('POST', `/v1/nodes/${uuid}/vifs`, { id: 'ten-a', port_uuid: ports[0].uuid });
    expect(vif.status, JSON.stringify(vif.body)).toBe(204);
    await h.setInstanceInfo(uuid, image());
    const from = (await h.events(id)).length;
    await reach(id, uuid, 'active', 'active');
    expect([await tag(ovs, p0), await tag(ovs, p1)]).toEqual([String(VLAN['ten-a']), String(ISOLATION)]);
    // switch_to_tenant_network ran among the agent's deploy steps: after the ramdisk was torn down, before the instance booted.
    const deploy = (await h.events(id)).slice(from);
    const at = (re: RegExp) => deploy.findIndex((e) => re.test(e));
    expect(deploy).toContain('Deploy steps: write_image(80), prepare_instance_boot(60), tear_down_agent(40), switch_to_tenant_network(30), boot_instance(20)');
    expect(at(/^Switch ports on the provisioning network prov: tor /)).toBeGreaterThan(-1);
    expect(at(/^Switch ports on the provisioning network prov/)).toBeLessThan(at(/^Agent started deploy step deploy\.write_image/));
    expect(at(/^Running deploy step deploy\.tear_down_agent/)).toBeLessThan(at(/^Running deploy step network\.switch_to_tenant_network/));
    expect(at(/^Running deploy step network\.switch_to_tenant_network/)).toBeLessThan(at(/^Switch ports on the tenant networks: tor /));
    expect(at(/^Switch ports on the tenant networks/)).toBeLessThan(at(/^Running deploy step deploy\.boot_instance/));

    const rescued = await reach(id, uuid, 'rescue', 'rescue', { rescue_password: 'sw-rescue-pw' });
    expect(rescued.power_state).toBe('power on');
    // finalize_rescue done: the rescued machine is back on its tenant VLAN for its user.
    expect(await tag(ovs, p0)).toBe(String(VLAN['ten-a']));
    await reach(id, uuid, 'unrescue', 'active');

    await reach(id, uuid, 'service', 'active', { service_steps: [{ interface: 'deploy', step: 'checksum_root_disk', args: { algorithm: 'sha256' } }] });
    expect([await tag(ovs, p0), await tag(ovs, p1)]).toEqual([String(VLAN['ten-a']), String(ISOLATION)]);

    await reach(id, uuid, 'deleted', 'available');
    expect([await tag(ovs, p0), await tag(ovs, p1)]).toEqual([String(VLAN.clean), String(VLAN.clean)]);

    // The switch's own record of every move: inspection, cleaning, provisioning, tenant, rescuing,
    // tenant (rescue password set; unrescue changes nothing), servicing, tenant, cleaning.
    const life = [VLAN.inspect, VLAN.clean, VLAN.prov, VLAN['ten-a'], VLAN.rescue, VLAN['ten-a'], VLAN.service, VLAN['ten-a'], VLAN.clean].map(String);
    expect(await ovs.tagHistory(p0)).toEqual(life);
    expect(await ovs.tagHistory(p1)).toEqual(life.map((v) => (v === String(VLAN['ten-a']) ? String(ISOLATION) : v)));
  }, 300_000);

  it('fails a deploy cleanly when a switch stops answering mid-change: named, the other switch put back, the frozen one unchanged', async () => {
    const [f0, f1] = [`nt${ovs.tag}f0`, `nt${ovs2.tag}f1`];
    const { id, uuid } = await agentSwitchNode(`sw-freeze-${backend}`, [['tor', f0], ['tor-z', f1]]);
    await reach(id, uuid, 'manage', 'manageable');
    await reach(id, uuid, 'provide', 'available');
    expect([await tag(ovs, f0), await tag(ovs2, f1)]).toEqual([String(VLAN.clean), String(VLAN.clean)]);
    await h.setInstanceInfo(uuid, image());

    const thaw = ovs2.freezeDatabase();
    try {
      await h.provision(uuid, 'active');
      const failed = await untilState(h.t.db, id, ['deploy failed', 'active'], 60_000);
      expect(failed.provision_state).toBe('deploy failed');
      expect(failed.last_error).toMatch(/Moving the switch ports to the provisioning network prov failed: switch tor-z: \(ovs at unix:.*\) changing nt\w+f1, nothing changed: no answer from unix:.* within 2000 ms \(tor put back\)/);
    } finally {
      thaw();
    }
    // tor went to the provisioning VLAN and back; tor-z never got the change, even once it answers again.
    expect(await ovs.tagHistory(f0)).toEqual([VLAN.clean, VLAN.prov, VLAN.clean].map(String));
    expect(await tag(ovs2, f1)).toBe(String(VLAN.clean));
    expect(await ovs2.tagHistory(f1)).toEqual([String(VLAN.clean)]);
  }, 120_000);
});
