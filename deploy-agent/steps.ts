// Deploy, clean and service steps the agent offers: its own (IPA's GenericHardwareManager names
// and default priorities; Ironic may override priorities; 0 runs only when asked for) and those
// of the plugins it loaded (plugins.ts). A plugin's step of the same kind and name as an earlier
// one replaces it, as a more specific IPA hardware manager wins.
import { eraseAll, eraseMetadata } from './disk.ts';
import { checkInjected, rootDiskOf, updateNode, type AgentRuntime } from './commands.ts';
import type { AgentPlugin, AgentStepKind, PluginStep, StepContext } from './plugin-api.ts';

type Json = Record<string, unknown>;

export const GENERIC_HARDWARE_MANAGER: AgentPlugin = {
  name: 'GenericHardwareManager',
  version: '1.2',
  steps: [
    {
      kind: 'deploy',
      step: 'write_image',
      argsinfo: { image_info: { description: 'Information about the image to write', required: true }, configdrive: { description: 'The config drive, base64 (gzipped) ISO or URL', required: false } },
      run: (args, ctx) => ctx.run('standby.prepare_image', { image_info: args.image_info, configdrive: args.configdrive }),
    },
    {
      kind: 'clean',
      step: 'erase_devices_metadata',
      priority: 99,
      abortable: true,
      async run(_args, ctx) {
        const disk = await ctx.rootDisk();
        await eraseMetadata(disk.path, disk.sizeBytes);
        return { [disk.name]: 'metadata erased' };
      },
    },
    {
      kind: 'clean',
      step: 'erase_devices',
      priority: 10,
      abortable: true,
      async run(_args, ctx) {
        const disk = await ctx.rootDisk();
        await eraseAll(disk.path, disk.sizeBytes);
        return { [disk.name]: 'erased with zeros' };
      },
    },
  ],
};

interface Offered { manager: string; step: PluginStep }

/** The steps of the agent's own manager and its plugins, by kind. */
export class StepCatalog {
  private readonly byKind = new Map<AgentStepKind, Map<string, Offered>>();
  private readonly versions: Record<string, string> = {};

  constructor(managers: readonly AgentPlugin[]) {
    for (const m of managers) {
      this.versions[m.name === GENERIC_HARDWARE_MANAGER.name ? 'generic_hardware_manager' : m.name] = m.version;
      for (const step of m.steps) {
        let steps = this.byKind.get(step.kind);
        if (!steps) this.byKind.set(step.kind, (steps = new Map()));
        steps.set(step.step, { manager: m.name, step });
      }
    }
  }

  /** get_<kind>_steps' answer: the steps by manager, IPA-shaped, and the managers' versions. */
  describe(kind: AgentStepKind): { steps: Record<string, Json[]>; versions: Record<string, string> } {
    const steps: Record<string, Json[]> = {};
    for (const { manager, step: s } of this.byKind.get(kind)?.values() ?? []) {
      (steps[manager] ??= []).push({
        step: s.step, priority: s.priority ?? 0, interface: s.interface ?? 'deploy',
        reboot_requested: s.reboot_requested ?? false, abortable: s.abortable ?? false, argsinfo: s.argsinfo ?? null,
      });
    }
    return { steps, versions: { ...this.versions } };
  }

  /** Runs one step by name (execute_<kind>_step's params), checking injected failures first. */
  async run(kind: AgentStepKind, params: Json, rt: AgentRuntime): Promise<unknown> {
    const stepArg = (params.step ?? {}) as Json;
    const name = String(stepArg.step ?? '');
    const found = this.byKind.get(kind)?.get(name);
    if (!found) throw new Error(`Unknown ${kind} step ${name}`);
    checkInjected(rt, `${kind}.${name}`);
    updateNode(rt, params);
    return found.step.run((stepArg.args ?? {}) as Json, stepContext(rt));
  }
}

export function stepContext(rt: AgentRuntime): StepContext {
  return {
    get node() { return rt.node; },
    logger: rt.logger,
    rootDisk: () => rootDiskOf(rt),
    run: (command, params) => rt.run(command, params),
  };
}
