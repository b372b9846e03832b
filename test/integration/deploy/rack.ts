// A tiny rack for deploy tests: one simulated machine per fake-hardware node. Fake power only
// records the state on the node row, so the rack watches it (wrapping fakePower) and acts as
// the BMC would: powering on in a ramdisk state boots the network (the simulated agent starts),
// otherwise the disk; powering off stops the machine and its agent.
import { vi } from 'vitest';
import type { Logger } from '../../../common/logger.ts';
import { fakePower } from '../../../drivers/fake/index.ts';
import type { TaskContext } from '../../../drivers/interfaces.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { AgentSimulator } from '../../../simulators/agent/index.ts';

const RAMDISK_STATES = new Set(['deploying', 'cleaning', 'inspecting', 'rescuing']);

export class TestRack {
  readonly machines = new Map<string, MemoryMachine>();
  private readonly purposes = new Map<string, string>();
  readonly agents: AgentSimulator;
  private count = 0;

  constructor(private readonly apiUrl: string, diskDir: string, logger: Logger) {
    this.agents = new AgentSimulator({
      apiUrl,
      diskDir,
      logger,
      heartbeatIntervalMs: 300,
      lookupRetryMs: 50,
      ramdiskParams: (m) => (this.purposes.get(m.id) === 'inspecting' ? { inspectionCallbackUrl: `${this.apiUrl}/v1/continue_inspection` } : {}),
    });
    const setPowerState = fakePower.setPowerState.bind(fakePower);
    vi.spyOn(fakePower, 'setPowerState').mockImplementation(async (ctx: TaskContext, target, timeout) => {
      await setPowerState(ctx, target, timeout);
      await this.power(ctx, target === 'power on' ? 'on' : 'off');
    });
    const reboot = fakePower.reboot.bind(fakePower);
    vi.spyOn(fakePower, 'reboot').mockImplementation(async (ctx: TaskContext, soft, timeout) => {
      await reboot(ctx, soft, timeout);
      await this.power(ctx, 'off');
      await this.power(ctx, 'on');
    });
  }

  /** A machine for a node (by the node's name); its NICs' MACs are what ports are made of. */
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

  async close(): Promise<void> {
    vi.restoreAllMocks();
    await this.agents.close();
  }
}
