// BMO's Service (servicing.go) on an active host: buildServiceSteps (bios.apply_configuration for
// changed settings, firmware.update with {component, url} settings) as TargetService, back to active.
import type { Host } from './host.ts';
import { nodes } from './gophercloud.ts';
import { untilState } from './host.ts';

type Json = Record<string, unknown>;

/** getFirmwareComponentsUpdates: spec.updates of the HostFirmwareComponents. */
export function firmwareUpdateStep(updates: { component: string; url: string }[]): Json {
  return { interface: 'firmware', step: 'update', args: { settings: updates.map((u) => ({ component: u.component, url: u.url })) } };
}

export async function service(host: Host, steps: Json[]): Promise<any> {
  await nodes.changeProvisionState(host.client, host.nodeID!, { target: 'service', service_steps: steps });
  return untilState(host, 'active', 120_000);
}
