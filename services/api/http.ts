// Small helpers every route plugin shares: links, the bodiless 202/204 answers, and parsing of
// Ironic's query parameters (booleans, fields=, pagination and sorting).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInput } from '../../common/errors.ts';
import { apiPublicUrl, type AnvilConfig } from '../../common/config.ts';
import { requireVersion } from './version.ts';
import { origin } from '../../common/url-host.ts';

export interface Link { href: string; rel: string; type?: string }

/**
 * The URL clients reach us at: the configured public URL, else the address and port the
 * connection was accepted on (the listen address, made concrete when it is 0.0.0.0). Never the
 * Host header: the client writes it, and it would be copied into every link we hand out.
 */
export function baseUrl(req: FastifyRequest, config: AnvilConfig): string {
  const { localAddress, localPort } = req.socket ?? {};
  if (config.api.publicUrl || !localAddress || !localPort) return apiPublicUrl(config);
  const host = localAddress.replace(/^::ffff:(?=\d)/, '');
  return origin(req.protocol, host, localPort);
}

/** Ironic's self + bookmark pair (the bookmark has no /v1). */
export function selfLinks(base: string, resource: string, id?: string, bookmark = true): Link[] {
  const tail = id === undefined ? `${resource}/` : `${resource}/${id}`;
  const out: Link[] = [{ href: `${base}/v1/${tail}`, rel: 'self' }];
  if (bookmark) out.push({ href: `${base}/${tail}`, rel: 'bookmark' });
  return out;
}

/** 202 with no body and no Content-Type (ironicclient only decodes bodies labelled JSON). */
export function accepted(reply: FastifyReply, location?: string): FastifyReply {
  if (location) reply.header('Location', location);
  return reply.code(202).removeHeader('content-type').send();
}

export function noContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).removeHeader('content-type').send();
}

export type Query = Record<string, string | string[] | undefined>;

/** The last value of a query parameter (repeated parameters: the last one wins). */
export function queryValue(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

const TRUE = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);

/** oslo strutils.bool_from_string(strict=True). */
/** A comma-separated query value (`shard=a,b`) as its non-empty items. */
export function listParam(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new InvalidInput(`Invalid value for ${name}: "${value}". Expected one of ${[...TRUE, ...FALSE].join(', ')}.`);
}

export function optionalBool(q: Query, name: string): boolean | undefined {
  const v = queryValue(q, name);
  return v === undefined ? undefined : parseBool(name, v);
}

/**
 * Whether a collection is shown in detail: by its path (/detail) or by ?detail=True (1.43), which
 * cannot go with ?fields=.
 */
export function wantsDetail(req: FastifyRequest, q: Query, byPath: boolean): boolean {
  const param = optionalBool(q, 'detail');
  if (param === undefined) return byPath;
  requireVersion(req, 43, 'The detail parameter');
  if (param && q.fields !== undefined) throw new InvalidInput('Can not specify ?detail=True and fields in the same request.');
  return byPath || param;
}

/**
 * `fields=a,b`: checked against the fields visible at the request's version. Unknown ones are a
 * 400 as in Ironic; ones newer than the request a 406. `links` is always kept.
 */
export function parseFields(req: FastifyRequest, q: Query, versions: Record<string, number>): Set<string> | undefined {
  const raw = queryValue(q, 'fields');
  if (raw === undefined) return undefined;
  requireVersion(req, 8, 'The "fields" parameter');
  const fields = raw.split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of fields) {
    if (!(f in versions)) throw new InvalidInput(`Field ${f} is not a valid field.`);
    requireVersion(req, versions[f], `Field ${f}`);
  }
  return new Set([...fields, 'links']);
}

export interface PageRequest {
  limit: number;
  marker?: string;
  sortKey: string;
  sortDir: 'asc' | 'desc';
}

/** limit (1..max, default max), marker, sort_key (one of `sortable`) and sort_dir. */
export function parsePage(q: Query, maxLimit: number, sortable: ReadonlySet<string>, defaultKey = 'id'): PageRequest {
  const rawLimit = queryValue(q, 'limit');
  let limit = maxLimit;
  if (rawLimit !== undefined) {
    const n = Number(rawLimit);
    if (!/^-?\d+$/.test(rawLimit.trim()) || !Number.isSafeInteger(n)) throw new InvalidInput(`Invalid limit "${rawLimit}": it must be an integer.`);
    if (n <= 0) throw new InvalidInput('Limit must be positive');
    limit = Math.min(n, maxLimit);
  }
  const sortKey = queryValue(q, 'sort_key') ?? defaultKey;
  if (!sortable.has(sortKey)) throw new InvalidInput(`The sort_key value "${sortKey}" is an invalid field for sorting`);
  const dir = (queryValue(q, 'sort_dir') ?? 'asc').toLowerCase();
  if (dir !== 'asc' && dir !== 'desc') throw new InvalidInput(`Invalid sort direction: ${dir}. Acceptable values are 'asc' or 'desc'`);
  return { limit, marker: queryValue(q, 'marker'), sortKey, sortDir: dir };
}

/**
 * Ironic's collection answer: `{<name>: items, next?}`, `next` only when the page is full. The
 * next link repeats the request's filters with the new marker.
 */
export function collection<T>(name: string, items: T[], opts: { base: string; path: string; query: Query; page: PageRequest; markerOf: (item: T) => string }): Record<string, unknown> {
  const out: Record<string, unknown> = { [name]: items };
  if (items.length > 0 && items.length === opts.page.limit) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (k === 'limit' || k === 'marker' || v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
    }
    params.set('limit', String(opts.page.limit));
    params.set('marker', opts.markerOf(items[items.length - 1]));
    out.next = `${opts.base}/v1/${opts.path}?${params.toString()}`;
  }
  return out;
}

/** Picks the visible fields of an object (a field list from `fields=` or the defaults). */
export function pick(obj: Record<string, unknown>, fields: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in obj) out[f] = obj[f];
  return out;
}
