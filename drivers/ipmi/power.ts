// The `ipmitool` power interface: Get Chassis Status and Chassis Control, then a wait until the BMC
// reports the new state (BMCs answer at once and change seconds later).
import { DriverError } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { PowerInterface, TaskContext } from '../interfaces.ts';
import { ChassisControl, Cmd, NetFn } from './protocol/constants.ts';
import { powerIsOn } from './protocol/chassis.ts';
import { IPMI_PROPERTIES, parseIpmiInfo, type IpmiInfo } from './driver-info.ts';
import { ipmiRequest, type RequestKind } from './client.ts';
import { bmcLabel, expectOk } from './transport.ts';
import { readChassisStatus, resendBootDevice } from './management.ts';

type PowerState = 'power on' | 'power off';

export async function readPowerState(info: IpmiInfo, kind: RequestKind = 'read'): Promise<PowerState> {
  return powerIsOn(await readChassisStatus(info, kind)) ? 'power on' : 'power off';
}

async function control(info: IpmiInfo, action: number, what: string): Promise<void> {
  expectOk(await ipmiRequest(info, 'change', NetFn.chassis, Cmd.chassisControl, [action]), `chassis control (${what})`, info.target);
}

/** Polls (every ipmi_poll_interval) until the BMC reports `target`; throws once `timeoutSec` has passed. */
async function waitFor(ctx: TaskContext, info: IpmiInfo, target: PowerState, timeoutSec: number): Promise<void> {
  const interval = info.pollIntervalSec * 1000;
  await pollUntil(async () => ((await readPowerState(info)) === target ? true : undefined), {
    timeoutSec, signal: ctx.signal, intervalMs: interval, maxIntervalMs: interval,
    timedOut: () => new DriverError(`BMC ${bmcLabel(info.target)} of node ${ctx.node.uuid} did not reach "${target}" within ${timeoutSec} s`, 'PowerStateFailure'),
  });
}

export const ipmitoolPower: PowerInterface = {
  name: 'ipmitool',
  properties: IPMI_PROPERTIES,
  validate(node) {
    parseIpmiInfo(node);
  },
  async getPowerState(ctx) {
    return readPowerState(parseIpmiInfo(ctx.node));
  },
  async setPowerState(ctx, target, timeoutSec = ctx.config.conductor.powerStateChangeTimeout) {
    const info = parseIpmiInfo(ctx.node);
    if (target === 'power on') {
      await resendBootDevice(ctx, info);
      await control(info, ChassisControl.powerUp, 'power on');
      await waitFor(ctx, info, 'power on', timeoutSec);
    } else if (target === 'power off') {
      await control(info, ChassisControl.powerDown, 'power off');
      await waitFor(ctx, info, 'power off', timeoutSec);
    } else {
      await control(info, ChassisControl.softShutdown, 'soft power off');
      await waitFor(ctx, info, 'power off', timeoutSec);
    }
  },
  // As Ironic: off (hard or soft), wait, on — a reset is refused by some BMCs when the host is off.
  async reboot(ctx, soft, timeoutSec = ctx.config.conductor.powerStateChangeTimeout) {
    const info = parseIpmiInfo(ctx.node);
    if ((await readPowerState(info)) === 'power on') {
      await control(info, soft ? ChassisControl.softShutdown : ChassisControl.powerDown, soft ? 'soft power off' : 'power off');
      await waitFor(ctx, info, 'power off', timeoutSec);
    }
    await resendBootDevice(ctx, info);
    await control(info, ChassisControl.powerUp, 'power on');
    await waitFor(ctx, info, 'power on', timeoutSec);
  },
};
