// Microversion negotiation (ironic/api/controllers/base.py, v1/versions.py). The request's minor
// version lands on `req.apiVersion`; every response carries the supported range.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotAcceptable, NotFound } from '../../common/errors.ts';

export const MIN_VERSION = 1;
/**
 * 1.95 is what Metal3's baremetal-operator needs (it always sends disable_power_off); 1.96 adds
 * inspection rules, 1.97-1.108 port and port group fields and filters, instance_name, service with
 * disable_ramdisk; 1.109 health, 1.110 abort in wait call-back, 1.111 dynamic port groups, 1.112
 * runbook traits, 1.113 history project, 1.114 firmware component vendor/model/serial number, 1.115
 * history state, target and duration (Ironic master's newest). Fields, verbs and endpoints gated up
 * to here are served.
 */
export const MAX_VERSION = 115;

export const VERSION_HEADER = 'X-OpenStack-Ironic-API-Version';
export const MIN_VERSION_HEADER = 'X-OpenStack-Ironic-API-Minimum-Version';
export const MAX_VERSION_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version';

export const versionString = (minor: number): string => `1.${minor}`;

declare module 'fastify' {
  interface FastifyRequest {
    /** The negotiated minor version (1.N -> N). */
    apiVersion: number;
  }
}

/** The `406` for a version outside the range: Ironic answers it with webob's {code,title,description}. */
export class VersionNotAcceptable extends NotAcceptable {}

function requestedVersion(req: FastifyRequest): string | undefined {
  const ironic = req.headers['x-openstack-ironic-api-version'];
  if (typeof ironic === 'string') return ironic.trim();
  const generic = req.headers['openstack-api-version'];
  if (typeof generic === 'string') {
    const m = /^\s*baremetal\s+(\S+)\s*$/i.exec(generic);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Parses the requested version against the served range `[MIN_VERSION, max]`; missing means the
 * minimum, as in Ironic. Throws a 406 otherwise.
 */
export function parseVersion(raw: string | undefined, max: number = MAX_VERSION): number {
  if (raw === undefined || raw === '') return MIN_VERSION;
  if (raw.toLowerCase() === 'latest') return max;
  const m = /^(\d+)\.(\d+)$/.exec(raw);
  if (!m) throw new VersionNotAcceptable(`Invalid value for ${VERSION_HEADER} header: "${raw}". It must be "latest" or MAJOR.MINOR.`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 1 || minor < MIN_VERSION || minor > max) {
    throw new VersionNotAcceptable(
      `Version ${raw} was requested but the minor version is not supported by this service. The supported version range is: [${versionString(MIN_VERSION)}, ${versionString(max)}].`,
    );
  }
  return minor;
}

/** onRequest hook: negotiates and sets the version headers (also on the 406 itself). */
export function negotiateVersion(req: FastifyRequest, reply: FastifyReply, max: number): void {
  reply.header(MIN_VERSION_HEADER, versionString(MIN_VERSION));
  reply.header(MAX_VERSION_HEADER, versionString(max));
  req.apiVersion = parseVersion(requestedVersion(req), max);
  reply.header(VERSION_HEADER, versionString(req.apiVersion));
}

/** Throws 406 when the request's version is older than `minor` (a too-new field, filter or verb). */
export function requireVersion(req: FastifyRequest, minor: number, what: string): void {
  requireMinor(req.apiVersion, minor, what);
}

/** requireVersion for code that is handed the negotiated version rather than the request. */
export function requireMinor(version: number, minor: number, what: string): void {
  if (version < minor) {
    throw new NotAcceptable(`${what} requires API version ${versionString(minor)} or later; the request asked for ${versionString(version)}.`);
  }
}

/** Endpoints that did not exist at the requested version answer 404, as Ironic does. */
export function requireEndpoint(req: FastifyRequest, minor: number): void {
  if (req.apiVersion < minor) throw new NotFound('The resource could not be found.');
}

/**
 * Below 1.91 Ironic strips a `.json` suffix from the path (`/v1/nodes/n1.json` is node `n1`), a
 * leftover of pecan's content-type guessing; from 1.91 the suffix is part of the identifier. As in
 * Ironic's JsonExtensionMiddleware, only a request that names a version below 1.91 is rewritten.
 * Runs before routing (Fastify's rewriteUrl), so it reads the header itself.
 */
export function stripJsonSuffix(url: string, versionHeader: string | string[] | undefined): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(/\/+$/, '');
  if (!path.endsWith('.json') || typeof versionHeader !== 'string') return url;
  const m = /^\s*1\.(\d+)\s*$/.exec(versionHeader);
  if (!m || Number(m[1]) >= 91) return url;
  return path.slice(0, -'.json'.length) + (q < 0 ? '' : url.slice(q));
}
