// Deploy templates at deploy time (Ironic's conductor/steps.py _get_all_deployment_steps): the
// templates named by the instance's traits (instance_info.traits, each also a node trait) add
// their steps to the user's deploy_steps; a user step overrides a template's of the same
// interface and step. The step engine then applies them to the driver's plan as it applies the
// user's: a priority replaces the declared one, 0 disables the step.
import { InvalidInput } from '../../common/errors.ts';
import { deployTemplatesNamed, type DeployTemplateRecord } from '../../db/deploy-templates.ts';
import { traitsOfNode } from '../../db/traits.ts';
import type { Step } from '../../drivers/interfaces.ts';
import type { NodeTask } from './context.ts';

/** instance_info.traits: a list of strings, each one of the node's traits (Ironic's validate_instance_info_traits). */
export function instanceTraits(instanceInfo: Record<string, unknown>, nodeTraits: readonly string[]): string[] {
  const traits = instanceInfo.traits;
  if (traits === undefined || traits === null) return [];
  if (!Array.isArray(traits) || traits.some((t) => typeof t !== 'string')) throw new InvalidInput('instance_info.traits must be a list of strings');
  const missing = traits.filter((t) => !nodeTraits.includes(t));
  if (missing.length) throw new InvalidInput(`Cannot specify instance traits that are not also node traits: ${missing.join(', ')}`);
  return traits as string[];
}

/** The user's steps, then the templates' steps the user did not name; two templates may not name the same step. */
export function withTemplateSteps(user: readonly Step[], templates: readonly DeployTemplateRecord[]): Step[] {
  const fromTemplates = templates.flatMap((t) => t.steps.map((s) => ({ interface: s.interface, step: s.step, args: s.args, priority: s.priority })));
  const key = (s: Step) => `${s.interface}.${s.step}`;
  const counts = new Map<string, number>();
  for (const s of fromTemplates) counts.set(key(s), (counts.get(key(s)) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
  if (duplicates.length) {
    throw new InvalidInput(`Validation of deploy steps from deploy templates matching this node's instance traits failed. Matching deploy templates: ${templates.map((t) => t.name).join(',')}. Errors: deploy steps from all deploy templates matching this node's instance traits cannot have the same interface and step. Duplicate deploy steps for ${duplicates.join(', ')}`);
  }
  const named = new Set(user.map(key));
  return [...user, ...fromTemplates.filter((s) => !named.has(key(s)))];
}

async function matchingTemplates(ctx: NodeTask): Promise<DeployTemplateRecord[]> {
  return deployTemplatesNamed(ctx.knex, instanceTraits(ctx.node.instance_info, await traitsOfNode(ctx.knex, ctx.node.id)));
}

/**
 * At the start of a deploy: the instance's traits and the templates they match are checked (and
 * named in the node's history), so a bad one fails the deploy before the ramdisk boots, as
 * Ironic's do_node_deploy validates them.
 */
export async function checkDeployTemplates(ctx: NodeTask, user: Step[] | undefined): Promise<void> {
  const templates = await matchingTemplates(ctx);
  if (templates.length === 0) return;
  withTemplateSteps(user ?? [], templates);
  await ctx.note(`Deploy templates matching the instance traits: ${templates.map((t) => t.name).join(', ')}`);
}

/**
 * The deploy request's steps with those of the templates the instance asks for (undefined:
 * neither gives any), read again when the plan is made: the templates may have changed since.
 */
export async function deployRequestSteps(ctx: NodeTask, user: Step[] | undefined): Promise<Step[] | undefined> {
  const templates = await matchingTemplates(ctx);
  return templates.length === 0 ? user : withTemplateSteps(user ?? [], templates);
}
