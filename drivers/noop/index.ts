// Ironic's no-op implementations (no-bios, no-console, noop network, ...): they accept every node
// and do nothing, for interfaces a hardware type does not manage.
import type { DriverFamily, GenericInterface, InspectInterface } from '../interfaces.ts';
import { UnsupportedOperation } from '../../common/errors.ts';

function noop(name: string): GenericInterface {
  return { name, validate() {} };
}

/** The interface lists of a hardware type that manages none of these interfaces: only the no-ops. */
export const NO_OP_INTERFACE_LISTS = {
  bios: ['no-bios'],
  console: ['no-console'],
  firmware: ['no-firmware'],
  network: ['noop', 'flat'],
  raid: ['no-raid'],
  rescue: ['no-rescue'],
  storage: ['noop'],
  vendor: ['no-vendor'],
} as const;

export const noInspect: InspectInterface = {
  name: 'no-inspect',
  validate() {},
  async inspect() {
    throw new UnsupportedOperation('This node has inspect_interface "no-inspect"; set an inspect interface that can inspect it');
  },
};

export const noopFamily: DriverFamily = {
  implementations: {
    bios: [noop('no-bios')],
    console: [noop('no-console')],
    firmware: [noop('no-firmware')],
    network: [noop('noop'), noop('flat')],
    raid: [noop('no-raid')],
    rescue: [noop('no-rescue')],
    storage: [noop('noop')],
    vendor: [noop('no-vendor')],
    inspect: [noInspect],
  },
  hardwareTypes: [],
};
