// The agent's side of steps (Ironic's agent_base): what the ramdisk agent offers (get_<kind>_steps,
// with this conductor's priority overrides), starting a step on it (execute_<kind>_step) and
// reading how the step in flight went. The conductor's step engine (services/conductor/steps.ts)
// plans and runs the steps; this is how it reaches the agent.
import type { AnvilConfig } from '../../common/config.ts';
import { DriverError } from '../../common/errors.ts';
import type { AgentSteps, PlannedStep, StepKind } from '../interfaces.ts';
import { internalInfo, stepProgressKeys, withInternalInfo, type InternalKey } from '../internal-info.ts';
import { AgentBusy, AgentClient, commandErrorText } from './client.ts';
import { instanceInfoForAgent } from './image-source.ts';
import { agentTuning } from './settings.ts';

type Json = Record<string, unknown>;

/** The progress keys of a kind of steps, to forget when the operation ends. */
export function clearedProgress(kind: StepKind): InternalKey[] {
  return Object.values(stepProgressKeys(kind));
}

/** What the agent offers: `{<kind>_steps: {<manager>: [steps]}, hardware_manager_version}`. */
export function agentOfferedSteps(result: unknown, kind: StepKind): { steps: PlannedStep[]; version: Json } {
  const r = (result ?? {}) as Json;
  const byManager = (r[`${kind}_steps`] ?? {}) as Record<string, Json[]>;
  const steps: PlannedStep[] = [];
  for (const list of Object.values(byManager)) {
    for (const s of list ?? []) steps.push({ interface: String(s.interface ?? 'deploy'), step: String(s.step), priority: Number(s.priority ?? 0), args: {}, agent: true });
  }
  return { steps, version: (r.hardware_manager_version ?? {}) as Json };
}

/** The disk erasures run at the priorities the configuration gives them (Ironic's [deploy]erase_devices_*priority). */
export function withConfiguredPriorities(steps: PlannedStep[], kind: StepKind, config: AnvilConfig): PlannedStep[] {
  if (kind !== 'clean') return steps;
  const tuning = agentTuning(config);
  const overrides: Record<string, number> = { erase_devices: tuning.eraseDevicesPriority, erase_devices_metadata: tuning.eraseDevicesMetadataPriority };
  return steps.map((s) => ({ ...s, priority: overrides[s.step] ?? s.priority }));
}

function describe(step: PlannedStep): Json {
  return { interface: step.interface, step: step.step, args: step.args, priority: step.priority };
}

export const inBandAgentSteps: AgentSteps = {
  async offered(ctx, kind) {
    const result = await AgentClient.forTask(ctx).execute(`${kind}.get_${kind}_steps`, { node: { uuid: ctx.node.uuid }, ports: ctx.ports.map((p) => ({ address: p.address })) }, { wait: true });
    if (result.command_status !== 'SUCCEEDED') throw new DriverError(`The agent could not list its ${kind} steps: ${commandErrorText(result)}`);
    const { steps, version } = agentOfferedSteps(result.command_result, kind);
    await ctx.save(withInternalInfo(ctx.node, { [stepProgressKeys(kind).agentVersion]: version }));
    return withConfiguredPriorities(steps, kind, ctx.config);
  },

  async start(ctx, kind, step) {
    try {
      await AgentClient.forTask(ctx).execute(`${kind}.execute_${kind}_step`, {
        step: describe(step),
        node: { uuid: ctx.node.uuid, instance_info: kind === 'deploy' ? await instanceInfoForAgent(ctx) : ctx.node.instance_info, properties: ctx.node.properties },
        ports: ctx.ports.map((p) => ({ address: p.address, pxe_enabled: p.pxe_enabled })),
        [`${kind}_version`]: internalInfo(ctx.node)[stepProgressKeys(kind).agentVersion] ?? {},
      });
      return true;
    } catch (err) {
      if (err instanceof AgentBusy) return false;
      throw err;
    }
  },

  async status(ctx, kind, step) {
    const last = await AgentClient.forTask(ctx).lastCommand(`execute_${kind}_step`);
    if (!last) throw new DriverError(`The agent has no record of ${kind} step ${step.step}: it may have rebooted`);
    if (last.command_status === 'RUNNING') return 'running';
    const resultStep = ((last.command_result ?? {}) as Json)[`${kind}_step`] as Json | undefined;
    if (last.command_status !== 'SUCCEEDED') {
      // The step is named without its args: they may hold the config drive.
      throw new DriverError(`Agent returned error for ${kind} step ${JSON.stringify({ interface: step.interface, step: step.step, priority: step.priority })} on node ${ctx.node.uuid} : Error performing ${kind}_step ${step.step}: ${commandErrorText(last)}`);
    }
    if (resultStep && resultStep.step !== step.step) throw new DriverError(`The agent's last ${kind} step was ${String(resultStep.step)}, expected ${step.step}`);
    return 'done';
  },
};
