// Ironic's inspection rules (ironic/common/inspection_rules/engine.py): a rule's conditions are
// checked against the inspection data and, when all hold, its actions run on the node. Rules of
// a phase run by priority, highest first. Validation here is the part the API shares: operator
// names (a leading `!` negates a condition) and each one's arguments.
import { InvalidInput } from '../errors.ts';
import { ACTIONS, InspectionRuleFailed, type RuleSubject } from './actions.ts';
import { AttributeView, interpolate, maskedData, type FormatContext } from './interpolate.ts';
import { OPERATORS } from './operators.ts';
import { normalizeArgs, RuleExecutionError, type Args, type Signature } from './signature.ts';

export const PHASES = ['main', 'early'] as const;
export type Phase = (typeof PHASES)[number];
export const MULTIPLE = ['any', 'all', 'first', 'last'] as const;

export interface RuleStep {
  op: string;
  args: Args | unknown[];
  loop?: unknown[] | Args;
  multiple?: (typeof MULTIPLE)[number];
}

export interface InspectionRule {
  uuid: string;
  description: string | null;
  priority: number;
  phase: Phase;
  sensitive: boolean;
  conditions: RuleStep[];
  actions: RuleStep[];
}

/** Ironic's parse_inverted_operator: `!eq` or `! eq` negates; two marks are refused. */
export function parseOperator(op: string): { name: string; negated: boolean } {
  const text = op.trim();
  if ((text.match(/!/g) ?? []).length > 1) {
    throw new InvalidInput(`Multiple exclamation marks are not allowed in "${op}". To invert an operation, add one exclamation mark (with an optional space) before the operator, e.g. eq - !eq.`);
  }
  return text.startsWith('!') ? { name: text.slice(1).trim(), negated: true } : { name: text, negated: false };
}

function operatorOf(op: string): { sig: (typeof OPERATORS)[string]; negated: boolean; name: string } {
  const { name, negated } = parseOperator(op);
  const sig = OPERATORS[name];
  if (!sig) throw new InvalidInput(`Unsupported condition operator: '${op}'. Supported operators are: ${Object.keys(OPERATORS).join(', ')} (each may be negated with a leading !).`);
  return { sig, negated, name };
}

function actionOf(op: string): (typeof ACTIONS)[string] {
  const action = ACTIONS[op];
  if (!action) throw new InvalidInput(`Unsupported action: '${op}'. Supported actions are: ${Object.keys(ACTIONS).join(', ')}.`);
  return action;
}

/** Checks each condition's and action's operator and arguments; throws a 400 naming the first bad one. */
export function checkSteps(conditions: readonly RuleStep[], actions: readonly RuleStep[]): void {
  conditions.forEach((c, i) => {
    const { sig } = operatorOf(c.op);
    normalizeArgs(sig, c.args, `Invalid parameters for condition ${i} (${c.op})`);
    if (c.multiple !== undefined && !c.loop) throw new InvalidInput(`Condition ${i} (${c.op}): "multiple" applies only to a condition with a "loop"`);
  });
  actions.forEach((a, i) => normalizeArgs(actionOf(a.op), a.args, `Invalid parameters for action ${i} (${a.op})`));
}

/** The step's arguments, interpolated as Ironic does: formatted ones always, all of them in a loop. */
function argsFor(sig: Signature, step: RuleStep, context: FormatContext, inLoop: boolean): Args {
  const named = normalizeArgs(sig, step.args, step.op);
  return Object.fromEntries(Object.entries(named).map(([k, v]) => [k, inLoop || sig.formatted.includes(k) ? interpolate(v, context, inLoop) : v]));
}

/** Loop items: a list, or a dictionary taken as one item. */
function loopItems(loop: RuleStep['loop']): unknown[] | undefined {
  if (Array.isArray(loop)) return loop.length ? loop : undefined;
  if (loop && typeof loop === 'object') return Object.keys(loop).length ? [loop] : undefined;
  return undefined;
}

function checkCondition(step: RuleStep, context: FormatContext): boolean {
  const { sig, negated } = operatorOf(step.op);
  const once = (ctx: FormatContext, inLoop: boolean): boolean => {
    const args = argsFor(sig, step, ctx, inLoop);
    // Interpolated loop values are strings, so a looped comparison compares strings (Ironic's force_strings).
    if (inLoop && sig.optional.includes('force_strings')) args.force_strings = true;
    const result = sig.check(args);
    return negated ? !result : result;
  };
  const items = loopItems(step.loop);
  if (!items) return once(context, false);
  const multiple = step.multiple ?? 'any';
  const results: boolean[] = [];
  for (const item of items) {
    const result = once({ ...context, item }, true);
    if (multiple === 'first') return result;
    results.push(result);
  }
  if (multiple === 'all') return results.every(Boolean);
  if (multiple === 'last') return results.at(-1)!;
  return results.some(Boolean);
}

async function runAction(step: RuleStep, subject: RuleSubject, context: () => FormatContext): Promise<void> {
  const action = actionOf(step.op);
  const items = loopItems(step.loop);
  // The context is taken anew for each run, so an action sees what the ones before it changed.
  if (!items) return action.run(subject, argsFor(action, step, context(), false));
  for (const item of items) await action.run(subject, argsFor(action, step, { ...context(), item }, true));
}

/** What interpolation sees: the node as an object, the data as dictionaries (masked unless the rule is sensitive). */
function formatContext(subject: RuleSubject, sensitive: boolean): FormatContext {
  const data = <T>(v: T): T => (sensitive ? v : maskedData(v));
  return { node: new AttributeView({ ...subject.nodeReadOnly, ...subject.node }), inventory: data(subject.inventory), plugin_data: data(subject.plugin_data) };
}

/** A rule that failed the inspection, or could not run: the message names the rule. */
function ruleError(rule: InspectionRule, err: unknown): Error {
  const what = rule.description ? `${rule.uuid} (${rule.description})` : rule.uuid;
  if (err instanceof InspectionRuleFailed) return new InspectionRuleFailed(`inspection rule ${what} failed the inspection: ${err.message}`);
  const message = err instanceof Error ? err.message : String(err);
  return new RuleExecutionError(`Failed to apply inspection rule ${what}: ${message}`);
}

/**
 * Runs the rules of `phase`, highest priority first (in creation order among equals), on the
 * subject. Returns the uuids of the rules whose actions ran; throws on `fail` or a rule that
 * could not run, after the rules before it changed the subject.
 */
export async function runRules(rules: readonly InspectionRule[], phase: Phase, subject: RuleSubject): Promise<string[]> {
  const applied: string[] = [];
  const ordered = rules.filter((r) => r.phase === phase).map((r, i) => ({ r, i })).sort((a, b) => b.r.priority - a.r.priority || a.i - b.i).map(({ r }) => r);
  for (const rule of ordered) {
    try {
      const context = () => formatContext(subject, rule.sensitive);
      if (!rule.conditions.every((c) => checkCondition(c, context()))) continue;
      for (const action of rule.actions) await runAction(action, subject, context);
      subject.check?.();
      applied.push(rule.uuid);
    } catch (err) {
      throw ruleError(rule, err);
    }
  }
  return applied;
}
