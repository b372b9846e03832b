// Simulated machines for fake-hardware nodes (fake power only records the power state on the node
// row): the rack wraps the fake power interface and acts as the BMC would. Powering a node on in
// a ramdisk state boots it from the network (its simulated agent starts); in any other state it
// boots its disk; powering off stops the machine and its agent. Machines are matched to nodes by
// name. For tests and benchmarks in one process; a BMC-backed node needs no such rack.
import { fakePower } from '../../drivers/fake/index.ts';
import type { PowerInterface, TaskContext } from '../../drivers/interfaces.ts';
import { MemoryMachine, sampleHardware } from '../machine.ts';
import { AgentSimulator, type AgentSimulatorOptions } from './index.ts';

const RAMDISK_STATES = new Set(['deploying', 'cleaning', 'inspecting', 'rescuing', 'servicing']);

export class FakePowerRack {
  readonly machines = new Map<string, MemoryMachine>();
  readonly agents: AgentSimulator;
  private readonly purposes = new Map<string, string>();
  private readonly original: Pick<PowerInterface, 'setPowerState' | 'reboot'>;
  private count = 0;

  constructor(opts: Omit<AgentSimulatorOptions, 'ramdiskParams'>) {
    this.agents = new AgentSimulator({
      ...opts,
      ramdiskParams: (m) => (this.purposes.get(m.id) === 'inspecting' ? { inspectionCallbackUrl: `${opts.apiUrl}/v1/continue_inspection` } : {}),
    });
    this.original = { setPowerState: fakePower.setPowerState, reboot: fakePower.reboot };
    const { setPowerState, reboot } = this.original;
    fakePower.setPowerState = async (ctx, target, timeout) => {
      await setPowerState.call(fakePower, ctx, target, timeout);
      await this.power(ctx, target === 'power on' ? 'on' : 'off');
    };
    fakePower.reboot = async (ctx, soft, timeout) => {
      await reboot.call(fakePower, ctx, soft, timeout);
      await this.power(ctx, 'off');
      await this.power(ctx, 'on');
    };
  }

  /** A machine for the node named `nodeName`; its NICs' MACs are what its ports are made of. */
  addMachine(nodeName: string, diskBytes: number): MemoryMachine {
    const index = ++this.count;
    const machine = new MemoryMachine(`rack${index}`, `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, nodeName, sampleHardware(1000 + index, { diskBytes }));
    this.machines.set(nodeName, machine);
    this.agents.attach(machine);
    return machine;
  }

  private async power(ctx: TaskContext, state: 'on' | 'off'): Promise<void> {
    const machine = this.machines.get(ctx.node.name ?? '');
    if (!machine) return;
    if (state === 'off') {
      await machine.power('off');
      return;
    }
    if ((await machine.powerState()) === 'on') return;
    this.purposes.set(machine.id, ctx.node.provision_state);
    machine.setBootOverride({ device: RAMDISK_STATES.has(ctx.node.provision_state) ? 'pxe' : 'disk', persistent: false });
    await machine.power('on');
  }

  /** Stops every agent and gives fake power back its own behaviour. */
  async close(): Promise<void> {
    fakePower.setPowerState = this.original.setPowerState;
    fakePower.reboot = this.original.reboot;
    await this.agents.close();
  }
}
