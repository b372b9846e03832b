// The console's one door to the API: every call carries the signed-in user's credentials
// (HTTP basic or a Keystone token) and asks for the newest API version; errors come back as the
// text of Ironic's error body. The live stream is read with fetch, not EventSource, because
// EventSource cannot send an Authorization or X-Auth-Token header.

export type Credentials = { kind: 'none' } | { kind: 'basic'; user: string; secret: string } | { kind: 'token'; token: string; label: string };

const KEY = 'anvil-console-credentials';
let credentials: Credentials = JSON.parse(sessionStorage.getItem(KEY) ?? '{"kind":"none"}');

export function setCredentials(c: Credentials): void {
  credentials = c;
  if (c.kind === 'none') sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(c));
}

export function getCredentials(): Credentials {
  return credentials;
}

function authHeaders(): Record<string, string> {
  if (credentials.kind === 'basic') return { authorization: `Basic ${btoa(`${credentials.user}:${credentials.secret}`)}` };
  if (credentials.kind === 'token') return { 'x-auth-token': credentials.token };
  return {};
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The sentence in Ironic's error body ({"error_message": "{\"faultstring\": ...}"}). */
function errorText(status: number, body: string): string {
  try {
    const outer = JSON.parse(body);
    const inner = typeof outer.error_message === 'string' ? JSON.parse(outer.error_message) : outer.error_message;
    return inner?.faultstring ?? inner?.description ?? body;
  } catch {
    return body || `HTTP ${status}`;
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-openstack-ironic-api-version': 'latest', ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, errorText(res.status, text));
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface FleetRow {
  uuid: string;
  name: string | null;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
  target_power_state: string | null;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  last_error: string | null;
  owner: string | null;
  lessee: string | null;
  resource_class: string | null;
  driver: string;
  provision_updated_at: number | null;
  updated_at: number | null;
}

export interface NodesEvent {
  nodes: FleetRow[];
  deleted: string[];
  at: number;
}

type Listener = (e: NodesEvent) => void;
const listeners = new Set<Listener>();

/** Calls `fn` with every change the stream brings; returns the unsubscribe function. */
export function onNodes(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Reads /console/api/events for as long as the page lives, reconnecting after a drop.
 * `onState` hears 'live' once the server has subscribed (nothing after that is missed) and 'down'.
 */
export async function runEventStream(onState: (s: 'live' | 'down') => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch('/console/api/events', { headers: { accept: 'text/event-stream', ...authHeaders() }, signal });
      if (!res.ok || !res.body) throw new ApiError(res.status, `event stream: HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event === 'ready') onState('live');
          else if (event === 'nodes') {
            const e = JSON.parse(data) as NodesEvent;
            for (const l of listeners) l(e);
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) {
        onState('down');
        return;
      }
    }
    onState('down');
    await new Promise((r) => setTimeout(r, 2000));
  }
}
