// Anvil's Redfish client, on axios: Basic or session auth (X-Auth-Token, re-created on 401), TLS
// with a CA choice, keep-alive, per-call timeouts, bounded retries with back-off for connection
// errors and 5xx, ETag/If-Match on PATCH (with the 412/428 fallbacks real BMCs need), task monitors,
// and Redfish error bodies turned into readable text.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { bmcHttpClient } from '../../common/bmc-http.ts';
import { BmcTimeout, DriverError } from '../../common/errors.ts';
import type { RedfishInfo } from './driver-info.ts';
import { timeBmcCall } from '../../common/metrics.ts';

export type Json = Record<string, unknown>;

export interface RedfishResponse {
  status: number;
  headers: Record<string, string>;
  data: Json;
}

/** A Redfish call that failed with an HTTP status; messageIds from error.@Message.ExtendedInfo. */
export class RedfishError extends DriverError {
  constructor(message: string, readonly status: number, readonly messageIds: string[]) {
    super(message, 'RedfishError');
  }
  /** Whether one of the BMC's message ids ends with `name` (registry versions differ: Base.1.5.X, Base.1.8.X). */
  hasMessage(name: string): boolean {
    return this.messageIds.some((id) => id === name || id.endsWith(`.${name}`));
  }
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ERR_SOCKET_CONNECTION_TIMEOUT']);
const RUNNING_TASK_STATES = new Set(['New', 'Starting', 'Running', 'Pending', 'Stopping', 'Suspended', 'Service', 'Interrupted']);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The readable text of a Redfish error body (every ExtendedInfo message, else error.message). */
export function redfishErrorText(body: unknown): { text: string; ids: string[] } {
  const err = isObject(body) && isObject(body.error) ? body.error : null;
  if (!err) return { text: '', ids: [] };
  const infos = Array.isArray(err['@Message.ExtendedInfo']) ? err['@Message.ExtendedInfo'].filter(isObject) : [];
  const ids = infos.map((i) => String(i.MessageId ?? '')).filter(Boolean);
  if (typeof err.code === 'string') ids.push(err.code);
  const texts = infos.map((i) => [i.Message, i.Resolution ? `(${String(i.Resolution)})` : ''].filter(Boolean).join(' ')).filter(Boolean);
  return { text: texts.length ? texts.join('; ') : String(err.message ?? ''), ids };
}

function caBundle(where: string): string[] {
  if (statSync(where).isDirectory()) {
    return readdirSync(where).filter((f) => /\.(pem|crt)$/i.test(f)).map((f) => readFileSync(path.join(where, f), 'utf8'));
  }
  return [readFileSync(where, 'utf8')];
}

const pathOf = (uri: string) => {
  try {
    return new URL(uri, 'http://x').pathname;
  } catch {
    return uri;
  }
};
const etagKey = (uri: string) => pathOf(uri).toLowerCase().replace(/\/+$/, '');

/** What one failed attempt met, in words: what a person reading last_error needs. */
function attemptFailure(err: { code?: string; message?: string }, timeoutSec: number): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': case 'EPIPE': return 'connection reset';
    case 'ETIMEDOUT': case 'ECONNABORTED': case 'ERR_SOCKET_CONNECTION_TIMEOUT': return `no answer within ${timeoutSec} s`;
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'no route to the host';
    default: return /socket hang up/i.test(err.message ?? '') ? 'connection closed without an answer' : `${err.code ? `${err.code} ` : ''}${err.message ?? String(err)}`;
  }
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * A client's calls bound to one operation's signal (the task context's): when it aborts, the call
 * in flight ends at once with what the BMC did so far, instead of the operation's deadline hiding it.
 */
export type RedfishCalls = Pick<RedfishClient, 'info' | 'root' | 'get' | 'getJson' | 'patch' | 'post' | 'delete' | 'request' | 'waitTask'>;

export class RedfishClient {
  private readonly http: Pick<AxiosInstance, 'request'>;
  private readonly agent: http.Agent;
  private token: string | null = null;
  private sessionUri: string | null = null;
  private login: Promise<void> | null = null;
  /** auto mode: null until decided. */
  private useSession: boolean | null;
  private readonly etags = new Map<string, string>();
  /** The last good service root and when it was read. */
  private rootDoc: { doc: Json; at: number } | null = null;

  constructor(readonly info: RedfishInfo) {
    ({ agent: this.agent, http: this.http } = bmcHttpClient({
      origin: info.origin, timeoutSec: info.timeoutSec,
      verify: info.verifyCa !== false, ca: typeof info.verifyCa === 'string' ? caBundle(info.verifyCa) : undefined,
      headers: { Accept: 'application/json', 'OData-Version': '4.0' },
    }));
    this.useSession = !info.username ? false : info.authType === 'basic' ? false : info.authType === 'session' ? true : null;
  }

  /**
   * The service root, read unauthenticated as the standard allows. Only a good answer is kept, and
   * for cacheTtlSec: a BMC that answered 503 once is asked again next time.
   */
  async root(signal?: AbortSignal): Promise<Json> {
    if (this.rootDoc && Date.now() - this.rootDoc.at < this.info.cacheTtlSec * 1000) return this.rootDoc.doc;
    const res = this.check('GET', this.info.root, await this.send('GET', this.info.root, undefined, {}, false, signal));
    this.rootDoc = { doc: res.data, at: Date.now() };
    return res.data;
  }

  /** The vendor the BMC names in its service root (Vendor, else its Oem section), for the metrics' labels. */
  private vendor(): string {
    const doc = this.rootDoc?.doc;
    if (!doc) return 'unknown';
    if (typeof doc.Vendor === 'string' && doc.Vendor) return doc.Vendor.toLowerCase();
    const oem = isObject(doc.Oem) ? Object.keys(doc.Oem)[0] : undefined;
    return oem ? oem.toLowerCase() : 'unknown';
  }

  /** This client's calls, each ended by `signal` (see RedfishCalls). */
  bound(signal: AbortSignal): RedfishCalls {
    return {
      info: this.info,
      root: () => this.root(signal),
      get: (uri) => this.get(uri, signal),
      getJson: (uri) => this.getJson(uri, signal),
      patch: (uri, body) => this.patch(uri, body, signal),
      post: (uri, body) => this.post(uri, body, signal),
      delete: (uri) => this.delete(uri, signal),
      request: (method, uri, body, headers) => this.request(method, uri, body, headers, signal),
      waitTask: (uri, timeoutSec) => this.waitTask(uri, timeoutSec, signal),
    };
  }

  async get(uri: string, signal?: AbortSignal): Promise<RedfishResponse> {
    const res = await this.request('GET', uri, undefined, {}, signal);
    const etag = res.headers.etag ?? (typeof res.data['@odata.etag'] === 'string' ? res.data['@odata.etag'] : undefined);
    if (etag) this.etags.set(etagKey(uri), etag);
    return res;
  }

  async getJson(uri: string, signal?: AbortSignal): Promise<Json> {
    return (await this.get(uri, signal)).data;
  }

  /**
   * PATCH with If-Match when the resource had an ETag. On 412 retry with a weak ETag made strong,
   * then with a freshly read ETag, then without If-Match (python-sushy's order, plus the re-read);
   * on 428 (If-Match required) read the ETag and retry with it.
   */
  async patch(uri: string, body: Json, signal?: AbortSignal): Promise<RedfishResponse> {
    const send = async (etag: string | null) => this.waitIfTask(await this.request('PATCH', uri, body, etag ? { 'If-Match': etag } : {}, signal), signal);
    const fresh = async () => {
      await this.get(uri, signal);
      return this.etags.get(etagKey(uri)) ?? null;
    };
    const etag = this.etags.get(etagKey(uri)) ?? null;
    try {
      return await send(etag);
    } catch (err) {
      if (!(err instanceof RedfishError) || (err.status !== 412 && err.status !== 428)) throw err;
      if (err.status === 428) {
        const current = await fresh();
        if (!current) throw err;
        return send(current);
      }
      let last: RedfishError = err;
      const fallbacks: (() => Promise<string | null>)[] = [
        ...(etag?.startsWith('W/') ? [async () => etag.slice(2)] : []),
        fresh,
        async () => null,
      ];
      for (const next of fallbacks) {
        try {
          return await send(await next());
        } catch (e) {
          if (!(e instanceof RedfishError) || (e.status !== 412 && e.status !== 428)) throw e;
          last = e;
        }
      }
      throw last;
    }
  }

  /** POST; a 202 with a task monitor is polled to its end. */
  async post(uri: string, body: Json, signal?: AbortSignal): Promise<RedfishResponse> {
    return this.waitIfTask(await this.request('POST', uri, body, {}, signal), signal);
  }

  async delete(uri: string, signal?: AbortSignal): Promise<RedfishResponse> {
    return this.request('DELETE', uri, undefined, {}, signal);
  }

  private async waitIfTask(res: RedfishResponse, signal?: AbortSignal): Promise<RedfishResponse> {
    const location = res.headers.location;
    if (res.status !== 202 || !location) return res;
    return this.waitTask(location, undefined, signal);
  }

  /** Polls a task monitor (or task) until it ends; throws with the task's messages if it failed. */
  async waitTask(uri: string, timeoutSec = 600, signal?: AbortSignal): Promise<RedfishResponse> {
    const deadline = Date.now() + timeoutSec * 1000;
    let delay = 100;
    for (;;) {
      const res = await this.request('GET', uri, undefined, {}, signal);
      const state = typeof res.data.TaskState === 'string' ? res.data.TaskState : null;
      if (res.status !== 202 && !(state && RUNNING_TASK_STATES.has(state))) {
        if (state === 'Exception' || state === 'Killed' || state === 'Cancelled') {
          const messages = Array.isArray(res.data.Messages) ? res.data.Messages.filter(isObject).map((m) => String(m.Message ?? '')).filter(Boolean) : [];
          throw new RedfishError(`The BMC task ${pathOf(uri)} ended in state ${state}: ${messages.join('; ') || 'no message'}`, res.status, []);
        }
        return res;
      }
      if (Date.now() > deadline) throw new BmcTimeout(`The BMC task ${pathOf(uri)} did not finish within ${timeoutSec} s (state ${state ?? 'running'})`);
      const retryAfter = Number(res.headers['retry-after']);
      await sleep(Math.min(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : delay, delay), undefined, signal ? { signal } : undefined);
      delay = Math.min(delay * 2, 2000);
    }
  }

  /** An authenticated call; a session that the BMC forgot (401) is re-created once. */
  async request(method: string, uri: string, body?: Json, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<RedfishResponse> {
    let res = await this.send(method, uri, body, headers, true, signal);
    if (res.status === 401 && this.token) {
      this.token = null;
      this.sessionUri = null;
      res = await this.send(method, uri, body, headers, true, signal);
    }
    // sushy-emulator answers /Systems/<name> with 307 to /Systems/<uuid>, for PATCH and POST too: follow, keeping the method.
    for (let hops = 0; (res.status === 307 || res.status === 308) && res.headers.location && hops < 3; hops++) {
      uri = res.headers.location;
      res = await this.send(method, uri, body, headers, true, signal);
    }
    return this.check(method, uri, res);
  }

  private check(method: string, uri: string, res: RedfishResponse): RedfishResponse {
    if (res.status < 400) return res;
    const { text, ids } = redfishErrorText(res.data);
    const reason = res.status === 401 ? 'the BMC refused the credentials (check redfish_username and redfish_password)' : text || 'no error message';
    throw new RedfishError(`Redfish ${method} ${pathOf(uri)} on ${this.info.origin} failed with HTTP ${res.status}: ${reason}`, res.status, ids);
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (!this.info.username) return {};
    if (this.useSession !== false) {
      if (!this.token) {
        this.login ??= this.createSession().finally(() => { this.login = null; });
        await this.login;
      }
      if (this.token) return { 'X-Auth-Token': this.token };
    }
    return { Authorization: `Basic ${Buffer.from(`${this.info.username}:${this.info.password ?? ''}`).toString('base64')}` };
  }

  private async createSession(): Promise<void> {
    let sessions = `${this.info.root}/SessionService/Sessions`;
    try {
      const root = await this.root();
      const links = isObject(root.Links) && isObject(root.Links.Sessions) ? root.Links.Sessions['@odata.id'] : undefined;
      if (typeof links === 'string') sessions = links;
    } catch (err) {
      if (this.useSession === true) throw err;
    }
    const res = await this.send('POST', sessions, { UserName: this.info.username, Password: this.info.password ?? '' }, {}, false);
    const token = res.headers['x-auth-token'];
    if (res.status < 300 && token) {
      this.token = token;
      this.sessionUri = res.headers.location ?? (typeof res.data['@odata.id'] === 'string' ? res.data['@odata.id'] : null);
      this.useSession = true;
      return;
    }
    if (this.useSession === true) {
      const { text } = redfishErrorText(res.data);
      throw new RedfishError(`Cannot open a Redfish session on ${this.info.origin} (HTTP ${res.status}${text ? `: ${text}` : ''})`, res.status, []);
    }
    this.useSession = false; // auto: no usable SessionService (as on sushy-emulator): Basic from now on
  }

  /**
   * One HTTP exchange with bounded retries and back-off for connection errors and 5xx (not 501).
   * When `signal` aborts (the operation's time is up), it stops at once and says what each attempt met.
   */
  private async send(method: string, uri: string, body: Json | undefined, headers: Record<string, string>, auth: boolean, signal?: AbortSignal): Promise<RedfishResponse> {
    const url = uri.startsWith('/') ? uri : pathOf(uri);
    const what = `${method} ${pathOf(uri)}`;
    const met: string[] = [];
    let lastError: unknown = null;
    let began = Date.now();
    const gaveUp = (inFlight: boolean) => new BmcTimeout(
      `No answer from the BMC at ${this.info.origin} to ${what} before the operation's time ran out: ${[...met.map((m, i) => `attempt ${i + 1}: ${m}`), ...(inFlight ? [`attempt ${met.length + 1}: no answer after ${seconds(Date.now() - began)}`] : [])].join('; ')}`,
    );
    const pause = async (attempt: number) => {
      try {
        await sleep(this.info.retryIntervalSec * 1000 * 2 ** (attempt - 1), undefined, signal ? { signal } : undefined);
      } catch (err) {
        if (signal?.aborted) throw gaveUp(false);
        throw err;
      }
    };
    for (let attempt = 1; attempt <= this.info.attempts; attempt++) {
      if (signal?.aborted) throw gaveUp(false);
      began = Date.now();
      try {
        const sent = { ...(auth ? await this.authHeaders() : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers };
        const res: AxiosResponse = await timeBmcCall(() => ({ driver: 'redfish', vendor: this.vendor() }), () => this.http.request({ method, url, data: body, signal, headers: sent }), (r) => r.status >= 400);
        const out = { status: res.status, headers: lowerHeaders(res.headers), data: isObject(res.data) ? res.data : {} };
        if (res.status >= 500 && res.status !== 501 && res.status !== 505 && attempt < this.info.attempts) {
          lastError = out;
          met.push(`HTTP ${res.status}`);
          await pause(attempt);
          continue;
        }
        return out;
      } catch (err) {
        if (err instanceof RedfishError || err instanceof BmcTimeout) throw err;
        if (signal?.aborted) throw gaveUp(true);
        const code = (err as { code?: string }).code ?? '';
        lastError = err;
        met.push(attemptFailure(err as Error, this.info.timeoutSec));
        if (!TRANSIENT_CODES.has(code) && !/socket hang up/i.test((err as Error).message)) break;
        if (attempt < this.info.attempts) await pause(attempt);
      }
    }
    if (lastError && isObject(lastError) && 'status' in lastError) return lastError as unknown as RedfishResponse;
    const err = lastError as { code?: string; message?: string };
    const tries = met.length > 1 ? ` after ${met.length} attempts` : '';
    if (err?.code === 'ETIMEDOUT' || err?.code === 'ECONNABORTED') {
      throw new BmcTimeout(`The BMC at ${this.info.origin} did not answer ${what} within ${this.info.timeoutSec} s${tries}`);
    }
    throw new DriverError(`Cannot reach the BMC at ${this.info.origin} for ${what}${tries}: ${attemptFailure(err, this.info.timeoutSec)}${err?.code ? ` (${err.code})` : ''}`);
  }

  /** Ends the session (BMCs cap them) and the keep-alive connections. */
  async close(): Promise<void> {
    const uri = this.sessionUri;
    this.sessionUri = null;
    if (uri && this.token) await this.send('DELETE', uri, undefined, {}, true).catch(() => undefined);
    this.token = null;
    this.agent.destroy();
  }
}

function lowerHeaders(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(h)) return out;
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}
