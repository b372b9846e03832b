// The `ilo` hardware type: Redfish plus HPE iLO 5's differences. Boot and BIOS PATCHes are refused
// while the host is in POST (Oem.Hpe.PostState), so they wait for it; BootSourceOverrideMode is
// read-only (the boot mode changes only in the BIOS setup); a one-time boot from virtual media uses
// the device's Oem.Hpe.BootOnNextServerReset.
import { BmcTimeout, UnsupportedOperation } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { BootDevice, BootMode, DriverFamily } from '../interfaces.ts';
import { RedfishError } from '../redfish/client.ts';
import { redfishVirtualMediaBoot } from '../redfish/boot.ts';
import { redfishHardwareType } from '../redfish/index.ts';
import { redfishInspect } from '../redfish/inspect.ts';
import { bootModeOf, redfishManagement, standardSetBootDevice } from '../redfish/management.ts';
import { redfishPower } from '../redfish/power.ts';
import { isObject, type RedfishNode } from '../redfish/system.ts';
import type { Vendor } from '../redfish/vendor.ts';

const IN_POST = new Set(['InPost', 'InPostDiscoveryStart']);

/** Runs a change, waiting out POST: before (PostState) and after a refusal (UnableToModifyDuringSystemPOST). */
async function afterPost(rn: RedfishNode, change: () => Promise<void>): Promise<void> {
  await pollUntil(async () => {
    const system = await rn.system();
    const hpe = isObject(system.Oem) && isObject(system.Oem.Hpe) ? system.Oem.Hpe : {};
    if (IN_POST.has(String(hpe.PostState))) return undefined;
    try {
      await change();
      return true;
    } catch (err) {
      if (err instanceof RedfishError && err.hasMessage('UnableToModifyDuringSystemPOST')) return undefined;
      throw err;
    }
  }, {
    timeoutSec: rn.powerTimeoutSec, signal: rn.signal,
    timedOut: () => new BmcTimeout(`The iLO of node ${rn.node.uuid} stayed in POST for ${rn.powerTimeoutSec} s; the change could not be made`),
  });
}

async function setBootDevice(rn: RedfishNode, device: BootDevice, persistent: boolean): Promise<void> {
  await afterPost(rn, () => standardSetBootDevice(rn, device, persistent));
}

async function setBootMode(rn: RedfishNode, mode: BootMode): Promise<void> {
  const current = bootModeOf(await rn.system());
  if (current === mode) return;
  throw new UnsupportedOperation(`The iLO of node ${rn.node.uuid} boots in ${current ?? 'an unknown'} mode and does not allow changing the boot mode through Redfish (BootSourceOverrideMode is read-only); change it in the BIOS setup`);
}

async function bootFromMedia(rn: RedfishNode, persistent: boolean): Promise<void> {
  const device = await rn.cdDevice();
  if (!persistent && isObject(device.doc.Oem) && isObject(device.doc.Oem.Hpe) && 'BootOnNextServerReset' in device.doc.Oem.Hpe) {
    await afterPost(rn, async () => { await rn.client.patch(device.path, { Oem: { Hpe: { BootOnNextServerReset: true } } }); });
    return;
  }
  await setBootDevice(rn, 'cdrom', persistent);
}

export const ILO: Vendor = { name: 'ilo', bootName: 'ilo-virtual-media', setBootDevice, setBootMode, bootFromMedia };

export const iloFamily: DriverFamily = {
  implementations: {
    power: [redfishPower(ILO)],
    management: [redfishManagement(ILO)],
    inspect: [redfishInspect(ILO)],
    boot: [redfishVirtualMediaBoot(ILO)],
  },
  hardwareTypes: [redfishHardwareType('ilo', ILO)],
};
