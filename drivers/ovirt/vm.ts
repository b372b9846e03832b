// The VM of a node on its Engine: found by name (GET /vms?search=name=NAME, as staging-ovirt does),
// its status read and mapped to Ironic's power states, its actions (start, stop, shutdown, reboot)
// posted, and the waits until the Engine reports the VM settled.
import { DriverError } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { TaskContext } from '../interfaces.ts';
import { engineClient, OvirtError, type EngineClient, type Json } from './client.ts';
import { parseOvirtInfo, type OvirtInfo } from './driver-info.ts';

export type PowerState = 'power on' | 'power off';

/**
 * The Engine's VmStatus values (ovirt-engine-api-model types/VmStatus.java) as Ironic power states,
 * as staging-ovirt maps them; the rest (paused, not_responding, unknown, unassigned...) are errors.
 */
const POWER_OF: Readonly<Record<string, PowerState>> = {
  up: 'power on', powering_up: 'power on', reboot_in_progress: 'power on', wait_for_launch: 'power on', migrating: 'power on',
  restoring_state: 'power on',
  down: 'power off', powering_down: 'power off', image_locked: 'power off', suspended: 'power off', saving_state: 'power off',
};

/**
 * When a wait is over. On: the VM process runs and the guest is starting (powering_up lasts until a
 * guest agent reports, which a deploy ramdisk never does). Off: only `down`, as a VM still
 * powering down cannot be started again.
 */
const SETTLED: Readonly<Record<PowerState | 'rebooted', ReadonlySet<string>>> = {
  'power on': new Set(['up', 'powering_up', 'reboot_in_progress']),
  'power off': new Set(['down']),
  // After the reboot action: the guest restarted (the status leaves reboot_in_progress).
  rebooted: new Set(['up', 'powering_up']),
};

export interface VmHandle {
  client: EngineClient;
  info: OvirtInfo;
  id: string;
}

const vmLabel = (info: OvirtInfo) => `VM "${info.vmName}" on oVirt Engine ${info.origin}`;

async function searchVm(client: EngineClient, info: OvirtInfo, signal?: AbortSignal): Promise<string> {
  const found = await client.request('GET', `/vms?search=${encodeURIComponent(`name=${info.vmName}`)}`, `search for VM ${info.vmName}`, undefined, signal);
  const vms = Array.isArray(found.vm) ? (found.vm as Json[]) : [];
  // The search matches case-insensitively and with wildcards; the node names one VM exactly.
  const vm = vms.find((v) => v.name === info.vmName) ?? (vms.length === 1 ? vms[0] : undefined);
  if (!vm || typeof vm.id !== 'string') throw new DriverError(`${vmLabel(info)} was not found`, 'OVirtVmNotFound');
  client.vmIds.set(info.vmName, vm.id);
  return vm.id;
}

/** The node's VM (its id looked up once per client). */
export async function vmOf(ctx: TaskContext): Promise<VmHandle> {
  const info = parseOvirtInfo(ctx.node);
  const client = engineClient(info);
  const id = client.vmIds.get(info.vmName) ?? (await searchVm(client, info, ctx.signal));
  return { client, info, id };
}

/** GET of the VM; a VM removed (404) since its id was cached is searched for again, once. */
export async function readVm(vm: VmHandle, signal?: AbortSignal): Promise<Json> {
  try {
    return await vm.client.request('GET', `/vms/${vm.id}`, `read of VM ${vm.info.vmName}`, undefined, signal);
  } catch (err) {
    if (!(err instanceof OvirtError) || err.httpStatus !== 404) throw err;
    vm.client.vmIds.delete(vm.info.vmName);
    vm.id = await searchVm(vm.client, vm.info, signal);
    return vm.client.request('GET', `/vms/${vm.id}`, `read of VM ${vm.info.vmName}`, undefined, signal);
  }
}

export function statusOf(vm: VmHandle, body: Json): string {
  if (typeof body.status !== 'string') throw new DriverError(`${vmLabel(vm.info)} has no status in the Engine's answer`, 'OVirtError');
  return body.status;
}

export function powerOf(vm: VmHandle, status: string): PowerState {
  const power = POWER_OF[status];
  if (!power) throw new DriverError(`${vmLabel(vm.info)} is in status "${status}", neither on nor off`, 'PowerStateFailure');
  return power;
}

/** POST /vms/{id}/{action} with an action body; the Engine answers with an action whose status is complete (or a fault). */
export async function act(vm: VmHandle, action: 'start' | 'stop' | 'shutdown' | 'reboot', signal?: AbortSignal): Promise<void> {
  const answer = await vm.client.request('POST', `/vms/${vm.id}/${action}`, `${action} of VM ${vm.info.vmName}`, {}, signal);
  if (answer.status === 'failed') {
    const fault = typeof answer.fault === 'object' && answer.fault ? answer.fault as Json : {};
    throw new DriverError(`${vmLabel(vm.info)}: ${action} failed${fault.reason ? `: ${String(fault.reason)}${fault.detail ? `: ${String(fault.detail)}` : ''}` : ''}`, 'PowerStateFailure');
  }
}

/** Reads the status until the VM settles in `target`; throws once timeoutSec has passed. */
export async function waitFor(ctx: TaskContext, vm: VmHandle, target: PowerState | 'rebooted', timeoutSec: number): Promise<void> {
  const interval = vm.info.pollIntervalSec * 1000;
  let last = '';
  await pollUntil(async () => {
    last = statusOf(vm, await readVm(vm, ctx.signal));
    return SETTLED[target].has(last) ? true : undefined;
  }, {
    timeoutSec, signal: ctx.signal, intervalMs: Math.min(interval, 200), maxIntervalMs: interval,
    timedOut: () => new DriverError(`${vmLabel(vm.info)} of node ${ctx.node.uuid} did not reach ${target === 'rebooted' ? '"up" after its reboot' : `"${target}"`} within ${timeoutSec} s (status ${last})`, 'PowerStateFailure'),
  });
}
