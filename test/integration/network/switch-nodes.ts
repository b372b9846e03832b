// What the switch tests with the simulated agent share: their networks, and nodes whose
// simulated NICs are plugged into the test's switch ports.
import { expect } from 'vitest';
import type { AgentHarness } from '../deploy/agent-harness.ts';

type Json = Record<string, any>;

/** Creates networks by name: the kind, the VLAN. */
export async function createNetworks(h: AgentHarness, networks: Record<string, [kind: string, vlan: number]>): Promise<void> {
  for (const [name, [kind, vlan]] of Object.entries(networks)) {
    const res = await h.call('POST', '/v1/networks', { name, kind, vlan_id: vlan });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
}

/** A node for a new simulated machine, its NICs plugged into `plugs` (switch, port) in order; its ports by NIC. */
export async function switchNode(h: AgentHarness, name: string, fields: Json, plugs: [string, string][]) {
  const n = await h.enroll(name, { network_interface: 'switch', ...fields });
  const ports = (await h.call('GET', `/v1/ports?node=${n.uuid}&detail=True`)).body.ports as Json[];
  const byMac = n.machine.hardware.nics.map((nic) => ports.find((p) => p.address === nic.mac)!);
  for (const [i, [sw, portId]] of plugs.entries()) {
    const res = await h.call('PATCH', `/v1/ports/${byMac[i].uuid}`, [{ op: 'add', path: '/local_link_connection', value: { switch_info: sw, port_id: portId } }]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return { ...n, ports: byMac };
}
