// BMO's Register (pkg/provisioner/ironic/register.go): find the host's node (by ID, by name, by
// boot MAC), enroll it with enrollNode's body, create its ports (createPortsForNode,
// createNodePort), move it to manageable, then configureNode's PATCH (deploy ramdisk in
// driver_info, automated_clean, capabilities).
import { expect } from 'vitest';
import { ironicNodeName, untilState, type Host } from './host.ts';
import { nodes, ports, responseCodeIs } from './gophercloud.ts';

type Json = Record<string, unknown>;

export interface ManagementAccessData { disablePowerOff: boolean; bootMode: 'UEFI' | 'legacy'; cpuArchitecture: string; hasCustomDeploy: boolean }

/** bootModeCapabilities (capabilities.go). */
export function capabilitiesFor(bootMode: ManagementAccessData['bootMode']): string {
  return bootMode === 'UEFI' ? 'boot_mode:uefi' : 'boot_mode:bios';
}

/** findExistingHost for a host never registered: no node by name (nor by the bare name), no port with its boot MAC. */
async function findExistingHost(host: Host): Promise<void> {
  const names = [ironicNodeName(host), ...(host.name.includes('~') ? [] : [host.name])];
  for (const name of names) {
    const err = await nodes.get(host.client, name).then(() => null, (e) => e);
    // gophercloud.ResponseCodeIs(err, 404): anything else is an error BMO reports.
    expect(responseCodeIs(err, 404), `GET /v1/nodes/${name}: ${err}`).toBe(true);
  }
  // getPorts with the address filter and BMO's fields.
  expect(await ports.list(host.client, { fields: ['node_uuid', 'uuid', 'address'], address: host.bootMACAddress })).toEqual([]);
}

/** enrollNode: nodes.CreateOpts, whose empty strings gophercloud leaves out (omitempty). */
export function enrollBody(host: Host, data: ManagementAccessData): Json {
  const a = host.access;
  const body: Json = {
    driver: a.driver,
    bios_interface: a.biosInterface,
    boot_interface: a.bootInterface,
    name: ironicNodeName(host),
    driver_info: a.driverInfo(host.credentials),
    firmware_interface: a.firmwareInterface,
    // deployInterface(): custom-agent for a custom deploy (OpenShift's install_coreos), "" otherwise.
    deploy_interface: data.hasCustomDeploy ? 'custom-agent' : '',
    // inspectInterfaceForMode: "agent" unless the host asks for fast (out-of-band) inspection.
    inspect_interface: 'agent',
    management_interface: a.managementInterface,
    power_interface: a.powerInterface,
    raid_interface: a.raidInterface,
    vendor_interface: a.vendorInterface,
    // DisablePowerOff is a *bool: always sent.
    disable_power_off: data.disablePowerOff,
    properties: { capabilities: capabilitiesFor(data.bootMode), cpu_arch: data.cpuArchitecture },
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== ''));
}

/** createNodePort: look the MAC up first; a port of this node is kept, one of another node is an error. */
export async function createNodePort(host: Host, mac: string, pxe: boolean): Promise<void> {
  const existing = await ports.list(host.client, { fields: ['node_uuid', 'uuid', 'address'], address: mac });
  for (const p of existing) expect(p.node_uuid, `port ${mac} belongs to another node`).toBe(host.nodeID);
  if (existing.length) return;
  const port = await ports.create(host.client, { node_uuid: host.nodeID!, address: mac, pxe_enabled: pxe });
  expect(port).toMatchObject({ address: mac, node_uuid: host.nodeID, pxe_enabled: pxe });
}

/** createPortsForNode: the boot MAC (PXE) and, after inspection, each NIC of the HardwareData. */
export async function createPortsForNode(host: Host, nics: { mac: string; pxe: boolean }[] = []): Promise<void> {
  const mine = await ports.list(host.client, { fields: ['node_uuid', 'uuid', 'address'], node_uuid: host.nodeID });
  const have = new Set(mine.map((p) => p.address));
  const wanted = new Map<string, boolean>();
  for (const nic of nics) if (nic.mac && !have.has(nic.mac)) wanted.set(nic.mac, nic.pxe);
  if (!have.has(host.bootMACAddress)) wanted.set(host.bootMACAddress, true);
  for (const [mac, pxe] of wanted) await createNodePort(host, mac, pxe);
}

/** setDeployImage without a PreprovisioningImage builder: deploy_iso on ISO-capable BMCs, else kernel and ramdisk. */
function deployImageInfo(host: Host): Json {
  return host.access.supportsIso ? { deploy_iso: host.deployImages.iso } : { deploy_kernel: host.deployImages.kernel, deploy_ramdisk: host.deployImages.ramdisk };
}

/** configureNode's updater on a node that has none of it yet: "add" ops (Add also replaces). */
export async function configureNode(host: Host, node: any): Promise<any> {
  const ops: Json[] = [];
  for (const [k, v] of Object.entries(deployImageInfo(host))) {
    if (node.driver_info?.[k] !== v) ops.push({ op: 'add', path: `/driver_info/${k}`, value: v });
  }
  // AutomatedCleaningMode metadata (the default): automated_clean true; a *bool BMO compares with the node's.
  if (node.automated_clean !== true) ops.push({ op: 'add', path: '/automated_clean', value: true });
  if (ops.length === 0) return node;
  const updated = await nodes.update(host.client, host.nodeID!, ops);
  for (const [k, v] of Object.entries(deployImageInfo(host))) expect(updated.driver_info[k]).toBe(v);
  expect(updated.automated_clean).toBe(true);
  return updated;
}

/** The reconciles of registering: enroll, ports, manage, then configureNode once the node is manageable. */
export async function register(host: Host, data: ManagementAccessData): Promise<any> {
  await findExistingHost(host);
  const body = enrollBody(host, data);
  const created = await nodes.create(host.client, body);
  host.nodeID = created.uuid;
  // What BMO reads back: the interfaces it named, the defaults for the rest, power-off allowed.
  expect(created).toMatchObject({ name: ironicNodeName(host), driver: host.access.driver, provision_state: 'enroll', disable_power_off: data.disablePowerOff });
  for (const iface of ['bios', 'boot', 'firmware', 'raid', 'vendor', 'management', 'power'] as const) {
    const named = body[`${iface}_interface`];
    if (named) expect(created[`${iface}_interface`], `${iface}_interface`).toBe(named);
  }
  await createPortsForNode(host);
  // State enroll, no target yet: TargetManage.
  await nodes.changeProvisionState(host.client, host.nodeID!, { target: 'manage' });
  const manageable = await untilState(host, 'manageable');
  // The next Register finds the node by ID; nothing in it differs (name, disable_power_off), its port is there.
  const again = await nodes.get(host.client, host.nodeID!);
  expect(again.name).toBe(ironicNodeName(host));
  await createPortsForNode(host);
  return configureNode(host, manageable);
}
