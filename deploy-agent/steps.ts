// Deploy and clean steps the agent offers, with IPA's GenericHardwareManager names and default
// priorities (Ironic may override priorities; 0 runs only when asked for).
import { eraseAll, eraseMetadata } from './disk.ts';
import { checkInjected, rootDiskOf, updateNode, type AgentRuntime } from './commands.ts';

type Json = Record<string, unknown>;

export interface AgentStep {
  step: string;
  priority: number;
  interface: 'deploy';
  reboot_requested: boolean;
  abortable: boolean;
  argsinfo: Json | null;
  run(args: Json, rt: AgentRuntime): Promise<unknown>;
}

export const DEPLOY_STEPS: AgentStep[] = [
  {
    step: 'write_image',
    priority: 0,
    interface: 'deploy',
    reboot_requested: false,
    abortable: false,
    argsinfo: { image_info: { description: 'Information about the image to write', required: true }, configdrive: { description: 'The config drive, base64 (gzipped) ISO or URL', required: false } },
    run: (args, rt) => rt.run('standby.prepare_image', { image_info: args.image_info, configdrive: args.configdrive }),
  },
];

export const CLEAN_STEPS: AgentStep[] = [
  {
    step: 'erase_devices_metadata',
    priority: 99,
    interface: 'deploy',
    reboot_requested: false,
    abortable: true,
    argsinfo: null,
    async run(_args, rt) {
      const disk = await rootDiskOf(rt);
      await eraseMetadata(disk.path, disk.sizeBytes);
      return { [disk.name]: 'metadata erased' };
    },
  },
  {
    step: 'erase_devices',
    priority: 10,
    interface: 'deploy',
    reboot_requested: false,
    abortable: true,
    argsinfo: null,
    async run(_args, rt) {
      const disk = await rootDiskOf(rt);
      await eraseAll(disk.path, disk.sizeBytes);
      return { [disk.name]: 'erased with zeros' };
    },
  },
];

export function describeSteps(steps: AgentStep[]): Json[] {
  return steps.map(({ run: _run, ...rest }) => rest);
}

/** Runs one step by name, checking injected failures first. */
export async function runStep(steps: AgentStep[], kind: 'deploy' | 'clean', params: Json, rt: AgentRuntime): Promise<unknown> {
  const stepArg = (params.step ?? {}) as Json;
  const name = String(stepArg.step ?? '');
  const found = steps.find((s) => s.step === name);
  if (!found) throw new Error(`Unknown ${kind} step ${name}`);
  checkInjected(rt, `${kind}.${name}`);
  updateNode(rt, params);
  return found.run((stepArg.args ?? {}) as Json, rt);
}
