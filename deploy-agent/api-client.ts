// The agent's calls to the Ironic API (IPA's ironic_api_client.py and inspector.py): lookup by
// MAC addresses, heart-beats, and posting the inventory at inspection. Over node:http(s), not fetch:
// Node's fetch loads its undici and compiles its WebAssembly HTTP parser on the first call, which
// took most of a second of the first lookup in a TCG VM; node:http's parser is native.
import http from 'node:http';
import https from 'node:https';
import { connectError } from './api-ca.ts';

type Json = Record<string, unknown>;

export interface LookupResult {
  node: Json & { uuid: string };
  config: Json & { agent_token?: string; heartbeat_timeout?: number };
}

export class ApiCallError extends Error {
  constructor(message: string, readonly status: number | null) { super(message); }
}

/** Microversions IPA asks for: lookup at 1.62 (tokens), heartbeat at 1.68 (agent_verify_ca). */
const LOOKUP_VERSION = 62;
const HEARTBEAT_VERSION = 68;

export class IronicApiClient {
  private maxMinor: number | null = null;
  private readonly agent: http.Agent;

  /** `ca`: the PEM of anvil.api_ca (api-ca.ts), the only CA an https API is verified with; without it, the system's CAs. */
  constructor(readonly apiUrl: string, private readonly opts: { timeoutMs?: number; ca?: string } = {}) {
    this.agent = apiUrl.startsWith('https:') ? new https.Agent({ keepAlive: true, ...(opts.ca ? { ca: opts.ca } : {}) }) : new http.Agent({ keepAlive: true });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private url(p: string): string {
    return `${this.apiUrl.replace(/\/+$/, '')}${p}`;
  }

  private async call(method: string, p: string, opts: { version?: number; body?: unknown } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.version !== undefined) headers['x-openstack-ironic-api-version'] = `1.${opts.version}`;
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    let status: number;
    let text: string;
    try {
      ({ status, text } = await this.request(method, this.url(p), headers, payload));
    } catch (err) {
      throw new ApiCallError(`${method} ${p}: ${connectError(err)}`, null);
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // keep the text
    }
    return { status, body };
  }

  private request(method: string, url: string, headers: Record<string, string>, payload: string | undefined): Promise<{ status: number; text: string }> {
    const send = url.startsWith('https:') ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The highest microversion the API offers (GET /), asked once. */
  private async version(wanted: number): Promise<number> {
    if (this.maxMinor === null) {
      try {
        const { status, body } = await this.call('GET', '/');
        const v = (body as { default_version?: { version?: string } } | null)?.default_version?.version;
        this.maxMinor = status === 200 && v ? Number(v.split('.')[1]) : wanted;
      } catch {
        return wanted;
      }
    }
    return Math.min(this.maxMinor, wanted);
  }

  private static reason(body: unknown): string {
    const msg = (body as { error_message?: string } | null)?.error_message;
    if (typeof msg === 'string') {
      try {
        return (JSON.parse(msg) as { faultstring?: string }).faultstring ?? msg;
      } catch {
        return msg;
      }
    }
    return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200) ?? '';
  }

  async lookup(macs: string[], nodeUuid?: string): Promise<LookupResult> {
    const q = new URLSearchParams();
    if (macs.length) q.set('addresses', macs.join(','));
    if (nodeUuid) q.set('node_uuid', nodeUuid);
    const { status, body } = await this.call('GET', `/v1/lookup?${q}`, { version: await this.version(LOOKUP_VERSION) });
    if (status !== 200) throw new ApiCallError(`lookup failed with HTTP ${status}: ${IronicApiClient.reason(body)}`, status);
    const result = body as LookupResult;
    if (!result?.node?.uuid || !result.config) throw new ApiCallError('lookup reply lacks node.uuid or config', status);
    return result;
  }

  async heartbeat(nodeUuid: string, hb: { callback_url: string; agent_token: string; agent_version: string; agent_status?: string; agent_status_message?: string }): Promise<void> {
    const { status, body } = await this.call('POST', `/v1/heartbeat/${encodeURIComponent(nodeUuid)}`, { version: await this.version(HEARTBEAT_VERSION), body: hb });
    if (status !== 202) throw new ApiCallError(`heartbeat failed with HTTP ${status}: ${IronicApiClient.reason(body)}`, status);
  }

  /** POST /v1/continue_inspection with no version header, as IPA's inspector does. */
  async continueInspection(data: Json): Promise<Json | null> {
    const { status, body } = await this.call('POST', '/v1/continue_inspection', { body: data });
    if (status < 200 || status >= 300) throw new ApiCallError(`continue_inspection failed with HTTP ${status}: ${IronicApiClient.reason(body)}`, status);
    return (body as Json) ?? null;
  }
}
