// oslo.policy's check-string language, parsed once into a function: `role:x`, `rule:name`,
// `kind:literal`, `kind:%(target.key)s`, `@`, `!`, `not`, `and`, `or` and parentheses, with
// oslo's precedence (not > and > or). Credentials are oslo.context's policy values; the target
// holds the object's fields (`node.owner`, `node.lessee`, `allocation.owner`, `config.*`).
import { InvalidInput } from '../../../../common/errors.ts';

export type Credentials = Record<string, string | string[] | null>;
export type Target = Record<string, string | null | undefined>;

/** Thrown while evaluating without the target when a check needs it: the caller loads it and evaluates again. */
export const NEEDS_TARGET = Symbol('needs target');

export interface CheckContext {
  creds: Credentials;
  /** null: not loaded yet (checks that need it throw NEEDS_TARGET). */
  target: Target | null;
  /** Values known without the target (`config.service_project_name`). */
  constants: Target;
  /** Evaluates another rule by name (rule:x). */
  rule(name: string): boolean;
}

export type Check = (ctx: CheckContext) => boolean;

const TEMPLATE = /%\(([^)]+)\)s/g;

function genericCheck(kind: string, match: string): Check {
  const keys = [...match.matchAll(TEMPLATE)].map((m) => m[1]);
  return (ctx) => {
    let value = match;
    for (const key of keys) {
      let v: string | string[] | null | undefined = ctx.constants[key];
      if (v === undefined) {
        if (ctx.target === null) throw NEEDS_TARGET;
        v = key in ctx.target ? ctx.target[key] : ctx.creds[key];
      }
      // An absent field (a node with no owner) never matches, whatever the credential holds.
      if (v === null || v === undefined || Array.isArray(v)) return false;
      value = value.replace(`%(${key})s`, v);
    }
    const left = ctx.creds[kind];
    if (left === null || left === undefined) return false;
    return Array.isArray(left) ? left.includes(value) : left === value;
  };
}

function atomCheck(token: string): Check {
  if (token === '@') return () => true;
  if (token === '!') return () => false;
  const colon = token.indexOf(':');
  if (colon <= 0) throw new InvalidInput(`Policy check "${token}" is not of the form kind:match`);
  const kind = token.slice(0, colon);
  const match = token.slice(colon + 1);
  if (kind === 'rule') return (ctx) => ctx.rule(match);
  if (kind === 'role') {
    const role = match.toLowerCase();
    return (ctx) => Array.isArray(ctx.creds.roles) && ctx.creds.roles.includes(role);
  }
  return genericCheck(kind, match);
}

/** oslo's tokenizer: words split on spaces, leading "(" and trailing ")" split off each word. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.startsWith('(')) {
      out.push('(');
      word = word.slice(1);
    }
    const closing: string[] = [];
    while (word.endsWith(')') && !/%\([^)]*\)$/.test(word)) {
      closing.push(')');
      word = word.slice(0, -1);
    }
    if (word) out.push(word);
    out.push(...closing);
  }
  return out;
}

/** Parses a check string; the empty string allows everything, as in oslo.policy. */
export function parseCheck(text: string): Check {
  const tokens = tokenize(text);
  if (tokens.length === 0) return () => true;
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string) => new InvalidInput(`Policy check string "${text}": ${why}`);

  /** operands joined by `word`: any of them (or) or all of them (and). */
  function chain(word: 'or' | 'and', operand: () => Check): Check {
    const parts = [operand()];
    while (peek()?.toLowerCase() === word) {
      pos++;
      parts.push(operand());
    }
    if (parts.length === 1) return parts[0];
    return word === 'or' ? (ctx) => parts.some((p) => p(ctx)) : (ctx) => parts.every((p) => p(ctx));
  }
  const orExpr = (): Check => chain('or', andExpr);
  const andExpr = (): Check => chain('and', notExpr);
  function notExpr(): Check {
    if (peek()?.toLowerCase() === 'not') {
      pos++;
      const inner = notExpr();
      return (ctx) => !inner(ctx);
    }
    return atom();
  }
  function atom(): Check {
    const t = tokens[pos++];
    if (t === undefined) throw fail('it ends too early');
    if (t === '(') {
      const inner = orExpr();
      if (tokens[pos++] !== ')') throw fail('a "(" is not closed');
      return inner;
    }
    if (t === ')' || ['and', 'or'].includes(t.toLowerCase())) throw fail(`unexpected "${t}"`);
    return atomCheck(t);
  }

  const check = orExpr();
  if (pos !== tokens.length) throw fail(`unexpected "${tokens[pos]}"`);
  return check;
}
