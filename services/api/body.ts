// What the API accepts as input before any route sees it: request bodies of bounded size and
// depth, parsed as JSON with no `__proto__` keys and no NUL characters, and URLs without NUL.
// The depth is measured on the text before parsing, so nothing recursive (validation, masking,
// JSON.stringify, the error handler) ever meets a document deeper than the limit.
import type { FastifyRequest } from 'fastify';
import type { AnvilConfig } from '../../common/config.ts';
import { InvalidInput } from '../../common/errors.ts';

export interface JsonLimits {
  /** Largest body (or patched resource), in bytes of UTF-8. */
  maxBytes: number;
  /** Deepest nesting of arrays and objects; a scalar is depth 0, `{}` depth 1. */
  maxDepth: number;
}

export function jsonLimits(config: AnvilConfig): JsonLimits {
  return { maxBytes: config.api.maxBodyBytes, maxDepth: config.api.maxJsonDepth };
}

const OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c;

/**
 * The nesting depth of JSON text, in one pass without recursion (strings and their escapes
 * skipped). Stops counting once past `limit`: the answer is then `limit + 1`.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max && (max = depth) > limit) return limit + 1;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return max;
}

/**
 * Keys and strings no body may hold. `__proto__` is a key JSON.parse keeps as an own property,
 * but one that becomes a prototype change wherever code later assigns it (`obj[key] = v`,
 * Object.assign); NUL can't be stored in PostgreSQL text and has no use in Ironic's fields.
 */
function refuseHostile(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') throw new InvalidInput('The request body holds the key "__proto__", which is refused: it would set the prototype of a JavaScript object, not a field.');
  if (key.includes('\0')) throw new InvalidInput(`The request body holds a key with a NUL character (${JSON.stringify(key)}); NUL is not allowed in any string.`);
  if (typeof value === 'string' && value.includes('\0')) throw new InvalidInput(`The request body holds a NUL character in the value of "${key}"; NUL is not allowed in any string.`);
  return value;
}

/** A JSON request body within `limits`; an empty body is no body. */
export function parseJsonBody(body: string, limits: JsonLimits): unknown {
  if (body.trim() === '') return undefined;
  if (jsonDepth(body, limits.maxDepth) > limits.maxDepth) {
    throw new InvalidInput(`The request body nests arrays and objects deeper than ${limits.maxDepth} levels (api.maxJsonDepth).`);
  }
  try {
    return JSON.parse(body, refuseHostile);
  } catch (err) {
    if (err instanceof InvalidInput) throw err;
    throw new InvalidInput(`The request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * A resource document (e.g. after a JSON patch) must fit the limits a request body has, so that
 * whatever is stored can be read back and sent again.
 */
export function checkJsonLimits(value: unknown, limits: JsonLimits, what: string): void {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    throw new InvalidInput(`The ${what} would nest deeper than ${limits.maxDepth} levels (api.maxJsonDepth).`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > limits.maxBytes) throw new InvalidInput(`The ${what} would be ${bytes} bytes of JSON, more than the ${limits.maxBytes} a request may carry (api.maxBodyBytes).`);
  if (jsonDepth(text, limits.maxDepth) > limits.maxDepth) throw new InvalidInput(`The ${what} would nest deeper than ${limits.maxDepth} levels (api.maxJsonDepth).`);
}

/** NUL in a path segment or query parameter (`%00`) is refused before routing reaches the database. */
export function refuseNulInUrl(req: FastifyRequest): void {
  if (/%00/.test(req.url) || req.url.includes('\0')) throw new InvalidInput('The request URL holds a NUL character (%00), which is not allowed in an identifier or a query parameter.');
}
