// Trait-based networking (1.111) through the conductor, on real Open vSwitch, on SQLite and
// PostgreSQL: a node whose instance asks for CUSTOM_BOND deploys (direct, simulated agent) with its
// VIF on a dynamic LACP port group of its two ports, made on the switch as a bond on the tenant
// VLAN and shown by the API at 1.111; undeploy undoes the bond and the port group, the VIF back on
// a port. Another trait moves the VIF to the port whose category it names; a VIF no trait can
// place fails the deploy, naming it, before anything changes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../helpers/db.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';
import { untilState } from '../conductor/helpers.ts';
import { startAgentHarness, type AgentHarness } from '../deploy/agent-harness.ts';
import { makeTestImages, type TestImages } from '../images/fixtures.ts';
import { createNetworks, switchNode } from './switch-nodes.ts';

type Json = Record<string, any>;
const VLAN = { prov: 100, clean: 110, 'ten-a': 201, 'ten-b': 202 } as const;
const ISOLATION = 4094;
const TRAITS = `
CUSTOM_BOND:
  actions:
    - action: group_and_attach_ports
      filter: "network.name == 'ten-a' && port.is_port"
      min_count: 2
CUSTOM_UPLINK:
  actions:
    - { action: attach_port, filter: "port.category == 'uplink'" }
`;

describe.each(BACKENDS)('trait-based networking on Open vSwitch (%s)', (backend) => {
  let ovs: TestOvs;
  let h: AgentHarness;
  let img: TestImages;
  let dir: string;
  const br = () => `nt${ovs.tag}br`;
  const get = async (p: string, column: string) => (await ovs.vsctl('get', 'port', p, column)).trim();

  beforeAll(async () => {
    ovs = await startOvs();
    await ovs.addBridge(br());
    for (const n of ['b0', 'b1', 'c0', 'c1', 'd0', 'd1']) await ovs.addHost(`nt${ovs.tag}n${n}`, `nt${ovs.tag}${n}`, br());
    img = await makeTestImages();
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-tbn-'));
    await writeFile(path.join(dir, 'tbn.yaml'), TRAITS);
    h = await startAgentHarness(backend, 'tbn', {
      configure(config) {
        config.network = {
          provisioningNetwork: 'prov', cleaningNetwork: 'clean', isolationVlan: ISOLATION,
          traitBasedNetworking: path.join(dir, 'tbn.yaml'),
          switches: { tor: { driver: 'ovs', socket: ovs.socket, bridge: br() } },
        };
      },
    });
    await createNetworks(h, { prov: ['provisioning', VLAN.prov], clean: ['cleaning', VLAN.clean], 'ten-a': ['tenant', VLAN['ten-a']], 'ten-b': ['tenant', VLAN['ten-b']] });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await img?.cleanup();
    await ovs?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const torNode = (name: string, plugs: string[]) => switchNode(h, name, {}, plugs.map((p): [string, string] => ['tor', p]));

  async function reach(id: number, uuid: string, target: string, state: string) {
    await h.provision(uuid, target);
    const node = await untilState(h.t.db, id, [state, 'deploy failed', 'clean failed'], 60_000);
    expect(node.provision_state, String(node.last_error)).toBe(state);
    return node;
  }

  async function deployWithTraits(uuid: string, id: number, traits: string[]) {
    await reach(id, uuid, 'manage', 'manageable');
    await reach(id, uuid, 'provide', 'available');
    // As in Ironic, an instance's traits must be the node's too.
    for (const t of traits) expect((await h.call('PUT', `/v1/nodes/${uuid}/traits/${t}`)).status).toBe(204);
    const vif = await h.call('POST', `/v1/nodes/${uuid}/vifs`, { id: 'ten-a' });
    expect(vif.status, JSON.stringify(vif.body)).toBe(204);
    await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2', traits });
    await reach(id, uuid, 'active', 'active');
  }

  it('fails the deploy naming a VIF no trait can place, before anything is regrouped', async () => {
    const [d0, d1] = [`nt${ovs.tag}d0`, `nt${ovs.tag}d1`];
    const { id, uuid } = await torNode(`tbn-short-${backend}`, [d0, d1]);
    await reach(id, uuid, 'manage', 'manageable');
    await reach(id, uuid, 'provide', 'available');
    expect((await h.call('PUT', `/v1/nodes/${uuid}/traits/CUSTOM_BOND`)).status).toBe(204);
    for (const net of ['ten-a', 'ten-b']) expect((await h.call('POST', `/v1/nodes/${uuid}/vifs`, { id: net })).status).toBe(204);
    await h.setInstanceInfo(uuid, { image_source: pathToFileURL(img.qcow2).href, image_os_hash_algo: 'sha256', image_os_hash_value: img.sha256, image_disk_format: 'qcow2', traits: ['CUSTOM_BOND'] });
    await h.provision(uuid, 'active');
    const failed = await untilState(h.t.db, id, ['deploy failed', 'active'], 60_000);
    expect(failed.provision_state).toBe('deploy failed');
    // both ports went into ten-a's bond: nothing is left for ten-b
    expect(failed.last_error).toBe(`Deploy failed: Trait-based networking (CUSTOM_BOND, CUSTOM_DEFAULT_TBN_TRAIT) found no port for network ten-b (CUSTOM_BOND group_and_attach_ports: no free port available for a dynamic port group matches "network.name == 'ten-a' && port.is_port"; CUSTOM_DEFAULT_TBN_TRAIT attach_port: no free port matches "port.is_port || port.is_portgroup")`);
    // the whole plan is made before any write: no port group was made, the ports never left the cleaning VLAN
    expect(await groupsOf(uuid)).toEqual([]);
    expect([await ovs.tagHistory(d0), await ovs.tagHistory(d1)]).toEqual([[String(VLAN.clean)], [String(VLAN.clean)]]);
    await reach(id, uuid, 'deleted', 'available');
  }, 300_000);

  const groupsOf = async (uuid: string) => (await h.call('GET', `/v1/portgroups?node=${uuid}&detail=True`, undefined, '1.111')).body.portgroups as Json[];

  it('bonds the ports into a dynamic port group on the tenant VLAN, and undoes it at undeploy', async () => {
    const [b0, b1] = [`nt${ovs.tag}b0`, `nt${ovs.tag}b1`];
    const { id, uuid, ports } = await torNode(`tbn-bond-${backend}`, [b0, b1]);
    await deployWithTraits(uuid, id, ['CUSTOM_BOND']);

    const [group] = await groupsOf(uuid);
    expect(group).toMatchObject({ dynamic_portgroup: true, mode: '802.3ad', node_uuid: uuid });
    expect((await groupsOf(uuid)).length).toBe(1);
    const members = (await h.call('GET', `/v1/ports?portgroup=${group.uuid}&detail=True`, undefined, '1.111')).body.ports as Json[];
    expect(members.map((p) => p.uuid).sort()).toEqual(ports.map((p) => p.uuid).sort());
    const vifs = (await h.call('GET', `/v1/nodes/${uuid}/vifs`)).body.vifs as Json[];
    expect(vifs.length).toBe(1);

    // On the switch: one LACP bond of both interfaces, an access port of ten-a's VLAN.
    const bond = `bond-${group.uuid.slice(0, 8)}`;
    expect([await get(bond, 'tag'), await get(bond, 'lacp'), await get(bond, 'bond_mode')]).toEqual([String(VLAN['ten-a']), 'active', 'balance-tcp']);
    const bridgePorts = (await ovs.vsctl('list-ports', br())).split('\n');
    expect(bridgePorts).toContain(bond);
    expect(bridgePorts).not.toContain(b0);
    expect(bridgePorts).not.toContain(b1);
    const history = (await h.events(id)).join('\n');
    expect(history).toMatch(/Trait-based networking \(CUSTOM_BOND, CUSTOM_DEFAULT_TBN_TRAIT\): ten-a on a dynamic LACP port group of .+ \(CUSTOM_BOND\)/);

    await reach(id, uuid, 'deleted', 'available');
    expect(await groupsOf(uuid)).toEqual([]);
    expect([await get(b0, 'tag'), await get(b1, 'tag')]).toEqual([String(VLAN.clean), String(VLAN.clean)]);
    expect((await ovs.vsctl('list-ports', br())).split('\n')).not.toContain(bond);
    const after = (await h.call('GET', `/v1/nodes/${uuid}/vifs`)).body.vifs as Json[];
    expect(after.length).toBe(1);
    const back = (await h.call('GET', `/v1/ports?node=${uuid}&detail=True`, undefined, '1.111')).body.ports as Json[];
    expect(back.map((p) => p.portgroup_uuid)).toEqual([null, null]);
  }, 300_000);

  it('puts the VIF on the port the trait picks by its category', async () => {
    const [c0, c1] = [`nt${ovs.tag}c0`, `nt${ovs.tag}c1`];
    const { id, uuid, ports } = await torNode(`tbn-port-${backend}`, [c0, c1]);
    // VIF attach picks the first port (PXE-enabled first); the trait moves the VIF to the uplink.
    const res = await h.call('PATCH', `/v1/ports/${ports[1].uuid}`, [{ op: 'add', path: '/category', value: 'uplink' }], '1.111');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await deployWithTraits(uuid, id, ['CUSTOM_UPLINK']);
    expect(await groupsOf(uuid)).toEqual([]);
    expect([await get(c1, 'tag'), await get(c0, 'tag')]).toEqual([String(VLAN['ten-a']), String(ISOLATION)]);
    expect(await h.events(id)).toContain(`Trait-based networking (CUSTOM_UPLINK, CUSTOM_DEFAULT_TBN_TRAIT): ten-a on port ${ports[1].address} (CUSTOM_UPLINK)`);
    await reach(id, uuid, 'deleted', 'available');
    expect([await get(c0, 'tag'), await get(c1, 'tag')]).toEqual([String(VLAN.clean), String(VLAN.clean)]);
  }, 300_000);
});
