// Anvil's client of the oVirt Engine REST API v4 (/ovirt-engine/api), on axios, in its JSON
// representation: an OAuth token from the Engine's SSO service (the Resource Owner Password grant,
// scope ovirt-app-api; asked again once when the API answers 401, as tokens expire and cannot be
// refreshed) or Basic auth, the `Version: 4` header, and the Engine's faults (reason, detail) and
// SSO errors (error_code, error) turned into readable text. Neither the password nor the token is
// ever put in a message.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { bmcHttpClient } from '../../common/bmc-http.ts';
import { DriverError } from '../../common/errors.ts';
import type { OvirtInfo } from './driver-info.ts';

export type Json = Record<string, unknown>;

export const API_PATH = '/ovirt-engine/api';
export const SSO_TOKEN_PATH = '/ovirt-engine/sso/oauth/token';

/** An Engine call that failed; status null when no HTTP answer came. */
export class OvirtError extends DriverError {
  constructor(message: string, readonly httpStatus: number | null) {
    super(message, 'OVirtError');
  }
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Engine's fault body as words: "reason: detail" (the detail often in brackets, as the Engine sends it). */
export function faultText(body: unknown): string {
  if (!isObject(body)) return typeof body === 'string' && body.trim() && body.length < 300 && !body.includes('<') ? body.trim() : '';
  const fault = isObject(body.fault) ? body.fault : body;
  const reason = typeof fault.reason === 'string' ? fault.reason : '';
  const detail = typeof fault.detail === 'string' ? fault.detail : '';
  return [reason, detail].filter(Boolean).join(': ');
}

/** What a connection that gave no answer met, in words. */
function connectionFailure(err: { code?: string; message?: string }, timeoutSec: number): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': case 'EPIPE': return 'connection reset';
    case 'ETIMEDOUT': case 'ECONNABORTED': case 'ERR_SOCKET_CONNECTION_TIMEOUT': return `no answer within ${timeoutSec} s`;
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'no route to the host';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'the host name does not resolve';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its certificate is not trusted (${err.code}; set driver_info/ovirt_ca_file to the Engine's CA, or ovirt_insecure)`;
    default: return /socket hang up/i.test(err.message ?? '') ? 'connection closed without an answer' : `${err.code ? `${err.code} ` : ''}${err.message ?? String(err)}`;
  }
}

export class EngineClient {
  private readonly http: Pick<AxiosInstance, 'request'>;
  private readonly agent: http.Agent;
  private token: string | null = null;
  private login: Promise<string> | null = null;
  /** VM ids by name: a name is searched once, and again when its id stops answering. */
  readonly vmIds = new Map<string, string>();

  constructor(readonly info: OvirtInfo) {
    ({ agent: this.agent, http: this.http } = bmcHttpClient({
      origin: info.origin, timeoutSec: info.timeoutSec, verify: !info.insecure, ca: info.caFile ? readFileSync(info.caFile, 'utf8') : undefined,
    }));
  }

  private get label(): string {
    return `oVirt Engine ${this.info.origin}`;
  }

  /** One call; `what` names it in errors ("start of VM node-1"). */
  private async send(method: string, url: string, what: string, opts: { data?: unknown; headers?: Record<string, string>; signal?: AbortSignal }): Promise<AxiosResponse> {
    try {
      return await this.http.request({ method, url, data: opts.data, headers: opts.headers, signal: opts.signal });
    } catch (err) {
      // A new error either way: axios's carries the request (its headers, the SSO form with the password).
      if ((err as { name?: string }).name === 'CanceledError') throw Object.assign(new Error(`${this.label}: ${what} aborted`), { name: 'AbortError' });
      throw new OvirtError(`${this.label} is unreachable (${what}): ${connectionFailure(err as { code?: string; message?: string }, this.info.timeoutSec)}`, null);
    }
  }

  /** An SSO token for the user; concurrent callers share one login. */
  private async accessToken(signal?: AbortSignal): Promise<string> {
    if (this.token) return this.token;
    this.login ??= (async () => {
      const form = new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: this.info.username, password: this.info.password });
      const res = await this.send('POST', SSO_TOKEN_PATH, `SSO login of ${this.info.username}`, {
        data: form.toString(), signal, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      });
      const body = isObject(res.data) ? res.data : {};
      if (res.status === 200 && typeof body.access_token === 'string' && body.access_token) return body.access_token;
      const refusal = [body.error_code, body.error].filter((s) => typeof s === 'string' && s).join(': ');
      if (refusal) throw new OvirtError(`${this.label} refused the SSO login of ${this.info.username}: ${refusal} (HTTP ${res.status})`, res.status);
      const said = faultText(res.data) || (res.status === 200 ? 'no access_token in the answer' : '');
      throw new OvirtError(`${this.label}: SSO login of ${this.info.username} failed${said ? `: ${said}` : ''} (HTTP ${res.status})`, res.status);
    })().then((token) => (this.token = token)).finally(() => { this.login = null; });
    return this.login;
  }

  private async authorization(signal?: AbortSignal): Promise<string> {
    if (this.info.auth === 'basic') return `Basic ${Buffer.from(`${this.info.username}:${this.info.password}`).toString('base64')}`;
    return `Bearer ${await this.accessToken(signal)}`;
  }

  /**
   * A call to the API (`path` under /ovirt-engine/api) in JSON; the answer's body. A 401 asks for a
   * new token once; an Engine fault or any other failure throws an OvirtError that says what failed.
   */
  async request(method: string, path: string, what: string, body?: Json, signal?: AbortSignal): Promise<Json> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { Version: '4', Accept: 'application/json', Authorization: await this.authorization(signal) };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await this.send(method, `${API_PATH}${path}`, what, { data: body === undefined ? undefined : JSON.stringify(body), headers, signal });
      if (res.status === 401 && this.info.auth === 'oauth' && attempt === 0) {
        this.token = null;
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        if (isObject(res.data)) return res.data;
        if (res.data === '' || res.data === undefined) return {};
        throw new OvirtError(`${this.label}: ${what} answered HTTP ${res.status} with a body that is not JSON`, res.status);
      }
      if (res.status === 401) throw new OvirtError(`${this.label} refused the credentials of ${this.info.username} (${what}, HTTP 401)`, 401);
      const said = faultText(res.data);
      throw new OvirtError(`${this.label}: ${what} failed${said ? `: ${said}` : ''} (HTTP ${res.status})`, res.status);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

const MAX_CLIENTS = 1024;
const clients = new Map<string, EngineClient>();

/** One client per Engine and credentials, so the token and keep-alive connections are reused; the least recently used go beyond a bound. */
export function engineClient(info: OvirtInfo): EngineClient {
  const { vmName: _vm, pollIntervalSec: _poll, ...connection } = info;
  const key = createHash('sha256').update(JSON.stringify(connection)).digest('hex');
  let client = clients.get(key);
  if (client) {
    clients.delete(key);
  } else {
    client = new EngineClient(info);
    if (clients.size >= MAX_CLIENTS) {
      const [oldKey, old] = clients.entries().next().value as [string, EngineClient];
      clients.delete(oldKey);
      old.close();
    }
  }
  clients.set(key, client);
  return client;
}

/** The family's close: every client's connections. */
export async function closeEngineClients(): Promise<void> {
  for (const c of clients.values()) c.close();
  clients.clear();
}
