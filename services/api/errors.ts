// Every error becomes Ironic's body in this one place: a JSON object whose `error_message` is
// itself a JSON string (ironic/api/middleware/parsable_error.py), which ironicclient decodes.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AnvilError, InvalidInput, NotFound } from '../../common/errors.ts';
import { VersionNotAcceptable } from './version.ts';

export function ironicErrorBody(status: number, message: string): { error_message: string } {
  return { error_message: JSON.stringify({ faultcode: status < 500 ? 'Client' : 'Server', faultstring: message, debuginfo: null }) };
}

/** 403, e.g. a protected node (NodeProtected). */
export class Forbidden extends AnvilError {
  constructor(message: string, code = 'Forbidden') { super(message, 403, code); }
}

/** 503: no conductor answered in time. */
export class ServiceUnavailable extends AnvilError {
  constructor(message: string) { super(message, 503, 'NoFreeConductorWorker'); }
}

export function notFound(kind: string, ident: string): NotFound {
  return new NotFound(`${kind} ${ident} could not be found.`, `${kind.replace(/\s/g, '')}NotFound`);
}

interface AjvError { keyword: string; instancePath: string; params: Record<string, unknown>; message?: string }

/** jsonschema-style wording, as Ironic's "Schema error for ...: ..." messages use. */
export function describeSchemaError(e: AjvError, data?: unknown): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
  const at = where ? ` (at ${where})` : '';
  switch (e.keyword) {
    case 'additionalProperties':
      return `Additional properties are not allowed ('${String(e.params.additionalProperty)}' was unexpected)${at}`;
    case 'required':
      return `'${String(e.params.missingProperty)}' is a required property${at}`;
    case 'type': {
      const value = valueAt(data, e.instancePath);
      return `${JSON.stringify(value)} is not of type '${String(e.params.type)}'${at}`;
    }
    case 'enum':
      return `${JSON.stringify(valueAt(data, e.instancePath))} is not one of ${JSON.stringify(e.params.allowedValues)}${at}`;
    default:
      return `${where || 'body'} ${e.message ?? 'is invalid'}`;
  }
}

function valueAt(data: unknown, pointer: string): unknown {
  let cur = data;
  for (const part of pointer.split('/').slice(1)) {
    if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    else return undefined;
  }
  return cur;
}

/** Maps anything thrown by a route to its status and message. */
export function toAnvilError(err: unknown, req?: FastifyRequest): AnvilError {
  if (err instanceof AnvilError) return err;
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    const first = fe.validation[0];
    const body = fe.validationContext === 'body' ? req?.body : undefined;
    return new InvalidInput(`Schema error for ${fe.validationContext ?? 'request'}: ${describeSchemaError(first, body)}`);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InvalidInput(`The request body is not valid JSON: ${fe.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AnvilError(`Unsupported media type ${String(req?.headers['content-type'] ?? '')}; send application/json`, 415, 'UnsupportedMediaType');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AnvilError('The request body is too large', 413, 'RequestEntityTooLarge');
  }
  if (err instanceof SyntaxError) return new InvalidInput(`The request body is not valid JSON: ${err.message}`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new AnvilError(fe.message, fe.statusCode, fe.code ?? 'ClientError');
  return internalError(err, req);
}

/**
 * A 500 says which request failed and in which layer, never the raw message: a database error's
 * holds the SQL statement. The log line (same request id) has the message and stack.
 */
function internalError(err: unknown, req?: FastifyRequest): AnvilError {
  const code = (err as { code?: unknown } | null)?.code;
  const what = typeof code === 'string' && (/^[0-9A-Z]{5}$/.test(code) || code.startsWith('SQLITE_'))
    ? `a database error (${code})`
    : `an unexpected ${err instanceof Error ? err.name : typeof err}`;
  const request = req ? `${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]}` : 'The request';
  return new AnvilError(`${request} failed with ${what}; the API log has the details${req ? ` under request id ${req.id}` : ''}.`, 500, 'InternalError');
}

export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  let e: AnvilError;
  try {
    e = toAnvilError(err, req);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: e.code, msg: e.message }, 'client error');
  } catch {
    // Describing the error failed too (a hostile value in it): still answer in Ironic's format.
    e = internalError(err, req);
  }
  if (e instanceof VersionNotAcceptable) {
    return reply.code(406).type('application/json').send({ error_message: JSON.stringify({ code: 406, title: 'Not Acceptable', description: e.message }) });
  }
  return reply.code(e.status).type('application/json').send(ironicErrorBody(e.status, e.message));
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request was not received in time (api.requestTimeout).'],
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large.'],
};

/** Fastify's clientErrorHandler: a request Node cut before routing (slow, malformed) still gets Ironic's body. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'The request is not valid HTTP.'];
  const body = JSON.stringify(ironicErrorBody(status, message));
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n\r\n${body}`);
  socket.destroy(err);
}
