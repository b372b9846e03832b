// The `ipmi` hardware type (and `vbmc`, the name VirtualBMC testers use): ipmitool power and
// management over IPMI 2.0 LAN, beside the network boot and deploy interfaces other families provide.
import type { DriverFamily, HardwareType } from '../interfaces.ts';
import { ipmitoolManagement } from './management.ts';
import { ipmitoolPower } from './power.ts';

function ipmiHardwareType(name: string): HardwareType {
  return {
    name,
    interfaces: {
      power: ['ipmitool'],
      management: ['ipmitool'],
      boot: ['ipxe', 'pxe', 'http', 'fake'],
      deploy: ['direct', 'fake'],
      inspect: ['agent', 'no-inspect', 'fake'],
      bios: ['no-bios'],
      console: ['no-console'],
      firmware: ['no-firmware'],
      network: ['noop', 'flat'],
      raid: ['no-raid'],
      rescue: ['no-rescue'],
      storage: ['noop'],
      vendor: ['no-vendor'],
    },
  };
}

export const ipmiFamily: DriverFamily = {
  implementations: { power: [ipmitoolPower], management: [ipmitoolManagement] },
  hardwareTypes: [ipmiHardwareType('ipmi'), ipmiHardwareType('vbmc')],
};
