// The Redfish power interface: ComputerSystem.Reset with the reset types the system advertises,
// then a wait until the BMC reports the new state.
import { BmcTimeout, UnsupportedOperation } from '../../common/errors.ts';
import type { PowerInterface, TaskContext } from '../interfaces.ts';
import { parseRedfishInfo, REDFISH_PROPERTIES } from './driver-info.ts';
import { powerStateOf, RedfishNode, rememberSystemRead } from './system.ts';
import type { Vendor } from './vendor.ts';

async function must(rn: RedfishNode, preferred: string[], what: string): Promise<string> {
  const type = await rn.pickReset(preferred);
  if (!type) throw new UnsupportedOperation(`The BMC of node ${rn.node.uuid} advertises none of the reset types ${preferred.join(', ')} needed to ${what}`);
  return type;
}

/** The BMC reports `state`; then the vendor's settling (iRMC's POST), if any. */
async function reached(rn: RedfishNode, vendor: Vendor, state: 'power on' | 'power off', timeout: number): Promise<void> {
  await rn.waitForPower(state, timeout);
  await vendor.settlePower?.(rn, state);
}

async function powerOn(ctx: TaskContext, rn: RedfishNode, vendor: Vendor, timeout: number): Promise<void> {
  await rn.reset(await must(rn, ['On', 'ForceOn', 'PushPowerButton'], 'power on'));
  await reached(rn, vendor, 'power on', timeout);
}

async function powerOff(ctx: TaskContext, rn: RedfishNode, vendor: Vendor, timeout: number, soft: boolean): Promise<void> {
  if (soft) {
    const graceful = await rn.pickReset(['GracefulShutdown']);
    if (graceful) {
      await rn.reset(graceful);
      try {
        await reached(rn, vendor, 'power off', timeout);
        return;
      } catch (err) {
        if (!(err instanceof BmcTimeout)) throw err;
        await ctx.note(`Soft power off of node ${rn.node.uuid} did not finish in ${timeout} s; forcing power off`, 'warning');
      }
    }
  }
  await rn.reset(await must(rn, ['ForceOff', 'PushPowerButton'], 'power off'));
  await reached(rn, vendor, 'power off', timeout);
}

export function redfishPower(vendor: Vendor): PowerInterface {
  return {
    name: vendor.name,
    properties: REDFISH_PROPERTIES,
    validate(node) {
      parseRedfishInfo(node);
    },
    async getPowerState(ctx) {
      const system = await (await RedfishNode.open(ctx)).system();
      rememberSystemRead(ctx, system);
      return powerStateOf(system);
    },
    async setPowerState(ctx, target, timeoutSec) {
      const rn = await RedfishNode.open(ctx);
      const timeout = timeoutSec ?? rn.powerTimeoutSec;
      const current = await rn.powerState();
      if (target === 'power on') {
        if (current !== 'power on') await powerOn(ctx, rn, vendor, timeout);
      } else if (current !== 'power off') {
        await powerOff(ctx, rn, vendor, timeout, target === 'soft power off');
      }
    },
    async reboot(ctx, soft, timeoutSec) {
      const rn = await RedfishNode.open(ctx);
      const timeout = timeoutSec ?? rn.powerTimeoutSec;
      const system = await rn.system();
      if ((await rn.powerState()) === 'power off') {
        await powerOn(ctx, rn, vendor, timeout);
        return;
      }
      const type = await rn.pickReset(soft ? ['GracefulRestart'] : ['ForceRestart', 'PowerCycle'], system);
      if (type) {
        await rn.reset(type, system);
        // A restart may pass through off too quickly to see; the node must end up on.
        await reached(rn, vendor, 'power on', timeout);
        return;
      }
      await powerOff(ctx, rn, vendor, timeout, soft);
      await powerOn(ctx, rn, vendor, timeout);
    },
  };
}
