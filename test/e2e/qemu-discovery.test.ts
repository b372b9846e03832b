// The rack tells Anvil what it is, with a real machine: Debian's lldpd in the rig's leaf namespace
// announces a switch (chassis = tap0's MAC, port "tap0", system name "leaf-1") on the QEMU machine's
// link. (a) Inspection of the enrolled machine: the agent in the real ramdisk hears the LLDP frame
// with tcpdump and the port enrolled before inspection ends with exactly that neighbour.
// (b) The node is deleted and the machine, now unknown, PXE-boots: discovery makes a node of its
// inventory, and an inspection rule sets its driver and BMC from the address the agent found in
// band (the VM has no IPMI device; its firmware carries an SMBIOS Redfish host interface record
// naming the rig's simulated BMC, as a server's firmware names its own), then it is managed into
// `manageable`. A second boot is not served and makes no second node.
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smbiosRedfishHostInterface } from './support/smbios.ts';
import { SERVER, startQemuRig, type QemuRig } from './support/rig.ts';

const SWITCH_MAC = '52:54:00:1e:af:01';
const NEIGHBOUR = { switch_id: SWITCH_MAC, port_id: 'tap0', switch_info: 'leaf-1' };
/** The rig's BMC, as the conductor reaches it from the prov namespace (and as the VM's firmware names it). */
const BMC = { address: '127.0.0.1', port: 8000 };
const RULES_VERSION = { 'X-OpenStack-Ironic-API-Version': '1.96' };

let rig: QemuRig;
let enrolled: string;
const smbios = join(tmpdir(), `anvil-e2e-discovery-smbios-${process.pid}.bin`);

beforeAll(async () => {
  await writeFile(smbios, smbiosRedfishHostInterface({ ...BMC, hostname: 'e2e-bmc' }));
  rig = await startQemuRig({
    name: 'discovery',
    machine: { smbiosFiles: [smbios] },
    // The switch: lldpd on the leaf's side of the machine's link, its chassis id tap0's MAC.
    lldp: { systemName: NEIGHBOUR.switch_info, chassisMac: SWITCH_MAC },
    configure: (config) => {
      config.discovery = { enabled: true, driver: 'ipmi', path: 'manage' };
      config.netboot.dhcp.discovery = true;
      // The discovery boot's serial console for diagnostics; short LLDP listening (lldpd announces every second).
      config.netboot.kernelAppend = 'console=ttyS0 quiet ipa-lldp-timeout=5';
    },
  });
}, 900_000);

afterAll(async () => {
  await rig?.close();
  await rm(smbios, { force: true });
}, 60_000);

describe('LLDP and discovery with a QEMU machine', () => {
  it('(a) inspection fills the pre-existing port with the neighbour lldpd announces', async () => {
    enrolled = await rig.timed('enroll and manage', () => rig.enroll());
    const [port] = (await rig.api.get(`/v1/ports/detail?node=${enrolled}`)).data.ports as { uuid: string; local_link_connection: unknown }[];
    expect(port.local_link_connection).toEqual({});
    await rig.timed('inspect (agent ramdisk, LLDP)', async () => {
      await rig.provision(enrolled, 'inspect');
      await rig.waitForState(enrolled, 'manageable', 400);
    });
    const after = (await rig.api.get(`/v1/ports/${port.uuid}`)).data;
    expect(after.local_link_connection, `${await rig.diagnostics()}\n--- lldpd ---\n${rig.output.lldpd}`).toEqual(NEIGHBOUR);
    const data = (await rig.api.get(`/v1/nodes/${enrolled}/inventory`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.81' } })).data;
    const nic = (data.inventory.interfaces as { name: string; mac_address: string; lldp: [number, string][] }[]).find((i) => i.mac_address === rig.mac)!;
    expect(nic.lldp.length).toBeGreaterThan(3);
    expect(data.plugin_data.parsed_lldp[nic.name]).toMatchObject({
      switch_chassis_id: SWITCH_MAC, switch_port_id: 'tap0', switch_system_name: 'leaf-1', switch_port_description: 'tap0',
      switch_port_link_aggregation_support: true,
    });
    expect(data.inventory.bmc_address).toBe(BMC.address);
  }, 600_000);

  it('(b) the machine, unknown once its node is gone, discovers itself and a rule makes it manageable with its BMC', async () => {
    const rule = await rig.api.post('/v1/inspection_rules', {
      description: 'discovered machines: Redfish BMC at the address the agent found',
      sensitive: true,
      conditions: [{ op: '!is-empty', args: { value: '{inventory[bmc_address]}' } }],
      actions: [
        { op: 'set-attribute', args: { path: '/driver', value: 'redfish' } },
        { op: 'set-attribute', args: { path: '/driver_info/redfish_address', value: `http://{inventory[bmc_address]}:${BMC.port}` } },
        { op: 'set-attribute', args: { path: '/driver_info/redfish_username', value: rig.driverInfo().redfish_username } },
        { op: 'set-attribute', args: { path: '/driver_info/redfish_password', value: rig.bmcPassword } },
      ],
    }, { headers: RULES_VERSION });
    expect(rule.status, JSON.stringify(rule.data)).toBe(201);
    expect((await rig.api.delete(`/v1/nodes/${enrolled}`)).status).toBe(204);

    await rig.timed('discovery (PXE boot of an unknown machine)', async () => {
      // Fast track left the agent running after (a): the machine is switched off and on, into PXE.
      await rig.machine.power('off');
      await rig.machine.setBootOverride({ device: 'pxe', persistent: false });
      await rig.machine.power('on');
      for (let i = 0; ; i++) {
        const nodes = (await rig.api.get('/v1/nodes')).data.nodes as { uuid: string }[];
        if (nodes.length > 0) break;
        if (i > 600) throw new Error(`no node discovered after 300 s\n${await rig.diagnostics()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    const [found] = (await rig.api.get('/v1/nodes')).data.nodes as { uuid: string }[];
    const node = await rig.timed('discovered node: rule, manage', () => rig.waitForState(found.uuid, 'manageable', 120)).catch(async (err) => {
      const history = (await rig.api.get(`/v1/nodes/${found.uuid}/history`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' } })).data.history as { event: string }[];
      throw new Error(`${(err as Error).message}\n--- node history ---\n${history.map((h) => h.event).join('\n')}`);
    });
    expect(node).toMatchObject({ driver: 'redfish', last_error: null, power_state: 'power on' });
    expect((node.driver_info as Record<string, unknown>).redfish_address).toBe(`http://${BMC.address}:${BMC.port}`);
    expect(JSON.stringify(node)).not.toContain(rig.bmcPassword);
    expect(node.properties).toMatchObject({ cpus: 2, memory_mb: expect.any(Number), cpu_arch: 'x86_64' });
    const ports = (await rig.api.get(`/v1/ports/detail?node=${found.uuid}`)).data.ports as { address: string; pxe_enabled: boolean; local_link_connection: unknown }[];
    expect(ports).toEqual([expect.objectContaining({ address: rig.mac, pxe_enabled: true, local_link_connection: NEIGHBOUR })]);
    const data = (await rig.api.get(`/v1/nodes/${found.uuid}/inventory`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.81' } })).data;
    expect(data.plugin_data).toMatchObject({ auto_discovered: true });

    // The same machine again: its MAC is on a node now, so netboot has no boot script for it, and its
    // inventory posted again (booted some other way) makes no second node.
    await rig.machine.power('off');
    const script = await rig.ns.run('prov', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${SERVER}:8080/boot/${rig.mac}.ipxe`]);
    expect(script).toBe('404');
    const again = await rig.api.post('/v1/continue_inspection', { inventory: data.inventory }, { headers: { 'X-OpenStack-Ironic-API-Version': '1.84' } });
    expect(again.status).toBe(404);
    expect(((await rig.api.get('/v1/nodes')).data.nodes as unknown[]).length).toBe(1);
  }, 600_000);
});
