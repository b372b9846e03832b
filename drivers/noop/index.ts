// Ironic's no-op implementations (no-bios, no-console, noop network, ...): they accept every node
// and do nothing, for interfaces a hardware type does not manage.
import type { DriverFamily, GenericInterface, InspectInterface, StepDefinition } from '../interfaces.ts';
import { UnsupportedOperation } from '../../common/errors.ts';

function noop(name: string, steps?: StepDefinition[]): GenericInterface {
  return { name, validate() {}, steps };
}

/** Ironic's deploy step that moves the node to the tenant network; noop and flat keep it on one network. */
const TENANT_NETWORK_STEPS: StepDefinition[] = [
  { kind: 'deploy', step: 'switch_to_tenant_network', priority: 30, requiresRamdisk: false, abortable: false, async run() {} },
];

/** The interface lists of a hardware type that manages none of these interfaces: the no-ops (and the switch network interface, which needs no BMC). */
export const NO_OP_INTERFACE_LISTS = {
  bios: ['no-bios'],
  console: ['no-console'],
  firmware: ['no-firmware'],
  network: ['noop', 'flat', 'switch'],
  raid: ['no-raid'],
  // The agent rescue (drivers/in-band) needs no BMC of its own: every hardware type offers it, as in Ironic.
  rescue: ['no-rescue', 'agent'],
  // `external` boots volumes managed outside Anvil, through the boot interface: it needs no BMC of its own either.
  storage: ['noop', 'external'],
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
    network: [noop('noop', TENANT_NETWORK_STEPS), noop('flat', TENANT_NETWORK_STEPS)],
    raid: [noop('no-raid')],
    rescue: [noop('no-rescue')],
    storage: [noop('noop')],
    vendor: [noop('no-vendor')],
    inspect: [noInspect],
  },
  hardwareTypes: [],
};
