// Auto-discovery with the virtual rack: machines nobody enrolled power on into PXE, the netboot
// role serves their unknown MACs the inspection ramdisk, and the simulated agent's inventory makes
// a node of each, once: a second boot of a discovered machine is not served, and its data again
// makes no second node.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { startAllInOne, type RoleHandle } from '../../../services/roles.ts';
import { apiClient } from '../../../simulators/rack/cycle.ts';
import { VirtualRack, type RackEvent } from '../../../simulators/rack/index.ts';
import { pollUntil } from '../../../common/poll.ts';

const MACHINES = 50;

describe('auto-discovery of a virtual rack', () => {
  let dir: string;
  let anvil: RoleHandle;
  let rack: VirtualRack;
  const events: RackEvent[] = [];
  type Node = { uuid: string; driver: string; provision_state: string; properties: Record<string, unknown>; last_error: string | null };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-discovery-'));
    const config = defaultConfig(dir);
    config.api.port = 0;
    config.conductor = { ...config.conductor, hostname: 'discovery', pollInterval: 0.2, heartbeatInterval: 0.5, powerSyncInterval: 0 };
    config.discovery = { enabled: true, driver: 'fake-hardware', path: 'manage' };
    config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false, discovery: true }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
    anvil = await startAllInOne(config, silentLogger);
    rack = await VirtualRack.start({ machines: MACHINES, apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger });
    rack.on('event', (e: RackEvent) => events.push(e));
  });

  afterAll(async () => {
    await rack?.close();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const nodes = async (): Promise<Node[]> => (await apiClient(anvil.apiUrl!).get('/nodes/detail')).data.nodes as Node[];
  const powerOnIntoPxe = async () => {
    for (const m of rack.machines) {
      m.setBootOverride({ device: 'pxe', persistent: false });
      await m.power('on');
    }
  };

  it(`${MACHINES} unknown machines PXE-boot into inspection and each becomes one manageable node with its ports and properties`, async () => {
    await powerOnIntoPxe();
    let last: Node[] = [];
    const found = await pollUntil(async () => {
      const all = await nodes();
      last = all;
      return all.length >= MACHINES && all.every((n) => n.provision_state === 'manageable') ? all : undefined;
    }, { timeoutSec: 120, maxIntervalMs: 500, timedOut: () => new Error(`not ${MACHINES} manageable nodes: ${last.length} nodes, ${JSON.stringify(last.map((n) => [n.provision_state, n.last_error]).slice(0, 5))}; last events ${JSON.stringify(events.slice(-5))}`) });
    expect(found).toHaveLength(MACHINES);
    const netboots = events.filter((e): e is Extract<RackEvent, { kind: 'netboot' }> => e.kind === 'netboot');
    expect(netboots.map((e) => e.purpose)).toEqual(Array(MACHINES).fill('inspect'));

    const api = apiClient(anvil.apiUrl!);
    const ports = (await api.get('/ports/detail', { params: { limit: 1000 } })).data.ports as { address: string; node_uuid: string; pxe_enabled: boolean; local_link_connection: Record<string, string> }[];
    expect(ports.map((p) => p.address).sort()).toEqual(rack.machines.flatMap((m) => m.hardware.nics.map((n) => n.mac)).sort());
    for (const m of rack.machines) {
      const mine = ports.filter((p) => m.hardware.nics.some((n) => n.mac === p.address));
      // All NICs of one machine are on one node; the one it booted from is the PXE port; LLDP filled each.
      expect(new Set(mine.map((p) => p.node_uuid)).size).toBe(1);
      expect(mine.find((p) => p.address === m.hardware.nics[0].mac)!.pxe_enabled).toBe(true);
      for (const p of mine) expect(p.local_link_connection).toMatchObject({ switch_id: '52:54:00:ff:00:01', switch_info: 'sim-tor-1' });
      const node = found.find((n) => n.uuid === mine[0].node_uuid)!;
      expect(node).toMatchObject({ driver: 'fake-hardware', last_error: null, properties: { cpus: m.hardware.cpus, memory_mb: m.hardware.memoryMb, cpu_arch: m.hardware.cpuArch } });
      const data = (await api.get(`/nodes/${node.uuid}/inventory`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.81' } })).data;
      expect(data.plugin_data.auto_discovered).toBe(true);
      expect(data.plugin_data.parsed_lldp[m.hardware.nics[0].name]).toMatchObject({ switch_chassis_id: '52:54:00:ff:00:01', switch_system_name: 'sim-tor-1' });
      const history = (await api.get(`/nodes/${node.uuid}/history`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' } })).data.history as { event: string }[];
      expect(history[0].event).toContain('Node discovered from its inspection data');
    }
  }, 180_000);

  it('a second boot of a discovered machine is not served and makes no second node; its data again is refused', async () => {
    const before = events.length;
    for (const m of rack.machines) await m.power('off');
    await powerOnIntoPxe();
    await pollUntil(async () => events.slice(before).filter((e) => e.kind === 'netboot-refused').length === MACHINES || undefined, { timeoutSec: 60, maxIntervalMs: 200, timedOut: () => new Error('not every machine was refused a second netboot') });
    expect(events.slice(before).filter((e) => e.kind === 'netboot')).toEqual([]);
    expect(await nodes()).toHaveLength(MACHINES);

    // The inventory posted once more (a machine booted another way): the MAC is on a node in manageable, not discovered again.
    const m = rack.machines[0];
    const post = (interfaces: unknown[]) => apiClient(anvil.apiUrl!).post('/continue_inspection', { inventory: { interfaces } }, { validateStatus: () => true });
    const res = await post([{ name: 'eth0', mac_address: m.hardware.nics[0].mac }]);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.data.error_message).faultstring).toMatch(/is "manageable", not waiting for inspection data/);
    // A machine with one known MAC and one new one is not discovered either.
    const mixed = await post([{ name: 'eth9', mac_address: '52:54:00:99:99:99' }, { name: 'eth0', mac_address: m.hardware.nics[1].mac }]);
    expect(mixed.status, JSON.stringify(mixed.data)).toBe(404);
    expect(await nodes()).toHaveLength(MACHINES);
  }, 120_000);

  it('one machine posting its data several times at once makes one node: the others are told to retry, then find it', async () => {
    const inventory = { interfaces: [{ name: 'eth0', mac_address: '52:54:00:77:00:01' }, { name: 'eth1', mac_address: '52:54:00:77:00:02' }], boot: { pxe_interface: '52:54:00:77:00:02' } };
    const answers = await Promise.all(Array.from({ length: 6 }, () => apiClient(anvil.apiUrl!).post('/continue_inspection', { inventory }, { validateStatus: () => true })));
    const created = answers.filter((a) => a.status === 202);
    expect(created).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 202).map((a) => a.status).every((s) => s === 409 || s === 404)).toBe(true);
    const ports = (await apiClient(anvil.apiUrl!).get('/ports/detail', { params: { node_uuid: created[0].data.node.uuid } })).data.ports as { address: string; pxe_enabled: boolean }[];
    expect(ports.map((p) => [p.address, p.pxe_enabled]).sort()).toEqual([['52:54:00:77:00:01', false], ['52:54:00:77:00:02', true]]);
    expect(await nodes()).toHaveLength(MACHINES + 1);
  });

  it('a rule that changes the driver of a discovered node is the driver it is then managed with', async () => {
    const api = apiClient(anvil.apiUrl!);
    const rules = { headers: { 'X-OpenStack-Ironic-API-Version': '1.96' } };
    const rule = await api.post('/inspection_rules', {
      description: 'discovered machines are IPMI',
      actions: [{ op: 'set-attribute', args: { path: '/driver', value: 'ipmi' } }],
    }, rules);
    expect(rule.status).toBe(201);
    try {
      const res = await api.post('/continue_inspection', { inventory: { interfaces: [{ name: 'eth0', mac_address: '52:54:00:77:01:01' }] } });
      const uuid = res.data.node.uuid as string;
      // Verified with ipmi, which has no address to reach: back to enroll, saying so (fake-hardware would have passed).
      const node = await pollUntil(async () => {
        const n = (await api.get(`/nodes/${uuid}`)).data as Node & { driver: string };
        return n.provision_state === 'enroll' && n.last_error ? n : undefined;
      }, { timeoutSec: 30, maxIntervalMs: 200, timedOut: () => new Error('the discovered node was not verified') });
      expect(node.driver).toBe('ipmi');
      expect(node.last_error).toMatch(/ipmi_address/);
    } finally {
      await api.delete(`/inspection_rules/${rule.data.uuid}`, rules);
    }
  });

  it('a rule that fails a discovered machine leaves its node in enroll with the rule\'s message', async () => {
    const api = apiClient(anvil.apiUrl!);
    const rules = { headers: { 'X-OpenStack-Ironic-API-Version': '1.96' } };
    const rule = await api.post('/inspection_rules', {
      description: 'a rule without conditions: every machine fails',
      actions: [{ op: 'fail', args: { msg: 'discovered without a BMC address' } }],
    }, rules);
    expect(rule.status, JSON.stringify(rule.data)).toBe(201);
    try {
      const res = await api.post('/continue_inspection', { inventory: { interfaces: [{ name: 'eth0', mac_address: '52:54:00:77:02:01' }] } });
      const uuid = res.data.node.uuid as string;
      const node = await pollUntil(async () => {
        const n = (await api.get(`/nodes/${uuid}`)).data as Node;
        return n.last_error ? n : undefined;
      }, { timeoutSec: 30, maxIntervalMs: 200, timedOut: () => new Error('the failed discovery left no last_error') });
      expect(node.provision_state).toBe('enroll');
      expect(node.last_error).toMatch(/^Processing the discovered machine's data failed: .*discovered without a BMC address/);
      const history = (await api.get(`/nodes/${uuid}/history`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' } })).data.history as { event: string; severity: string }[];
      expect(history).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'ERROR', event: expect.stringContaining('discovered without a BMC address') })]));
    } finally {
      await api.delete(`/inspection_rules/${rule.data.uuid}`, rules);
    }
  });
});
