// The Engine API's two representations (ovirt-engine-api-model, "Representations"): one tree of
// plain values rendered as JSON or XML, and request bodies of either parsed back to that tree.
// XML: `id`, `href` (and a link's `rel`) are attributes, every other attribute a nested element,
// a list a repeated element, a date ISO 8601. JSON: the same names, a date in milliseconds since
// the epoch; a collection is {"vm": [...]}.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export type Tree = { [key: string]: Value };
export type Value = string | number | boolean | Date | null | undefined | Tree | Value[];

const ATTRIBUTES = new Set(['id', 'href', 'rel']);
/** Elements that are lists wherever they appear in what clients send (a list of one is still a list). */
const LIST_ELEMENTS = new Set(['device', 'link']);

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true, suppressBooleanAttributes: false });
const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, trimValues: true,
  isArray: (name) => LIST_ELEMENTS.has(name),
});

/** The tree in fast-xml-parser's builder form: attributes prefixed, the rest as elements. */
function forBuilder(value: Value): unknown {
  if (Array.isArray(value)) return value.map(forBuilder);
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object') return String(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    out[ATTRIBUTES.has(k) && typeof v !== 'object' ? `@_${k}` : k] = forBuilder(v);
  }
  return out;
}

/** Drops undefined and null fields, as the Engine leaves unset attributes out of both forms. */
function pruned(value: Value): Value {
  if (Array.isArray(value)) return value.map(pruned);
  if (value instanceof Date) return value.getTime();
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, pruned(v)]));
}

export function toXml(root: string, tree: Tree): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${builder.build({ [root]: forBuilder(tree) }) as string}`;
}

export function toJson(tree: Tree): string {
  return JSON.stringify(pruned(tree));
}

export type Format = 'xml' | 'json';

/** The answer's representation: JSON when the client asks for it, else XML (the Engine's default). */
export function formatOf(accept: string | undefined): Format {
  return accept && /application\/json/i.test(accept) ? 'json' : 'xml';
}

export class BadBody extends Error {}

/**
 * A request body as a tree, with its root element (`action`, `vm`) taken off in XML, as JSON
 * bodies have none. An empty body is an empty tree.
 */
export function parseBody(raw: string, contentType: string | undefined): Tree {
  if (raw.trim() === '') return {};
  if (contentType && /json/i.test(contentType)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new BadBody(`The request body is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadBody('The request body must be a JSON object');
    return parsed as Tree;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(raw, true) as Record<string, unknown>;
  } catch (err) {
    throw new BadBody(`The request body is not well-formed XML: ${(err as Error).message}`);
  }
  const roots = Object.keys(doc).filter((k) => k !== '?xml');
  if (roots.length !== 1) throw new BadBody('The request body must hold one root element');
  const body = doc[roots[0]];
  return typeof body === 'object' && body !== null ? (body as Tree) : {};
}

/** A field of a parsed body, whichever form it came in. */
export function pick(tree: unknown, ...path: string[]): unknown {
  let v: unknown = tree;
  for (const key of path) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Tree)[key] : undefined;
  return v;
}

/** true/false from JSON booleans or XML text. */
export function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}
