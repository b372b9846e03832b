// Deploy and clean steps run through the agent, as Ironic's agent_base does: the plan is made at
// the first heart-beat (the agent's steps merged with the conductor's own, by priority), then
// each heart-beat runs local steps, sends the next agent step, or checks the one in flight.
import { DriverError, InvalidInput } from '../../common/errors.ts';
import type { PlannedStep, Step, StepKind, TaskContext } from '../interfaces.ts';
import { internalInfo, stepProgressKeys, withInternalInfo, withoutInternalInfo, type InternalKey } from '../internal-info.ts';
import { AgentBusy, AgentClient, commandErrorText } from './client.ts';
import { agentTuning } from './settings.ts';

type Json = Record<string, unknown>;
export type { PlannedStep, StepKind };

/** A conductor-side step: runs during a heart-beat while the node is locked. */
export type LocalStep = (ctx: TaskContext, step: PlannedStep) => Promise<void>;

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

/** Checks steps given by a user (clean_steps / deploy_steps): each an object with interface and step. */
export function validateUserSteps(steps: unknown, what: string): Step[] {
  if (!Array.isArray(steps)) throw new InvalidInput(`${what} must be a list of steps`);
  return steps.map((s, i) => {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new InvalidInput(`${what}[${i}] must be an object with "interface" and "step"`);
    const o = s as Json;
    if (typeof o.interface !== 'string' || typeof o.step !== 'string') throw new InvalidInput(`${what}[${i}] needs string "interface" and "step"`);
    if (o.args !== undefined && (typeof o.args !== 'object' || o.args === null || Array.isArray(o.args))) throw new InvalidInput(`${what}[${i}].args must be an object`);
    if (o.priority !== undefined && (!Number.isInteger(o.priority) || (o.priority as number) < 0)) throw new InvalidInput(`${what}[${i}].priority must be a non-negative integer`);
    return { interface: o.interface, step: o.step, args: (o.args ?? {}) as Json, priority: o.priority as number | undefined };
  });
}

/** Sorted as Ironic runs them: highest priority first, ties by interface order then name. */
const INTERFACE_ORDER = ['power', 'management', 'deploy', 'bios', 'raid', 'inspect', 'firmware'];
export function byPriority(a: PlannedStep, b: PlannedStep): number {
  return b.priority - a.priority || INTERFACE_ORDER.indexOf(a.interface) - INTERFACE_ORDER.indexOf(b.interface) || a.step.localeCompare(b.step);
}

function describe(step: PlannedStep): Json {
  return { interface: step.interface, step: step.step, args: step.args, priority: step.priority };
}

/**
 * Runs the plan from where it stands. Returns 'done' when every step has run, 'wait' while an
 * agent step is in flight (or the agent is busy). A failed agent step throws with its error.
 */
export async function runSteps(ctx: TaskContext, kind: StepKind, local: Record<string, LocalStep>): Promise<'done' | 'wait'> {
  const keys = stepProgressKeys(kind);
  const stepField = kind === 'deploy' ? 'deploy_step' : 'clean_step';
  const client = () => AgentClient.forNode(ctx.node, agentTuning(ctx.config).commandTimeout * 1000);
  for (;;) {
    const info = internalInfo(ctx.node);
    const steps = info[keys.steps] ?? [];
    const index = info[keys.index] ?? 0;
    if (index >= steps.length) {
      await ctx.save({ [stepField]: {}, ...withInternalInfo(ctx.node, { [keys.index]: index }) });
      return 'done';
    }
    const step = steps[index];
    if (!step.agent) {
      const fn = local[step.step];
      if (!fn) throw new DriverError(`No conductor implementation of ${kind} step ${step.interface}.${step.step}`);
      await ctx.save({ [stepField]: describe(step) });
      await ctx.note(`Running ${kind} step ${step.interface}.${step.step}`);
      await fn(ctx, step);
      await ctx.save(withInternalInfo(ctx.node, { [keys.index]: index + 1 }));
      continue;
    }
    const command = `execute_${kind}_step`;
    if (info[keys.inFlight] !== index) {
      try {
        await client().execute(`${kind}.${command}`, {
          step: describe(step),
          node: { uuid: ctx.node.uuid, instance_info: ctx.node.instance_info, properties: ctx.node.properties },
          ports: ctx.ports.map((p) => ({ address: p.address, pxe_enabled: p.pxe_enabled })),
          [`${kind}_version`]: info[keys.agentVersion] ?? {},
        });
      } catch (err) {
        if (err instanceof AgentBusy) return 'wait';
        throw err;
      }
      await ctx.save({ [stepField]: describe(step), ...withInternalInfo(ctx.node, { [keys.inFlight]: index }) });
      await ctx.note(`Agent started ${kind} step ${step.interface}.${step.step}`);
      return 'wait';
    }
    const last = await client().lastCommand(command);
    if (!last) throw new DriverError(`The agent has no record of ${kind} step ${step.step}: it may have rebooted`);
    if (last.command_status === 'RUNNING') return 'wait';
    const resultStep = ((last.command_result ?? {}) as Json)[`${kind}_step`] as Json | undefined;
    if (last.command_status !== 'SUCCEEDED') {
      // The step is named without its args: they may hold the config drive.
      throw new DriverError(`Agent returned error for ${kind} step ${JSON.stringify({ interface: step.interface, step: step.step, priority: step.priority })} on node ${ctx.node.uuid} : Error performing ${kind}_step ${step.step}: ${commandErrorText(last)}`);
    }
    if (resultStep && resultStep.step !== step.step) {
      throw new DriverError(`The agent's last ${kind} step was ${String(resultStep.step)}, expected ${step.step}`);
    }
    await ctx.note(`Agent finished ${kind} step ${step.interface}.${step.step}`);
    await ctx.save(withoutInternalInfo(ctx.node, [keys.inFlight], { [keys.index]: index + 1 }));
  }
}

/** Fetches the agent's steps (get_<kind>_steps, synchronous) and saves the plan. */
export async function planSteps(ctx: TaskContext, kind: StepKind, makePlan: (offered: PlannedStep[]) => PlannedStep[]): Promise<void> {
  const client = AgentClient.forNode(ctx.node, agentTuning(ctx.config).commandTimeout * 1000);
  const result = await client.execute(`${kind}.get_${kind}_steps`, { node: { uuid: ctx.node.uuid }, ports: ctx.ports.map((p) => ({ address: p.address })) }, { wait: true });
  if (result.command_status !== 'SUCCEEDED') throw new DriverError(`The agent could not list its ${kind} steps: ${commandErrorText(result)}`);
  const { steps, version } = agentOfferedSteps(result.command_result, kind);
  const plan = makePlan(steps);
  const keys = stepProgressKeys(kind);
  await ctx.save(withInternalInfo(ctx.node, { [keys.steps]: plan, [keys.index]: 0, [keys.agentVersion]: version }));
  await ctx.note(`${kind === 'deploy' ? 'Deploy' : 'Clean'} steps: ${plan.map((s) => `${s.step}(${s.priority})`).join(', ') || 'none'}`);
}
