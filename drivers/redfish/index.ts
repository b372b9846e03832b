// The `redfish` hardware type: Redfish power, management, inspect, virtual-media and UEFI HTTP boot, beside
// the network boot and deploy interfaces other families provide (listed by name).
import type { DriverFamily, HardwareType } from '../interfaces.ts';
import { redfishBios } from './bios.ts';
import { redfishFirmware } from './firmware.ts';
import { redfishVendor } from './vendor-passthru.ts';
import { redfishRaid } from './raid.ts';
import { redfishVirtualMediaBoot } from './boot.ts';
import { redfishHttpsBoot, REDFISH_HTTPS_BOOT } from './https-boot.ts';
import { closeAllClients } from './connections.ts';
import { redfishInspect } from './inspect.ts';
import { redfishManagement } from './management.ts';
import { redfishPower } from './power.ts';
import type { Vendor } from './vendor.ts';
import { NO_OP_INTERFACE_LISTS } from '../noop/index.ts';

export const REDFISH: Vendor = { name: 'redfish', bootName: 'redfish-virtual-media' };

export const redfishPowerInterface = redfishPower(REDFISH);
export const redfishManagementInterface = redfishManagement(REDFISH);
export const redfishInspectInterface = redfishInspect(REDFISH);
export const redfishBootInterface = redfishVirtualMediaBoot(REDFISH);

/** A Redfish-based hardware type's interface lists: the vendor's own first, plain Redfish beside. */
export function redfishHardwareType(name: string, vendor: Vendor): HardwareType {
  const own = (generic: string) => (vendor.name === REDFISH.name ? [generic] : [vendor.name, generic]);
  const oob = vendor.ownOutOfBand ? [vendor.name, 'redfish'] : ['redfish'];
  return {
    name,
    interfaces: {
      power: own('redfish'),
      management: own('redfish'),
      // redfish-https on plain Redfish only: Ironic's idrac type inherits it too, but iDRAC's own boot override (idrac-redfish management) is not taught HttpBootUri here.
      boot: ['ipxe', 'pxe', 'http', ...(vendor.bootName === REDFISH.bootName ? [] : [vendor.bootName]), 'redfish-virtual-media', ...(vendor.name === REDFISH.name ? [REDFISH_HTTPS_BOOT] : []), 'fake'],
      deploy: ['direct', 'custom-agent', 'ramdisk', 'fake'],
      inspect: [...own('redfish'), 'agent', 'no-inspect'],
      ...NO_OP_INTERFACE_LISTS,
      // The BMC's own implementations first, as Ironic's redfish and idrac types list them: a node
      // enrolled without naming them (BMO leaves bios and vendor empty for redfish:// hosts) gets
      // them by default, so its HostFirmwareSettings and BIOS steps work as on Ironic.
      bios: [...oob, 'no-bios'],
      raid: [...oob, 'no-raid'],
      firmware: ['redfish', 'no-firmware'],
      vendor: [...oob, 'no-vendor'],
    },
  };
}

export const redfishFamily: DriverFamily = {
  implementations: {
    power: [redfishPowerInterface],
    management: [redfishManagementInterface],
    inspect: [redfishInspectInterface],
    boot: [redfishBootInterface, redfishHttpsBoot()],
    raid: [redfishRaid('redfish')],
    bios: [redfishBios(REDFISH)],
    firmware: [redfishFirmware('redfish')],
    vendor: [redfishVendor('redfish')],
  },
  hardwareTypes: [redfishHardwareType('redfish', REDFISH)],
  // Every Redfish-based family (idrac, ilo) shares these clients: closing them here closes theirs.
  close: closeAllClients,
};
