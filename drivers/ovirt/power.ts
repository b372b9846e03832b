// The `ovirt` power interface (staging-ovirt's OVirtPower): the VM's status as the power state;
// start, stop (hard off) and shutdown (the guest's ACPI off) as the changes, each followed by a
// wait until the Engine reports the VM settled, since its actions return before the VM changes.
import type { PowerInterface, TaskContext } from '../interfaces.ts';
import { OVIRT_PROPERTIES, parseOvirtInfo } from './driver-info.ts';
import { act, powerOf, readVm, statusOf, vmOf, waitFor, type PowerState, type VmHandle } from './vm.ts';

async function currentPower(ctx: TaskContext, vm: VmHandle): Promise<{ status: string; power: PowerState }> {
  const status = statusOf(vm, await readVm(vm, ctx.signal));
  return { status, power: powerOf(vm, status) };
}

async function start(ctx: TaskContext, vm: VmHandle, timeoutSec: number): Promise<void> {
  if ((await currentPower(ctx, vm)).power !== 'power on') await act(vm, 'start', ctx.signal);
  await waitFor(ctx, vm, 'power on', timeoutSec);
}

async function stop(ctx: TaskContext, vm: VmHandle, how: 'stop' | 'shutdown', timeoutSec: number): Promise<void> {
  const { status } = await currentPower(ctx, vm);
  // A VM already powering down may still be stopped hard; one that is down needs nothing.
  if (status !== 'down' && !(how === 'shutdown' && status === 'powering_down')) await act(vm, how, ctx.signal);
  await waitFor(ctx, vm, 'power off', timeoutSec);
}

export const ovirtPower: PowerInterface = {
  name: 'ovirt',
  properties: OVIRT_PROPERTIES,
  // Only driver_info: the API validates without calling the Engine; verification (manage) reads the VM, so a missing one fails there.
  validate(node) {
    parseOvirtInfo(node);
  },
  async getPowerState(ctx) {
    return (await currentPower(ctx, await vmOf(ctx))).power;
  },
  async setPowerState(ctx, target, timeoutSec = ctx.config.conductor.powerStateChangeTimeout) {
    const vm = await vmOf(ctx);
    if (target === 'power on') await start(ctx, vm, timeoutSec);
    else await stop(ctx, vm, target === 'power off' ? 'stop' : 'shutdown', timeoutSec);
  },
  // A soft reboot is the Engine's reboot action (the guest restarts, the VM process stays). A hard one
  // is stop then start: a new VM process, so a boot device set meanwhile takes effect, as the Engine
  // applies a running VM's boot order at its next run.
  async reboot(ctx, soft, timeoutSec = ctx.config.conductor.powerStateChangeTimeout) {
    const vm = await vmOf(ctx);
    const { power } = await currentPower(ctx, vm);
    if (power === 'power on' && soft) {
      await act(vm, 'reboot', ctx.signal);
      await waitFor(ctx, vm, 'rebooted', timeoutSec);
      return;
    }
    if (power === 'power on') await stop(ctx, vm, 'stop', timeoutSec);
    await start(ctx, vm, timeoutSec);
  },
};
