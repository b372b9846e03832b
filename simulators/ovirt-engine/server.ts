// The oVirt Engine simulator: the parts of the Engine REST API v4 that power and boot-device
// clients use (staging-ovirt, ovirtsdk4, libgovirt), over HTTP(S), for many VMs at once:
//   POST /ovirt-engine/sso/oauth/token           OAuth token (password grant, scope ovirt-app-api)
//   GET  /ovirt-engine/services/sso-logout       token revocation
//   GET  /ovirt-engine/services/pki-resource     the CA certificate (unauthenticated)
//   GET|HEAD /ovirt-engine/api                   the entry point (links, product_info, summary)
//   GET  /ovirt-engine/api/vms[?search=&max=]    the VM collection, searched by name=/status=/id=
//   GET|PUT /ovirt-engine/api/vms/{id}           a VM; an update changes os.boot.devices
//   POST /ovirt-engine/api/vms/{id}/{action}     start, stop, shutdown, reboot, reset
// Bearer tokens or Basic (user@domain:password), the Version header (4; 3 is refused as 4.3+ do),
// the /v4 prefix, XML or JSON (Accept / Content-Type), faults as <fault><reason/><detail/></fault>.
import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate, type TlsMaterial } from '../redfish-bmc/tls.ts';
import type { SimulatedMachine } from '../machine.ts';
import { BadBody, flag, formatOf, parseBody, pick, toJson, toXml, type Format, type Tree } from './representation.ts';
import { ActionRefused, API, isBootDevice, SimVm, VM_ACTIONS, type OvirtBootDevice, type VmAction } from './vm.ts';
import { origin } from '../../common/url-host.ts';

export interface EngineSimulatorOptions {
  machines: SimulatedMachine[];
  /** default 127.0.0.1 on an ephemeral port. */
  host?: string;
  port?: number;
  /** user@domain → password; default admin@internal / password. */
  users?: Record<string, string>;
  /** HTTPS with a generated self-signed certificate (true, the default) or the given one; false: plain HTTP. */
  tls?: boolean | TlsMaterial;
  /** Milliseconds each transitional status (wait_for_launch, powering_up, powering_down, reboot_in_progress) lasts. */
  stepMs?: number;
}

/** What a test makes the Engine do wrong. */
export interface EngineFaults {
  /** Every request answers 503, as the Apache in front of a stopped Engine does. */
  unavailable: boolean;
  /** VM name → actions refused with this detail (a host that cannot run it, a locked image...). */
  refuse: Map<string, { actions: VmAction[]; detail: string }>;
}

export interface EngineSimulator {
  url: string;
  port: number;
  /** The PEM certificate of its HTTPS (a client's CA file), null over HTTP. */
  certificate: string | null;
  vms: SimVm[];
  faults: EngineFaults;
  /** Forgets every SSO token, as a restarted Engine does. */
  expireTokens(): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  /** Tree with its XML root name, raw text, or nothing. */
  body?: { root: string; tree: Tree } | { text: string; type: string };
  headers?: Record<string, string>;
}

const MAX_BODY = 1024 * 1024;
const TOKEN_LIFETIME_MS = 3600_000;

function fault(status: number, reason: string, detail: string): Answer {
  return { status, body: { root: 'fault', tree: { reason, detail } } };
}

const notFound = (what: string) => fault(404, 'Operation Failed', `Entity not found: ${what}`);

/** The search expressions clients send for VMs: name=, status= and id= terms joined by "and"; * is a wildcard. */
function searchFilter(search: string, caseSensitive: boolean): ((vm: { name: string; id: string; status: string }) => boolean) | string {
  const terms = search.trim().split(/\s+and\s+/i).filter(Boolean);
  const tests: ((vm: { name: string; id: string; status: string }) => boolean)[] = [];
  for (const term of terms) {
    const m = /^(name|status|id)\s*=\s*(\S+)$/i.exec(term.trim());
    if (!m) return `Cannot search VMs by "${term}": the simulator knows name=, status= and id=`;
    const key = m[1].toLowerCase() as 'name' | 'status' | 'id';
    const pattern = new RegExp(`^${m[2].replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, caseSensitive && key === 'name' ? '' : 'i');
    tests.push((vm) => pattern.test(vm[key]));
  }
  return (vm) => tests.every((t) => t(vm));
}

class Engine {
  private readonly tokens = new Map<string, { user: string; expires: number }>();
  private readonly server: http.Server;
  private readonly byId = new Map<string, SimVm>();
  readonly faults: EngineFaults = { unavailable: false, refuse: new Map() };
  readonly clusterId = randomUUID();
  readonly hostId = randomUUID();
  readonly vms: SimVm[];

  constructor(machines: SimulatedMachine[], private readonly users: Record<string, string>, private readonly tls: TlsMaterial | null, stepMs: number) {
    this.vms = machines.map((m) => new SimVm(m, m.uuid, this.clusterId, this.hostId, stepMs));
    for (const vm of this.vms) this.byId.set(vm.id, vm);
    const handler = (req: IncomingMessage, res: ServerResponse) => { void this.serve(req, res); };
    this.server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve(); });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const vm of this.vms) vm.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    let tooBig = false;
    // Only a POST or PUT body is read, as the Engine's servlets do: libgovirt (libsoup) sends GETs
    // with a Content-Length and, on the retry with credentials after a 401, no body at all.
    if (req.method === 'POST' || req.method === 'PUT') {
      req.setEncoding('utf8');
      for await (const chunk of req) {
        raw += chunk;
        if (raw.length > MAX_BODY) { tooBig = true; break; }
      }
    } else req.resume();
    const url = new URL(req.url ?? '/', 'http://engine');
    const format = formatOf(req.headers.accept);
    let answer: Answer;
    try {
      if (this.faults.unavailable) answer = { status: 503, body: { type: 'text/html', text: '<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>' } };
      else if (tooBig) answer = fault(413, 'Request Entity Too Large', 'The request body is too large.');
      else answer = await this.route(req, url, raw);
    } catch (err) {
      answer = err instanceof BadBody ? fault(400, 'Bad Request', err.message) : fault(500, 'Operation Failed', `The simulator failed: ${(err as Error).message}`);
    }
    this.send(res, answer, format, req.method === 'HEAD');
  }

  private send(res: ServerResponse, a: Answer, format: Format, head: boolean): void {
    let payload = '';
    const headers: Record<string, string> = { ...a.headers };
    if (a.body && 'tree' in a.body) {
      payload = format === 'json' ? toJson(a.body.tree) : toXml(a.body.root, a.body.tree);
      headers['Content-Type'] = format === 'json' ? 'application/json' : 'application/xml';
    } else if (a.body) {
      payload = a.body.text;
      headers['Content-Type'] = a.body.type;
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(a.status, headers);
    res.end(head ? undefined : payload);
  }

  private async route(req: IncomingMessage, url: URL, raw: string): Promise<Answer> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/ovirt-engine/sso/oauth/token') return method === 'POST' || method === 'GET' ? this.token(method === 'POST' ? raw : url.search.slice(1)) : fault(405, 'Method Not Allowed', `${method} ${path}`);
    if (path === '/ovirt-engine/services/sso-logout') {
      const token = url.searchParams.get('token') ?? new URLSearchParams(raw).get('token');
      if (token) this.tokens.delete(token);
      return { status: 200, body: { type: 'application/json', text: '{}' } };
    }
    if (path === '/ovirt-engine/services/pki-resource') {
      if (url.searchParams.get('resource') !== 'ca-certificate' || !this.tls) return { status: 404, body: { type: 'text/plain', text: 'Not Found' } };
      return { status: 200, body: { type: 'application/x-x509-ca-cert', text: this.tls.cert } };
    }
    if (path !== API && !path.startsWith(`${API}/`)) return { status: 404, body: { type: 'text/html', text: '<html><body>Not Found</body></html>' } };

    const user = this.authenticate(req);
    if (!user) return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="RESTAPI"' }, body: { type: 'text/html', text: '<html><head><title>Error</title></head><body>Unauthorized</body></html>' } };
    const version = req.headers.version;
    let rest = path.slice(API.length);
    const prefixed = /^\/v(\d+)(\/|$)/.exec(rest);
    if (prefixed) rest = rest.slice(prefixed[0].length - (prefixed[2] ? 1 : 0));
    const asked = prefixed?.[1] ?? (typeof version === 'string' ? version.trim() : '4');
    if (asked !== '4') return fault(400, 'Bad Request', `Version ${asked} of the API is not supported, only version 4 is.`);

    const parts = rest.split('/').filter(Boolean);
    if (parts.length === 0) return method === 'GET' || method === 'HEAD' ? this.entryPoint() : fault(405, 'Method Not Allowed', `${method} ${path}`);
    if (parts[0] !== 'vms') return notFound(rest);
    if (parts.length === 1) return method === 'GET' ? this.list(url) : fault(405, 'Method Not Allowed', `${method} ${path}`);
    const vm = this.byId.get(parts[1]);
    if (!vm) return notFound(parts[1]);
    if (parts.length === 2) {
      if (method === 'GET') return { status: 200, body: { root: 'vm', tree: await vm.representation() } };
      if (method === 'PUT') return this.update(vm, parseBody(raw, req.headers['content-type']));
      return fault(405, 'Method Not Allowed', `${method} ${path}`);
    }
    if (parts.length === 3 && method === 'POST' && (VM_ACTIONS as readonly string[]).includes(parts[2])) {
      return this.act(vm, parts[2] as VmAction, parseBody(raw, req.headers['content-type']));
    }
    return notFound(rest);
  }

  /** The password grant of RFC 6749 4.3, answered as the Engine's SSO does (errors as error_code + error). */
  private token(form: string): Answer {
    const p = new URLSearchParams(form);
    const error = (status: number, code: string, message: string): Answer => ({ status, body: { type: 'application/json', text: JSON.stringify({ error_code: code, error: message }) } });
    if (p.get('grant_type') !== 'password') return error(400, 'unsupported_grant_type', 'The grant type is not supported: only password is.');
    if (p.get('scope') !== 'ovirt-app-api') return error(400, 'invalid_scope', 'The scope must be ovirt-app-api.');
    const user = p.get('username') ?? '';
    if (!user || this.users[user] === undefined || this.users[user] !== p.get('password')) {
      return error(400, 'access_denied', `Cannot authenticate user '${user}': The username or password is incorrect..`);
    }
    const token = randomBytes(24).toString('base64url');
    const expires = Date.now() + TOKEN_LIFETIME_MS;
    this.tokens.set(token, { user, expires });
    return { status: 200, body: { type: 'application/json', text: JSON.stringify({ access_token: token, scope: 'ovirt-app-api ovirt-ext=token:password-access', exp: String(expires), token_type: 'bearer' }) } };
  }

  /** Clients get 401 and must log in again. */
  expireTokens(): void {
    this.tokens.clear();
  }

  private authenticate(req: IncomingMessage): string | null {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer) {
      const t = this.tokens.get(bearer[1]);
      return t && t.expires > Date.now() ? t.user : null;
    }
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (!basic) return null;
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    return colon > 0 && this.users[user] !== undefined && this.users[user] === decoded.slice(colon + 1) ? user : null;
  }

  private async entryPoint(): Promise<Answer> {
    const statuses = await Promise.all(this.vms.map((v) => v.status()));
    const rels = ['clusters', 'datacenters', 'hosts', 'vms', 'vms?search={query}'];
    return {
      status: 200,
      body: {
        root: 'api',
        tree: {
          link: rels.map((rel) => ({ href: `${API}/${rel}`, rel: rel.replace('?search={query}', '/search') })),
          product_info: {
            instance_id: this.clusterId,
            name: 'oVirt Engine',
            vendor: 'ovirt.org',
            version: { build: 0, full_version: '4.5.5-1.el8 (Anvil simulator)', major: 4, minor: 5, revision: 5 },
          },
          special_objects: { blank_template: { href: `${API}/templates/00000000-0000-0000-0000-000000000000`, id: '00000000-0000-0000-0000-000000000000' } },
          summary: {
            hosts: { active: 1, total: 1 },
            vms: { active: statuses.filter((s) => s !== 'down').length, total: this.vms.length },
          },
          time: new Date(),
        },
      },
    };
  }

  private async list(url: URL): Promise<Answer> {
    const search = url.searchParams.get('search');
    const max = url.searchParams.get('max');
    let vms = this.vms;
    if (search) {
      const filter = searchFilter(search, url.searchParams.get('case_sensitive') !== 'false');
      if (typeof filter === 'string') return fault(400, 'Operation Failed', filter);
      const withStatus = await Promise.all(vms.map(async (v) => ({ v, status: await v.status() })));
      vms = withStatus.filter(({ v, status }) => filter({ name: v.name, id: v.id, status })).map(({ v }) => v);
    }
    if (max !== null) {
      const n = Number(max);
      if (!Number.isInteger(n) || n < 0) return fault(400, 'Bad Request', `Invalid value "${max}" for parameter max.`);
      vms = vms.slice(0, n);
    }
    return { status: 200, body: { root: 'vms', tree: { vm: await Promise.all(vms.map((v) => v.representation())) } } };
  }

  private async update(vm: SimVm, body: Tree): Promise<Answer> {
    const devices = bootDevicesOf(body);
    if (typeof devices === 'string') return fault(400, 'Invalid value', devices);
    if (devices) {
      if (devices.length === 0) return fault(400, 'Operation Failed', '[Cannot edit VM. The boot sequence must hold at least one device.]');
      vm.setBootDevices(devices);
    }
    return { status: 200, body: { root: 'vm', tree: await vm.representation() } };
  }

  private async act(vm: SimVm, action: VmAction, body: Tree): Promise<Answer> {
    const once = bootDevicesOf(pick(body, 'vm') ?? {});
    if (typeof once === 'string') return fault(400, 'Invalid value', once);
    const refused = this.faults.refuse.get(vm.name);
    const failed = (detail: string): Answer => ({ status: 409, body: { root: 'action', tree: { fault: { reason: 'Operation Failed', detail }, status: 'failed' } } });
    if (refused?.actions.includes(action)) return failed(refused.detail);
    try {
      await vm.act(action, action === 'start' ? once : undefined);
    } catch (err) {
      if (err instanceof ActionRefused) return failed(err.message);
      throw err;
    }
    return { status: 200, body: { root: 'action', tree: { async: flag(pick(body, 'async')), status: 'complete' } } };
  }
}

/** os.boot.devices.device of a VM in a body: the list, undefined when absent, or what is wrong. */
function bootDevicesOf(vm: unknown): OvirtBootDevice[] | undefined | string {
  const devices = pick(vm, 'os', 'boot', 'devices');
  if (devices === undefined) return undefined;
  const raw = pick(devices, 'device');
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const bad = list.find((d) => !isBootDevice(d));
  if (bad !== undefined) return `${String(bad)} is not a member of BootDevice. Possible values for BootDevice are: cdrom, hd, network`;
  return list as OvirtBootDevice[];
}

export async function startEngineSimulator(opts: EngineSimulatorOptions): Promise<EngineSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const tls = opts.tls === false ? null : opts.tls === undefined || opts.tls === true ? await selfSignedCertificate(['localhost', '127.0.0.1', ...(host === '0.0.0.0' || host === '127.0.0.1' ? [] : [host])]) : opts.tls;
  const engine = new Engine(opts.machines, opts.users ?? { 'admin@internal': 'password' }, tls, opts.stepMs ?? 0);
  const port = await engine.listen(host, opts.port ?? 0);
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: origin(tls ? 'https' : 'http', shown, port),
    port,
    certificate: tls?.cert ?? null,
    vms: engine.vms,
    faults: engine.faults,
    expireTokens: () => engine.expireTokens(),
    close: () => engine.close(),
  };
}
