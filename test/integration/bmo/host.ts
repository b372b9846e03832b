// A BareMetalHost as BMO's Ironic provisioner sees it (pkg/provisioner/ironic/ironic.go): the
// client it made in factory.go, the host's name, UID and BMC, the node it found or created, and
// the reconcile loop's re-reads of the node until Ironic reaches the state it waits for.
import { expect } from 'vitest';
import type { AccessDetails } from './access.ts';
import { getSupportedMicroversions, nodes, type ServiceClient } from './gophercloud.ts';

/** The provisioner's maxBusyHosts (PROVISIONING_LIMIT, default 20). */
const MAX_BUSY_HOSTS = 20;

export interface Host {
  client: ServiceClient;
  namespace: string;
  name: string;
  /** The BareMetalHost's Kubernetes UID: BMO's instance_uuid and config-drive uuid. */
  uid: string;
  access: AccessDetails;
  credentials: { username: string; password: string };
  bootMACAddress: string;
  /** The provisioner's ironicConfig: deploy ramdisk URLs (DEPLOY_KERNEL_URL, DEPLOY_RAMDISK_URL, DEPLOY_ISO_URL). */
  deployImages: { kernel: string; ramdisk: string; iso: string };
  /** p.nodeID, once registered. */
  nodeID?: string;
}

/** ironicNodeName: namespace~name. */
export function ironicNodeName(host: Host): string {
  return `${host.namespace}~${host.name}`;
}

/**
 * clients.GetAvailableFeatures then ChooseMicroversion (clients/features.go): 1.89 is BMO's floor;
 * 1.93 brings the vmedia GET, 1.95 disable_power_off, 1.109 the health API, 1.110 deployment abort.
 */
export async function chooseMicroversion(client: ServiceClient): Promise<{ max: number; chosen: string }> {
  const { max } = await getSupportedMicroversions(client);
  if (max[0] !== 1 || max[1] < 89) throw new Error(`ironic API 1.89 or newer is required, got ${max[0]}.${max[1]}`);
  const m = max[1];
  const chosen = m >= 110 ? '1.110' : m >= 109 ? '1.109' : m >= 95 ? '1.95' : m >= 93 ? '1.93' : '1.89';
  client.microversion = chosen;
  return { max: m, chosen };
}

const FAILED = ['enroll failed', 'inspect failed', 'clean failed', 'deploy failed', 'service failed', 'error', 'adopt failed'];

/**
 * The reconcile loop's re-reads (getNode, uncached after a state change): until the node is in
 * `state` with no target, failing on a failure state, a last_error, or when `ms` passes.
 */
export async function untilState(host: Host, state: string, ms = 120_000): Promise<any> {
  const deadline = Date.now() + ms;
  let node: any;
  for (;;) {
    node = await nodes.get(host.client, host.nodeID!);
    if (node.provision_state === state && !node.target_provision_state) break;
    if (FAILED.includes(node.provision_state) && node.provision_state !== state) {
      throw new Error(`node ${node.uuid} went to ${node.provision_state} waiting for ${state}: ${node.last_error}`);
    }
    if (Date.now() > deadline) throw new Error(`node ${node.uuid} still ${node.provision_state} (target ${node.target_provision_state}) after ${ms} ms waiting for ${state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(node.last_error ?? '', `last_error of ${node.uuid} in ${state}`).toBe('');
  return node;
}

const BUSY = ['cleaning', 'clean wait', 'inspecting', 'inspect wait', 'deploying', 'wait call-back', 'deleting'];

/**
 * HasCapacity, asked before inspecting and provisioning: ISO-booting BMCs always have it; the
 * others count the nodes busy on the provisioning network (loadBusyHosts: one list of uuid, name,
 * provision_state and boot_interface, the virtual media ones left out).
 */
export async function hasCapacity(host: Host): Promise<boolean> {
  if (host.access.supportsIso) return true;
  const all = await nodes.list(host.client, ['uuid,name,provision_state,boot_interface']);
  const busy = new Set(all.filter((n) => BUSY.includes(n.provision_state) && !String(n.boot_interface).includes('virtual-media')).map((n) => n.name));
  // Listed with only the fields asked for: the name and state BMO reads are there.
  if (all.length) expect(Object.keys(all[0]).sort()).toEqual(expect.arrayContaining(['boot_interface', 'name', 'provision_state', 'uuid']));
  return busy.has(ironicNodeName(host)) || busy.size < MAX_BUSY_HOSTS;
}
