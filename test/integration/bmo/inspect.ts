// BMO's InspectHardware (pkg/provisioner/ironic/inspecthardware.go): startInspection (the updater
// for capabilities and inspect_interface, then TargetInspect), the waits, then GetInventory,
// whose NICs the next Register turns into ports.
import { expect } from 'vitest';
import { untilState, type Host } from './host.ts';
import { nodes } from './gophercloud.ts';
import { capabilitiesFor, createPortsForNode } from './register.ts';

export async function inspectHardware(host: Host, node: any, bootMode: 'UEFI' | 'legacy'): Promise<{ inventory: any; nics: { mac: string; pxe: boolean }[] }> {
  // startInspection's updater: both values are what the node holds, so no PATCH is sent.
  expect(node.properties.capabilities).toBe(capabilitiesFor(bootMode));
  expect(node.inspect_interface).toBe('agent');
  await nodes.changeProvisionState(host.client, host.nodeID!, { target: 'inspect' });
  await untilState(host, 'manageable');
  const data = await nodes.getInventory(host.client, host.nodeID!);
  const inv = data.inventory;
  // hardwaredetails.GetHardwareDetails reads these.
  expect(inv.interfaces.length).toBeGreaterThan(0);
  expect(inv.disks.length).toBeGreaterThan(0);
  expect(inv.cpu.count).toBeGreaterThan(0);
  expect(inv.memory.physical_mb).toBeGreaterThan(0);
  // getNICDetails: a NIC is PXE when its MAC is the inventory's boot.pxe_interface.
  const pxe = String(inv.boot?.pxe_interface ?? '').toLowerCase();
  const nics = inv.interfaces.map((i: any) => ({ mac: i.mac_address, pxe: i.mac_address.toLowerCase() === pxe }));
  await createPortsForNode(host, nics);
  return { inventory: inv, nics };
}
