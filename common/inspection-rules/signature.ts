// What an operator or action takes: its required and optional arguments (in Ironic's order, for
// the list form of `args`) and which of them are interpolated outside a loop (Ironic's
// FORMATTED_ARGS; in a loop every argument is).
import { AnvilError, InvalidInput } from '../errors.ts';

export interface Signature {
  required: readonly string[];
  optional: readonly string[];
  formatted: readonly string[];
}

export type Args = Record<string, unknown>;

/** A rule failed while it ran (a bad regex, a port that is not there): the inspection fails with it. */
export class RuleExecutionError extends AnvilError {
  constructor(message: string) { super(message, 500, 'RuleActionExecutionFailure'); }
}

/**
 * `args` as a dictionary: a list is matched to the required then the optional arguments, as
 * Ironic's _normalize_list_args; missing required or unknown arguments are refused.
 */
export function normalizeArgs(sig: Signature, args: unknown, what: string): Args {
  let named: Args;
  if (Array.isArray(args)) {
    if (args.length < sig.required.length) throw new InvalidInput(`${what}: not enough arguments provided. Missing: ${sig.required.slice(args.length).join(', ')}`);
    const names = [...sig.required, ...sig.optional];
    if (args.length > names.length) throw new InvalidInput(`${what}: too many arguments: it takes ${names.join(', ')}`);
    named = Object.fromEntries(args.map((v, i) => [names[i], v]));
  } else if (args && typeof args === 'object') {
    named = args as Args;
  } else {
    throw new InvalidInput(`${what}: args must be either a list or dictionary`);
  }
  const missing = sig.required.filter((k) => !(k in named));
  const unexpected = Object.keys(named).filter((k) => !sig.required.includes(k) && !sig.optional.includes(k));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing required argument(s): ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected argument(s): ${unexpected.join(', ')}`);
  if (problems.length) throw new InvalidInput(`${what}: ${problems.join('; ')}`);
  return named;
}
