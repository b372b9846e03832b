// The trait-based networking configuration (Ironic's TBN file, YAML): traits by name, each with an
// `order` and a list of actions. Validated whole, every problem listed with its trait and action, so
// an operator fixes the file in one go; the conductor refuses to start on any.
import { parse as parseYaml } from 'yaml';
import { InvalidInput } from '../errors.ts';
import { FilterExpression, FilterSyntaxError } from './filter-expression.ts';

export const TRAIT_ACTIONS = ['attach_port', 'attach_portgroup', 'group_and_attach_ports'] as const;
export type TraitActionKind = (typeof TRAIT_ACTIONS)[number];

export interface TraitAction {
  trait: string;
  action: TraitActionKind;
  filter: FilterExpression;
  minCount: number | null;
  maxCount: number | null;
}

export interface NetworkTrait {
  name: string;
  order: number;
  actions: TraitAction[];
}

/** The trait whose actions apply to a network the node's own traits do not match (Ironic's name). */
export const DEFAULT_TRAIT_NAME = 'CUSTOM_DEFAULT_TBN_TRAIT';

/** Ironic's built-in default when the file defines none: the first free port. */
export const BUILT_IN_DEFAULT_TRAIT: NetworkTrait = {
  name: DEFAULT_TRAIT_NAME,
  order: 1,
  actions: [{ trait: DEFAULT_TRAIT_NAME, action: 'attach_port', filter: FilterExpression.parse('port.is_port || port.is_portgroup'), minCount: null, maxCount: 1 }],
};

const TRAIT_KEYS = ['order', 'actions'];
const ACTION_KEYS = ['action', 'filter', 'min_count', 'max_count'];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function count(value: unknown, key: string, where: string, problems: string[]): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || (value as number) < 1) { problems.push(`${where}: ${key} must be a positive integer, got ${JSON.stringify(value)}`); return null; }
  return value as number;
}

function parseAction(trait: string, index: number, raw: unknown, problems: string[]): TraitAction | undefined {
  const label = isMapping(raw) && typeof raw.action === 'string' ? ` (${raw.action})` : '';
  const where = `trait ${trait} action ${index + 1}${label}`;
  if (!isMapping(raw)) { problems.push(`${where}: must be a mapping with 'action' and 'filter'`); return undefined; }
  const before = problems.length;
  for (const key of Object.keys(raw)) if (!ACTION_KEYS.includes(key)) problems.push(`${where}: unknown key '${key}' (keys: ${ACTION_KEYS.join(', ')})`);
  for (const key of ['action', 'filter']) if (!(key in raw)) problems.push(`${where}: '${key}' is missing`);
  if ('action' in raw && !(TRAIT_ACTIONS as readonly unknown[]).includes(raw.action)) {
    problems.push(`${where}: unknown action ${JSON.stringify(raw.action)} (actions: ${TRAIT_ACTIONS.join(', ')})`);
  }
  let filter: FilterExpression | undefined;
  if ('filter' in raw) {
    if (typeof raw.filter !== 'string') problems.push(`${where}: filter must be a string`);
    else {
      try { filter = FilterExpression.parse(raw.filter); }
      catch (err) {
        if (!(err instanceof FilterSyntaxError)) throw err;
        problems.push(`${where}: filter "${raw.filter}": ${err.message}`);
      }
    }
  }
  const minCount = count(raw.min_count, 'min_count', where, problems);
  const maxCount = count(raw.max_count, 'max_count', where, problems);
  if (raw.action === 'group_and_attach_ports' && (minCount === null || minCount < 2)) {
    problems.push(`${where}: a port group needs at least 2 ports, so min_count must be 2 or more, got ${JSON.stringify(raw.min_count ?? null)}`);
  }
  if (minCount !== null && maxCount !== null && maxCount < minCount) problems.push(`${where}: max_count ${maxCount} is below min_count ${minCount}`);
  if (problems.length > before || !filter) return undefined;
  return { trait, action: raw.action as TraitActionKind, filter, minCount, maxCount };
}

/** Parses and validates the file's text; throws InvalidInput listing every problem. */
export function parseTraitsConfig(text: string, file: string): NetworkTrait[] {
  let doc: unknown;
  try { doc = parseYaml(text); }
  catch (err) { throw new InvalidInput(`Trait-based networking file ${file} is not YAML: ${(err as Error).message}`); }
  if (!isMapping(doc)) throw new InvalidInput(`Trait-based networking file ${file} must be a mapping of trait names to traits`);
  const problems: string[] = [];
  const traits: NetworkTrait[] = [];
  for (const [name, raw] of Object.entries(doc)) {
    if (!name.startsWith('CUSTOM_')) problems.push(`trait ${name}: a trait's name must start with CUSTOM_`);
    if (!isMapping(raw)) { problems.push(`trait ${name}: must be a mapping with 'actions'`); continue; }
    for (const key of Object.keys(raw)) if (!TRAIT_KEYS.includes(key)) problems.push(`trait ${name}: unknown key '${key}' (keys: ${TRAIT_KEYS.join(', ')})`);
    if (raw.order !== undefined && !Number.isInteger(raw.order)) problems.push(`trait ${name}: order must be an integer, got ${JSON.stringify(raw.order)}`);
    if (!Array.isArray(raw.actions) || raw.actions.length === 0) { problems.push(`trait ${name}: 'actions' must be a non-empty list`); continue; }
    const actions = raw.actions.map((a, i) => parseAction(name, i, a, problems));
    if (actions.every((a): a is TraitAction => a !== undefined)) traits.push({ name, order: (raw.order as number | undefined) ?? 1, actions });
  }
  if (problems.length > 0) throw new InvalidInput(`Trait-based networking file ${file} is invalid:\n  ${problems.join('\n  ')}`);
  return traits;
}
