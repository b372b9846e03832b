// The `ovirt` hardware type (Ironic's staging-ovirt): oVirt/RHV virtual machines used as bare metal,
// powered and given a boot device through the oVirt Engine REST API, beside the network boot and
// deploy interfaces other families provide.
import type { DriverFamily } from '../interfaces.ts';
import { NO_OP_INTERFACE_LISTS } from '../noop/index.ts';
import { closeEngineClients } from './client.ts';
import { ovirtManagement } from './management.ts';
import { ovirtPower } from './power.ts';

export const ovirtFamily: DriverFamily = {
  implementations: { power: [ovirtPower], management: [ovirtManagement] },
  hardwareTypes: [{
    name: 'ovirt',
    interfaces: {
      power: ['ovirt'],
      management: ['ovirt'],
      boot: ['ipxe', 'pxe', 'http', 'fake'],
      deploy: ['direct', 'custom-agent', 'ramdisk', 'fake'],
      inspect: ['agent', 'no-inspect', 'fake'],
      ...NO_OP_INTERFACE_LISTS,
    },
  }],
  close: closeEngineClients,
};
