// The `ipmi` hardware type (and `vbmc`, the name VirtualBMC testers use): ipmitool power and
// management over IPMI 2.0 LAN, beside the network boot and deploy interfaces other families provide.
import type { DriverFamily, HardwareType } from '../interfaces.ts';
import { closeIpmiClients } from './client.ts';
import { ipmitoolManagement } from './management.ts';
import { ipmitoolSocatConsole } from './console.ts';
import { stopAllProxies } from '../socat-console.ts';
import { ipmitoolPower } from './power.ts';
import { ipmitoolVendor } from './vendor.ts';
import { NO_OP_INTERFACE_LISTS } from '../noop/index.ts';

function ipmiHardwareType(name: string): HardwareType {
  return {
    name,
    interfaces: {
      power: ['ipmitool'],
      management: ['ipmitool'],
      boot: ['ipxe', 'pxe', 'http', 'fake'],
      deploy: ['direct', 'custom-agent', 'ramdisk', 'fake'],
      inspect: ['agent', 'no-inspect', 'fake'],
      ...NO_OP_INTERFACE_LISTS,
      // no-console first, Ironic's default: a console is chosen, as on Ironic.
      console: ['no-console', 'ipmitool-socat'],
      // Ironic's ipmi type defaults to its ipmitool vendor interface.
      vendor: ['ipmitool', 'no-vendor'],
    },
  };
}

export const ipmiFamily: DriverFamily = {
  implementations: { power: [ipmitoolPower], management: [ipmitoolManagement], console: [ipmitoolSocatConsole], vendor: [ipmitoolVendor] },
  hardwareTypes: [ipmiHardwareType('ipmi'), ipmiHardwareType('vbmc')],
  async close() {
    await stopAllProxies();
    await closeIpmiClients();
  },
};
