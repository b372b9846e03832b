// BMO's Provision (ironic.go): from manageable TargetProvide (automated cleaning), then from
// available setUpForProvisioning (getInstanceUpdateOpts: instance_uuid, instance_info, the custom
// deploy or direct deploy options; then validateNode), and TargetActive with getConfigDrive's
// config drive and getCustomDeploySteps' deploy step. The host is OpenShift's: a custom deploy
// (spec.customDeploy.method install_coreos) of a CoreOS image with an Ignition config as user data.
import { expect } from 'vitest';
import { untilState, type Host } from './host.ts';
import { nodes } from './gophercloud.ts';

type Json = Record<string, unknown>;

export interface ProvisionData {
  image: { url: string; checksum: string; checksumType: 'sha256'; diskFormat: string };
  /** spec.customDeploy.method (OpenShift: install_coreos). */
  customDeployMethod: string;
  /** The user data secret: an Ignition config for CoreOS. */
  userData: string;
}

/** customDeployPriority. */
const CUSTOM_DEPLOY_PRIORITY = 80;

/** getInstanceUpdateOpts against a node that has no instance_info yet: every desired value is an "add". */
export function instanceUpdateOps(host: Host, node: any, data: ProvisionData): Json[] {
  const ops: Json[] = [{ op: 'add', path: '/instance_uuid', value: host.uid }];
  const instanceInfo: Json = {
    // buildInstanceInfoCapabilities: {} unless secure boot; MakeHintMap: {} without root device hints.
    capabilities: {},
    root_device: {},
    image_source: data.image.url,
    image_os_hash_algo: data.image.checksumType,
    image_os_hash_value: data.image.checksum,
    image_disk_format: data.image.diskFormat,
  };
  for (const [k, v] of Object.entries(instanceInfo)) ops.push({ op: 'add', path: `/instance_info/${k}`, value: v });
  // setCustomDeployUpdateOptsForNode: its nil values (boot_iso, image_checksum, image_pull_secret)
  // are absent from the node, so no "remove"; deploy_interface was custom-agent from enrolment.
  if (node.deploy_interface !== 'custom-agent') ops.push({ op: 'add', path: '/deploy_interface', value: 'custom-agent' });
  return ops;
}

/** getConfigDrive: user data as given, BMO's meta data keys (no network data secret here). */
export function configDrive(host: Host, data: ProvisionData): Json {
  return {
    meta_data: { uuid: host.uid, 'metal3-namespace': host.namespace, 'metal3-name': host.name, 'local-hostname': host.name, local_hostname: host.name, name: host.name },
    user_data: data.userData,
  };
}

/** Provide from manageable: automated cleaning to available. */
export async function provide(host: Host): Promise<any> {
  await nodes.changeProvisionState(host.client, host.nodeID!, { target: 'provide' });
  return untilState(host, 'available', 180_000);
}

/** From available: setUpForProvisioning, validateNode, TargetActive; waits for active. */
export async function provision(host: Host, data: ProvisionData): Promise<any> {
  const node = await nodes.get(host.client, host.nodeID!);
  const updated = await nodes.update(host.client, host.nodeID!, instanceUpdateOps(host, node, data));
  expect(updated.instance_uuid).toBe(host.uid);
  expect(updated.instance_info).toMatchObject({ image_source: data.image.url, image_os_hash_value: data.image.checksum, capabilities: {}, root_device: {} });
  expect(updated.deploy_interface).toBe('custom-agent');
  // validateNode: the boot and deploy interfaces' results decide.
  const v = await nodes.validate(host.client, host.nodeID!);
  expect(v.boot, `boot validation: ${v.boot.reason}`).toMatchObject({ result: true });
  expect(v.deploy, `deploy validation: ${v.deploy.reason}`).toMatchObject({ result: true });
  await nodes.changeProvisionState(host.client, host.nodeID!, {
    target: 'active',
    configdrive: configDrive(host, data),
    deploy_steps: [{ interface: 'deploy', step: data.customDeployMethod, args: {}, priority: CUSTOM_DEPLOY_PRIORITY }],
  });
  return untilState(host, 'active', 180_000);
}
