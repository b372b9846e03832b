// The Redfish BMC simulator, as sushy-tools' emulator: many systems behind one endpoint, or one BMC
// per port, each backed by a simulated machine. This module is the HTTP(S) front: auth (Basic and
// sessions), injected faults, the service root, SessionService and TaskService; backends serve the rest.
import { InvalidInput } from '../../common/errors.ts';
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryMachine, sampleHardware, type SimulatedMachine } from '../machine.ts';
import type { Backend } from './backend.ts';
import { FLAVOR_SPECS, type Flavor } from './flavors.ts';
import { GeneratedBackend } from './generated.ts';
import { collection, isObject, link, NO_CONTENT, normalizePath, notAllowed, notFound, ok, redfishError, type Json, type SimRequest, type SimResponse } from './http.ts';
import { MockupBackend } from './mockup.ts';
import { registryResource, REGISTRIES_PATH } from './bios-registry.ts';
import { FaultTable, MONITORS_PATH, SessionStore, TaskStore, TASKS_PATH } from './support.ts';
import { SimSystem } from './system.ts';
import { selfSignedCertificate, type TlsMaterial } from './tls.ts';
import { origin } from '../../common/url-host.ts';

export interface RedfishSimulatorOptions {
  /** The machines to serve; without them, `systems` in-memory machines are made. */
  machines?: SimulatedMachine[];
  systems?: number;
  /** HOST:PORT or {host, port}; default 127.0.0.1 on an ephemeral port. */
  listen?: string | { host?: string; port?: number };
  /** One BMC per port (with the vendor's own Ids, e.g. System.Embedded.1) instead of all systems on one. */
  perPort?: boolean;
  /** A flavour for all systems, or one per system. */
  flavor?: Flavor | ((machine: SimulatedMachine, index: number) => Flavor);
  /** Credentials every request must carry (Basic or a session); none: open. */
  auth?: { username: string; password: string };
  /** HTTPS with a generated self-signed certificate (true) or the given one. */
  tls?: boolean | TlsMaterial;
  /** Serve this DMTF-layout mockup tree instead of generated systems. */
  mockupDir?: string;
  faults?: FaultTable;
  /** Milliseconds between a reset's 204 and the new power state (real BMCs take seconds). */
  powerDelayMs?: number;
  /** Milliseconds an iLO-flavoured host stays in POST after power-on. */
  postMs?: number;
  /** Milliseconds asynchronous tasks (iDRAC configuration imports) take. */
  taskMs?: number;
}

export interface RedfishEndpoint { url: string; port: number; systemIds: string[] }

export interface RedfishSimulator {
  /** The first (in per-port mode) or only endpoint. */
  url: string;
  port: number;
  endpoints: RedfishEndpoint[];
  systemIds: string[];
  machines: SimulatedMachine[];
  faults: FaultTable;
  /** The PEM certificate when TLS is on (a client's CA bundle). */
  certificate: string | null;
  close(): Promise<void>;
}

const DEFAULT_SESSIONS = '/redfish/v1/SessionService/Sessions';
const MAX_BODY = 1024 * 1024;

function parseListen(listen: RedfishSimulatorOptions['listen']): { host: string; port: number } {
  if (listen === undefined) return { host: '127.0.0.1', port: 0 };
  if (typeof listen === 'object') return { host: listen.host ?? '127.0.0.1', port: listen.port ?? 0 };
  const m = /^(.*):(\d+)$/.exec(listen.trim());
  if (!m) throw new InvalidInput(`listen must be HOST:PORT, got "${listen}"`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(m[2]) };
}

/** Machines named node-0001... (from node-`first`, so two racks' machines never share a name or MAC) with stable UUIDs and MACs. */
export function makeMachines(count: number, first = 1): SimulatedMachine[] {
  const width = Math.max(4, String(first + count - 1).length);
  return Array.from({ length: count }, (_, i) => new MemoryMachine(
    `node-${String(first + i).padStart(width, '0')}`,
    `6d1e2c3a-0000-4000-8000-${(first + i).toString(16).padStart(12, '0')}`,
    `node-${String(first + i).padStart(width, '0')}`,
    sampleHardware(first + i),
  ));
}

class Endpoint {
  readonly sessions: SessionStore;
  readonly tasks = new TaskStore();
  private readonly sessionsPath: string;
  private readonly server: http.Server;
  port = 0;

  constructor(readonly backend: Backend, private readonly faults: FaultTable, private readonly auth: RedfishSimulatorOptions['auth'], maxSessions: number, tls: TlsMaterial | null) {
    this.sessions = new SessionStore(maxSessions);
    const root = backend.root();
    const links = isObject(root.Links) && isObject(root.Links.Sessions) ? root.Links.Sessions['@odata.id'] : undefined;
    this.sessionsPath = normalizePath(typeof links === 'string' ? links : DEFAULT_SESSIONS);
    const handler = (req: IncomingMessage, res: ServerResponse) => { void this.serve(req, res); };
    this.server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve(); });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.backend.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    let tooBig = false;
    req.setEncoding('utf8');
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > MAX_BODY) { tooBig = true; break; }
    }
    const path = normalizePath(decodeURIComponent(req.url ?? '/'));
    const sim: SimRequest = { method: req.method ?? 'GET', path, key: path.toLowerCase(), headers: req.headers, body: undefined };
    let response: SimResponse;
    try {
      const faults = this.faults.for(this.backend.systemOf(sim.key));
      if (faults) {
        if (faults.dropSessions) { this.sessions.clear(); faults.dropSessions = false; }
        if (faults.latencyMs) await sleep(faults.latencyMs);
        if (faults.hang) return; // the client times out; closeAllConnections() ends it
        if (this.faults.takeError(faults)) {
          this.send(res, redfishError(faults.errorStatus!, 'Base.1.8.InternalError', `Injected fault: HTTP ${faults.errorStatus} for ${sim.path}.`, 'Retry the request.'));
          return;
        }
      }
      if (tooBig) response = redfishError(413, 'Base.1.8.GeneralError', 'The request body is too large.');
      else if (raw.trim() !== '') {
        try {
          sim.body = JSON.parse(raw);
          response = await this.route(sim);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
          response = redfishError(400, 'Base.1.8.MalformedJSON', `The request body submitted was malformed JSON and could not be parsed: ${err.message}`);
        }
      } else response = await this.route(sim);
    } catch (err) {
      response = redfishError(500, 'Base.1.8.InternalError', `The simulator failed: ${(err as Error).message}`);
    }
    this.send(res, response);
  }

  private send(res: ServerResponse, r: SimResponse): void {
    const headers: Record<string, string> = { 'OData-Version': '4.0', ...r.headers };
    let payload = '';
    if (r.body !== undefined) {
      payload = JSON.stringify(r.body);
      headers['Content-Type'] = 'application/json; charset=utf-8';
      const etag = isObject(r.body) ? r.body['@odata.etag'] : undefined;
      if (typeof etag === 'string') headers.ETag = etag;
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(r.status, headers);
    res.end(payload);
  }

  private authorized(req: SimRequest): boolean {
    if (!this.auth) return true;
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && this.sessions.find(token)) return true;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!basic) return false;
    const [user, ...rest] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    return user === this.auth.username && rest.join(':') === this.auth.password;
  }

  private async route(req: SimRequest): Promise<SimResponse> {
    const k = req.key;
    if (k === '/redfish' && req.method === 'GET') return ok({ v1: '/redfish/v1/' });
    if (k === '/redfish/v1' && req.method === 'GET') return ok(this.root());
    if (k === this.sessionsPath.toLowerCase() && req.method === 'POST') return this.login(req);
    if (!this.authorized(req)) {
      return { ...redfishError(401, 'Base.1.8.NoValidSession', 'There is no valid session established with the implementation.', 'Establish a session or send valid credentials.'), headers: { 'WWW-Authenticate': 'Basic realm="Anvil Redfish simulator"' } };
    }
    if (k === '/redfish/v1/sessionservice') return req.method === 'GET' ? ok(this.sessionService()) : notAllowed(req.method, req.path);
    if (k === this.sessionsPath.toLowerCase()) return req.method === 'GET' ? ok(collection(this.sessionsPath, 'SessionCollection', 'Session Collection', this.sessions.ids().map((id) => `${this.sessionsPath}/${id}`))) : notAllowed(req.method, req.path);
    if (k.startsWith(`${this.sessionsPath.toLowerCase()}/`)) return this.session(req, k.slice(this.sessionsPath.length + 1));
    const task = this.task(req);
    if (task) return task;
    const answer = await this.backend.handle(req, { tasks: this.tasks, faults: this.faults });
    if (answer) return answer;
    if (k === '/redfish/v1/taskservice' && req.method === 'GET') return ok({ '@odata.id': '/redfish/v1/TaskService', '@odata.type': '#TaskService.v1_1_4.TaskService', Id: 'TaskService', Name: 'Task Service', ServiceEnabled: true, Tasks: link(TASKS_PATH) });
    if (k === TASKS_PATH.toLowerCase() && req.method === 'GET') return ok(this.tasks.collection());
    const registry = this.backend.servesRegistries ? registryResource(k) : null;
    if (registry) return req.method === 'GET' ? ok(registry) : notAllowed(req.method, req.path);
    return notFound(req.path);
  }

  private root(): Json {
    const root: Json = { ...this.backend.root() };
    if (!root.SessionService) root.SessionService = link('/redfish/v1/SessionService');
    if (!root.TaskService) root.TaskService = link('/redfish/v1/TaskService');
    if (!root.Registries && this.backend.servesRegistries) root.Registries = link(REGISTRIES_PATH);
    const links = isObject(root.Links) ? root.Links : {};
    if (!links.Sessions) root.Links = { ...links, Sessions: link(this.sessionsPath) };
    return root;
  }

  private sessionService(): Json {
    return { '@odata.id': '/redfish/v1/SessionService', '@odata.type': '#SessionService.v1_1_8.SessionService', Id: 'SessionService', Name: 'Session Service', ServiceEnabled: true, SessionTimeout: 1800, Sessions: link(this.sessionsPath) };
  }

  private login(req: SimRequest): SimResponse {
    const body = isObject(req.body) ? req.body : {};
    if (typeof body.UserName !== 'string' || typeof body.Password !== 'string') {
      return redfishError(400, 'Base.1.8.PropertyMissing', 'The properties UserName and Password are required to create a session.');
    }
    if (this.auth && (body.UserName !== this.auth.username || body.Password !== this.auth.password)) {
      return redfishError(401, 'Base.1.8.InsufficientPrivilege', 'The user name or password is not valid.', 'Log in with valid credentials.');
    }
    const s = this.sessions.create(body.UserName);
    if (!s) return redfishError(503, 'Base.1.8.SessionLimitExceeded', 'The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.', 'Reduce the number of other sessions before trying to establish the session, or wait for them to time out.');
    const path = `${this.sessionsPath}/${s.id}`;
    return { status: 201, headers: { 'X-Auth-Token': s.token, Location: path }, body: { '@odata.id': path, '@odata.type': '#Session.v1_3_0.Session', Id: s.id, Name: 'User Session', UserName: s.user } };
  }

  private session(req: SimRequest, id: string): SimResponse {
    const s = this.sessions.get(id);
    if (!s) return notFound(req.path);
    if (req.method === 'DELETE') { this.sessions.delete(id); return NO_CONTENT; }
    if (req.method !== 'GET') return notAllowed(req.method, req.path);
    return ok({ '@odata.id': `${this.sessionsPath}/${s.id}`, '@odata.type': '#Session.v1_3_0.Session', Id: s.id, Name: 'User Session', UserName: s.user });
  }

  /** Live tasks and their monitors (202 + Location while running, then the finished task). */
  private task(req: SimRequest): SimResponse | null {
    const m = /^\/redfish\/v1\/taskservice\/(tasks|taskmonitors)\/([^/]+)$/.exec(req.key);
    const task = m ? this.tasks.get(m[2]) : undefined;
    if (!m || !task) return null;
    if (req.method !== 'GET') return notAllowed(req.method, req.path);
    const body = this.tasks.render(task);
    if (m[1] === 'taskmonitors' && task.state === 'Running') return { status: 202, body, headers: { Location: `${MONITORS_PATH}/${task.id}`, 'Retry-After': '1' } };
    return ok(body);
  }
}

export async function startRedfishSimulator(opts: RedfishSimulatorOptions = {}): Promise<RedfishSimulator> {
  const faults = opts.faults ?? new FaultTable();
  const { host, port } = parseListen(opts.listen);
  const tls = opts.tls === true ? await selfSignedCertificate(['localhost', '127.0.0.1', ...(host === '0.0.0.0' || host === '127.0.0.1' ? [] : [host])]) : opts.tls || null;
  const flavorOf = (m: SimulatedMachine, i: number): Flavor => (typeof opts.flavor === 'function' ? opts.flavor(m, i) : opts.flavor ?? 'generic');
  const sysOpts = { powerDelayMs: opts.powerDelayMs ?? 0, postMs: opts.postMs ?? 0, taskMs: opts.taskMs ?? 50 };
  const endpoints: Endpoint[] = [];
  let machines: SimulatedMachine[];

  if (opts.mockupDir) {
    const backend = await MockupBackend.load(opts.mockupDir, { machines: opts.machines, powerDelayMs: sysOpts.powerDelayMs });
    machines = backend.machines();
    endpoints.push(new Endpoint(backend, faults, opts.auth, 64, tls));
  } else {
    machines = opts.machines ?? makeMachines(opts.systems ?? 1);
    const systems = machines.map((m, i) => {
      const spec = FLAVOR_SPECS[flavorOf(m, i)];
      const ids = opts.perPort ? spec.soleIds : { system: m.id, manager: m.id, chassis: m.id };
      return new SimSystem(m, spec, ids, sysOpts);
    });
    const uuid = randomUUID();
    if (opts.perPort) {
      for (const s of systems) endpoints.push(new Endpoint(new GeneratedBackend([s], randomUUID()), faults, opts.auth, s.spec.maxSessions, tls));
    } else {
      const max = Math.max(64, ...systems.map((s) => s.spec.maxSessions));
      endpoints.push(new Endpoint(new GeneratedBackend(systems, uuid), faults, opts.auth, max, tls));
    }
  }

  try {
    for (const [i, e] of endpoints.entries()) await e.listen(host, port === 0 ? 0 : port + i);
  } catch (err) {
    await Promise.all(endpoints.map((e) => e.close()));
    throw err;
  }
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  const list = endpoints.map((e) => ({ url: origin(tls ? 'https' : 'http', shown, e.port), port: e.port, systemIds: e.backend.systemIds() }));
  return {
    url: list[0].url,
    port: list[0].port,
    endpoints: list,
    systemIds: list.flatMap((e) => e.systemIds),
    machines,
    faults,
    certificate: tls?.cert ?? null,
    close: async () => { await Promise.all(endpoints.map((e) => e.close())); },
  };
}
