// The conditions of Ironic's inspection rules (ironic/common/inspection_rules/operators.py), as
// data: each operator's signature and its check over already interpolated arguments. Pure.
import { BlockList, isIP } from 'node:net';
import { pyStr } from './interpolate.ts';
import { RuleExecutionError, type Args, type Signature } from './signature.ts';

export interface Operator extends Signature {
  check(args: Args): boolean;
}

/** Python's re syntax to JavaScript's: leading inline flags ((?i)) and named groups ((?P<n>...)). */
export function pythonRegex(source: string, anchored: boolean): RegExp {
  let flags = '';
  let body = source;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    for (const f of inline[1]) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
  }
  body = body.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>');
  // Ironic's matches: re.match (anchored at the start) of the regex with a `$` appended.
  if (anchored) body = `^(?:${body}${body.endsWith('$') ? '' : '$'})`;
  try {
    return new RegExp(body, flags);
  } catch (err) {
    throw new RuleExecutionError(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

const NUMERIC = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * Python's ordering of two values. Interpolation makes strings of inventory numbers, so (beyond
 * Python) a number and a numeric string compare as numbers; other mixes are refused as Python does.
 */
function compare(a: unknown, b: unknown): number {
  const numA = typeof a === 'number' || (typeof a === 'string' && typeof b === 'number' && NUMERIC.test(a));
  const numB = typeof b === 'number' || (typeof b === 'string' && typeof a === 'number' && NUMERIC.test(b));
  if (numA && numB) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new RuleExecutionError(`cannot order ${pyStr(a)} and ${pyStr(b)}: compare numbers with numbers and strings with strings (or pass force_strings)`);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function chain(relation: (a: unknown, b: unknown) => boolean): Operator {
  return {
    required: ['values'], optional: ['force_strings'], formatted: ['values'],
    check({ values, force_strings }) {
      if (!Array.isArray(values)) throw new RuleExecutionError(`expected a list for 'values', got ${pyStr(values)}`);
      const list = force_strings === true ? values.map(pyStr) : values;
      for (let i = 0; i + 1 < list.length; i++) if (!relation(list[i], list[i + 1])) return false;
      return true;
    },
  };
}

function truthy(value: unknown, wanted: boolean): boolean {
  if (typeof value === 'boolean') return value === wanted;
  if (typeof value === 'number') return (value !== 0) === wanted;
  if (typeof value === 'string') return (wanted ? ['yes', 'true'] : ['no', 'false']).includes(value.toLowerCase());
  return !wanted && value === null;
}

function inNet(address: unknown, subnet: unknown): boolean {
  const [net, prefix, extra] = String(subnet).split('/');
  const family = isIP(net);
  const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
  if (!family || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
    throw new RuleExecutionError(`invalid value: ${pyStr(subnet)} is not a network (address/prefix)`);
  }
  const addr = String(address);
  const addrFamily = isIP(addr);
  if (!addrFamily) throw new RuleExecutionError(`invalid value: ${pyStr(address)} is not an IP address`);
  if (addrFamily !== family) return false;
  const list = new BlockList();
  list.addSubnet(net, bits, family === 6 ? 'ipv6' : 'ipv4');
  return list.check(addr, addrFamily === 6 ? 'ipv6' : 'ipv4');
}

const one = (check: (value: unknown) => boolean): Operator => ({ required: ['value'], optional: [], formatted: ['value'], check: ({ value }) => check(value) });

export const OPERATORS: Readonly<Record<string, Operator>> = {
  eq: chain(same),
  lt: chain((a, b) => compare(a, b) < 0),
  gt: chain((a, b) => compare(a, b) > 0),
  'is-empty': one((v) => ['', 'None', '[]', '{}'].includes(pyStr(v))),
  'in-net': { required: ['address', 'subnet'], optional: [], formatted: ['address', 'subnet'], check: ({ address, subnet }) => inNet(address, subnet) },
  matches: { required: ['value', 'regex'], optional: [], formatted: ['value'], check: ({ value, regex }) => pythonRegex(String(regex), true).test(pyStr(value)) },
  contains: { required: ['value', 'regex'], optional: [], formatted: ['value'], check: ({ value, regex }) => pythonRegex(String(regex), false).test(pyStr(value)) },
  'one-of': {
    required: ['value'], optional: ['values'], formatted: ['value', 'values'],
    check: ({ value, values = [] }) => Array.isArray(values) && values.some((v) => same(v, value)),
  },
  'is-none': one((v) => pyStr(v) === 'None'),
  'is-true': one((v) => truthy(v, true)),
  'is-false': one((v) => truthy(v, false)),
};
