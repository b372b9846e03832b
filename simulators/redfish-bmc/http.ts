// The simulator's small HTTP vocabulary: a parsed request, a response, and Redfish error bodies
// shaped as real BMCs send them (error.@Message.ExtendedInfo).
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type Json = Record<string, unknown>;

export interface SimRequest {
  method: string;
  /** Path without query or trailing slash, as sent. */
  path: string;
  /** The path lower-cased: lookups are case-insensitive, as on iLO. */
  key: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function normalizePath(raw: string): string {
  const p = raw.split('?')[0].replace(/\/{2,}/g, '/');
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

export function ok(body: unknown, headers?: Record<string, string>): SimResponse {
  return { status: 200, body, headers };
}

export const NO_CONTENT: SimResponse = { status: 204 };

/** A Redfish error body; messageId is a registry message id such as Base.1.8.PropertyValueNotInList. */
export function redfishError(status: number, messageId: string, message: string, resolution?: string): SimResponse {
  return {
    status,
    body: {
      error: {
        code: messageId,
        message,
        '@Message.ExtendedInfo': [{ '@odata.type': '#Message.v1_1_1.Message', MessageId: messageId, Message: message, Severity: status >= 500 ? 'Critical' : 'Warning', Resolution: resolution ?? 'Correct the request and resubmit it.' }],
      },
    },
  };
}

export const notFound = (path: string) => redfishError(404, 'Base.1.8.ResourceNotFound', `The requested resource ${path} was not found.`);
export const notAllowed = (method: string, path: string) => redfishError(405, 'Base.1.8.OperationNotAllowed', `${method} is not allowed on ${path}.`);

/** A weak ETag that changes whenever the resource's content does. */
export function etagOf(resource: unknown): string {
  return `W/"${createHash('sha1').update(JSON.stringify(resource)).digest('hex').slice(0, 8)}"`;
}

/** Whether an If-Match header matches the resource's ETag (weak and strong forms compare equal, as most BMCs do). */
export function ifMatchAccepts(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function link(path: string): { '@odata.id': string } {
  return { '@odata.id': path };
}

export function collection(path: string, type: string, name: string, members: string[]): Json {
  return {
    '@odata.id': path,
    '@odata.type': `#${type}.${type}`,
    Name: name,
    'Members@odata.count': members.length,
    Members: members.map(link),
  };
}
