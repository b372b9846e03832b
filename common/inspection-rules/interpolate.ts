// Ironic's variable interpolation in rule arguments: Python's str.format over `node` (an object:
// `{node.driver}`, `{node.driver_info[ipmi_address]}`), `inventory` and `plugin_data`
// (dictionaries: `{inventory[bmc_address]}`) and, in a loop, `item`. As in Ironic a field that
// cannot be resolved (a missing key, `{inventory.bmc_address}`, bad syntax) leaves the whole
// string as it was; a resolved field is rendered as Python's str() would render it.

/** An object whose fields are read with `.name` (Python attribute access); plain objects are dicts. */
export class AttributeView {
  constructor(readonly fields: Record<string, unknown>) {}
}

export type FormatContext = Record<string, unknown>;

class Unresolved extends Error {}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*/;

function pyRepr(value: unknown): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    return quote + value.replace(/\\/g, '\\\\').replace(new RegExp(quote, 'g'), `\\${quote}`).replace(/\n/g, '\\n') + quote;
  }
  return pyStr(value);
}

/** Python's str() of a JSON value: None, True/False, ['a', 1], {'k': 'v'}. */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value instanceof AttributeView) return pyStr(value.fields);
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return String(value);
}

/** Resolves one field name (`inventory[interfaces][0][mac_address]`, `node.name`) in the context. */
function resolve(field: string, context: FormatContext): unknown {
  const head = SIMPLE_KEY.exec(field);
  if (!head || !Object.hasOwn(context, head[0])) throw new Unresolved(field);
  let value = context[head[0]];
  let rest = field.slice(head[0].length);
  while (rest.length > 0) {
    if (rest[0] === '.') {
      const name = SIMPLE_KEY.exec(rest.slice(1));
      if (!name || !(value instanceof AttributeView) || !Object.hasOwn(value.fields, name[0])) throw new Unresolved(field);
      value = value.fields[name[0]];
      rest = rest.slice(1 + name[0].length);
    } else if (rest[0] === '[') {
      const end = rest.indexOf(']');
      if (end < 2) throw new Unresolved(field);
      const key = rest.slice(1, end);
      // Python's format: an all-digit key is an integer index, anything else a string key.
      if (Array.isArray(value) && /^\d+$/.test(key) && Number(key) < value.length) value = value[Number(key)];
      else if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof AttributeView) && Object.hasOwn(value, key)) value = (value as Record<string, unknown>)[key];
      else throw new Unresolved(field);
      rest = rest.slice(end + 1);
    } else {
      throw new Unresolved(field);
    }
  }
  return value;
}

function formatOnce(text: string, context: FormatContext): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '}') {
      if (text[i + 1] !== '}') throw new Unresolved(text);
      out += '}';
      i++;
    } else if (c === '{') {
      if (text[i + 1] === '{') {
        out += '{';
        i++;
        continue;
      }
      const end = text.indexOf('}', i);
      if (end < 0) throw new Unresolved(text);
      const spec = text.slice(i + 1, end);
      // A conversion (!s, !r) is honoured; a format spec (:>10) is beyond what rules use.
      const conv = /^(.*?)(?:!([sr]))?$/.exec(spec)!;
      if (conv[1].includes(':') || conv[1].includes('!')) throw new Unresolved(spec);
      const value = resolve(conv[1], context);
      out += conv[2] === 'r' ? pyRepr(value) : pyStr(value);
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

/** Ironic's safe_format: the formatted string, or the string unchanged when a field does not resolve. */
export function safeFormat(text: string, context: FormatContext): string {
  try {
    return formatOnce(text, context);
  } catch (err) {
    if (err instanceof Unresolved) return text;
    throw err;
  }
}

/**
 * Interpolates every string in a value (keys of objects too). In a loop strings are formatted
 * twice, as Ironic does, so that an item holding `{inventory[bmc_address]}` is resolved as well.
 */
export function interpolate(value: unknown, context: FormatContext, inLoop: boolean): unknown {
  if (typeof value === 'string') {
    const once = safeFormat(value, context);
    return inLoop ? safeFormat(once, context) : once;
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, context, inLoop));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [safeFormat(k, context), interpolate(v, context, inLoop)]));
  }
  return value;
}

/** Keys Ironic hides from the rules that are not marked sensitive. */
const SENSITIVE_KEYS = new Set(['password', 'auth_token', 'bmc_password']);

/** A copy of inspection data with the sensitive keys' values shown as `***`, at any depth. */
export function maskedData<T>(value: T): T {
  if (Array.isArray(value)) return value.map(maskedData) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SENSITIVE_KEYS.has(k) ? '***' : maskedData(v)])) as T;
  }
  return value;
}
