// The step engine (Ironic's conductor/steps.py and agent_base step handling). An operation's steps
// are collected from the node's interfaces (the `steps` each implementation declares) and from the
// ramdisk agent (get_<kind>_steps), planned with the request's steps and sorted as Ironic sorts
// them: automated steps by priority, ties by interface order; manual steps in the order given.
// Each heart-beat runs conductor steps, starts the next agent step, or checks the one in flight.
import { DriverError, InvalidInput } from '../../common/errors.ts';
import { INTERFACE_NAMES, type InterfaceName } from '../../db/nodes.ts';
import type { AgentSteps, Outcome, PlannedStep, ResolvedDriver, Step, StepDefinition, StepKind, StepRunner, TaskContext } from '../../drivers/interfaces.ts';
import { internalInfo, stepProgressKeys, withInternalInfo, withoutInternalInfo } from '../../drivers/internal-info.ts';

type Json = Record<string, unknown>;

const TITLES: Record<StepKind, string> = { deploy: 'Deploy', clean: 'Clean', service: 'Service' };

/** Ironic's interface priorities for steps of equal priority (conductor/steps.py); other interfaces after them. */
const INTERFACE_ORDER = ['power', 'management', 'deploy', 'bios', 'raid', 'inspect', 'firmware'];

function interfaceRank(iface: string): number {
  const i = INTERFACE_ORDER.indexOf(iface);
  return i < 0 ? INTERFACE_ORDER.length : i;
}

/** Highest priority first, ties by interface order, then by name. */
export function byPriority(a: PlannedStep, b: PlannedStep): number {
  return b.priority - a.priority || interfaceRank(a.interface) - interfaceRank(b.interface) || a.step.localeCompare(b.step);
}

function definitionOf(driver: ResolvedDriver, kind: StepKind, step: Pick<PlannedStep, 'interface' | 'step'>): StepDefinition | undefined {
  if (!(INTERFACE_NAMES as readonly string[]).includes(step.interface)) return undefined;
  return driver[step.interface as InterfaceName].steps?.find((d) => d.kind === kind && d.step === step.step);
}

/** The steps of `kind` the node's interfaces declare. */
export function declaredSteps(driver: ResolvedDriver, kind: StepKind): PlannedStep[] {
  const out: PlannedStep[] = [];
  for (const iface of INTERFACE_NAMES) {
    for (const d of driver[iface].steps ?? []) {
      if (d.kind === kind) out.push({ interface: iface, step: d.step, priority: d.priority, args: {}, agent: d.run === undefined });
    }
  }
  return out;
}

/**
 * The requested steps that need the agent ramdisk: those an interface declares as needing it, and
 * the deploy interface's steps no interface declares (the agent's, as Ironic's agent_base.get_steps
 * takes the agent's steps for the deploy interface).
 */
export function ramdiskSteps(driver: ResolvedDriver, kind: StepKind, steps: readonly Step[]): Step[] {
  return steps.filter((s) => {
    const d = definitionOf(driver, kind, s);
    return d ? d.requiresRamdisk : s.interface === 'deploy';
  });
}

/** Checks steps given by a user (clean_steps, deploy_steps, service_steps): each an object with interface and step. */
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

/** A user's args against a declared step's argsinfo (Ironic's _validate_user_step): none unknown, none required missing. */
function checkArgs(kind: StepKind, step: PlannedStep, driver: ResolvedDriver): void {
  const argsinfo = definitionOf(driver, kind, step)?.argsinfo;
  if (!argsinfo) return;
  const name = `${kind} step ${step.interface}.${step.step}`;
  for (const arg of Object.keys(step.args)) {
    if (!(arg in argsinfo)) throw new InvalidInput(`The ${name} does not take argument "${arg}"; it takes ${Object.keys(argsinfo).join(', ') || 'none'}`);
  }
  for (const [arg, info] of Object.entries(argsinfo)) {
    if (info.required && !(arg in step.args)) throw new InvalidInput(`The ${name} needs argument "${arg}": ${info.description}`);
  }
}

/**
 * An automated plan: the declared steps and the agent's, each once (a declared step stands for the
 * agent's of the same name: IPA offers write_image at 0), with the request's priority and argument
 * overrides (deploy_steps); priority 0 is left out.
 */
export function automatedPlan(node: { uuid: string }, kind: StepKind, declared: PlannedStep[], offered: PlannedStep[], requested: Step[] = []): PlannedStep[] {
  const plan = declared.map((s) => ({ ...s }));
  for (const s of offered) if (!plan.some((p) => p.step === s.step)) plan.push({ ...s });
  for (const r of requested) {
    const found = plan.find((p) => p.interface === r.interface && p.step === r.step);
    if (!found) throw new DriverError(`${TITLES[kind]} step ${r.interface}.${r.step} is not supported by node ${node.uuid} (its agent offers ${offered.map((s) => s.step).join(', ') || 'none'})`);
    if (r.priority !== undefined) found.priority = r.priority;
    found.args = { ...found.args, ...(r.args ?? {}) };
  }
  return plan.filter((s) => s.priority > 0).sort(byPriority);
}

/** A manual plan: the requested steps in the order given, each one the interfaces or the agent offer. */
export function manualPlan(node: { uuid: string }, kind: StepKind, declared: PlannedStep[], offered: PlannedStep[], requested: Step[]): PlannedStep[] {
  const available = [...declared, ...offered];
  return requested.map((r) => {
    const found = available.find((s) => s.interface === r.interface && s.step === r.step);
    if (!found) throw new DriverError(`${TITLES[kind]} step ${r.interface}.${r.step} is not supported by node ${node.uuid} (its agent offers ${offered.map((s) => `${s.interface}.${s.step}`).join(', ') || 'none'})`);
    return { ...found, args: r.args ?? {}, priority: 0 };
  });
}

function describe(step: PlannedStep): Json {
  return { interface: step.interface, step: step.step, args: step.args, priority: step.priority };
}

/** The request's steps, or how to read them when the plan is made (a deploy's add its templates' steps). */
export type RequestedSteps = Step[] | undefined | (() => Promise<Step[] | undefined>);

async function plan(ctx: TaskContext, kind: StepKind, agent: AgentSteps, steps: RequestedSteps): Promise<void> {
  const requested = typeof steps === 'function' ? await steps() : steps;
  const offered = await agent.offered(ctx, kind);
  const declared = declaredSteps(ctx.driver, kind);
  // Deploy steps a user gives adjust the automated plan; clean and service steps a user gives are the plan.
  const planned = kind !== 'deploy' && requested !== undefined ? manualPlan(ctx.node, kind, declared, offered, requested) : automatedPlan(ctx.node, kind, declared, offered, requested);
  if (requested) for (const s of planned) checkArgs(kind, s, ctx.driver);
  const keys = stepProgressKeys(kind);
  await ctx.save(withInternalInfo(ctx.node, { [keys.steps]: planned, [keys.index]: 0 }));
  await ctx.note(`${TITLES[kind]} steps: ${planned.map((s) => `${s.step}(${s.priority})`).join(', ') || 'none'}`);
}

/**
 * Runs the plan from where it stands: 'done' when every step has run, 'wait' while an agent step
 * is in flight (or the agent is busy). A failed step throws with its error.
 */
async function runSteps(ctx: TaskContext, kind: StepKind, agent: AgentSteps, requested: RequestedSteps): Promise<Outcome> {
  const keys = stepProgressKeys(kind);
  const field = `${kind}_step` as const;
  if (internalInfo(ctx.node)[keys.steps] === undefined) await plan(ctx, kind, agent, requested);
  for (;;) {
    const info = internalInfo(ctx.node);
    const steps = info[keys.steps] ?? [];
    const index = info[keys.index] ?? 0;
    if (index >= steps.length) {
      await ctx.save({ [field]: {}, ...withInternalInfo(ctx.node, { [keys.index]: index }) });
      return 'done';
    }
    const step = steps[index];
    const definition = definitionOf(ctx.driver, kind, step);
    if (!step.agent) {
      if (!definition?.run) throw new DriverError(`No conductor implementation of ${kind} step ${step.interface}.${step.step}`);
      await ctx.save({ [field]: describe(step) });
      await ctx.note(`Running ${kind} step ${step.interface}.${step.step}`);
      await definition.run(ctx, step.args);
      await ctx.save(withInternalInfo(ctx.node, { [keys.index]: index + 1 }));
      continue;
    }
    if (info[keys.inFlight] !== index) {
      const args = definition?.agentArgs ? { ...step.args, ...(await definition.agentArgs(ctx, step.args)) } : step.args;
      if (!(await agent.start(ctx, kind, { ...step, args }))) return 'wait';
      await ctx.save({ [field]: describe(step), ...withInternalInfo(ctx.node, { [keys.inFlight]: index }) });
      await ctx.note(`Agent started ${kind} step ${step.interface}.${step.step}`);
      return 'wait';
    }
    if ((await agent.status(ctx, kind, step)) === 'running') return 'wait';
    await ctx.note(`Agent finished ${kind} step ${step.interface}.${step.step}`);
    await ctx.save(withoutInternalInfo(ctx.node, [keys.inFlight], { [keys.index]: index + 1 }));
  }
}

/** The engine for the operation a node waits in, with the steps its request named (deploy_steps, manual clean_steps). */
export function stepRunner(ctx: TaskContext, requested: RequestedSteps): StepRunner {
  return { run: (kind, agent) => runSteps(ctx, kind, agent, requested) };
}
