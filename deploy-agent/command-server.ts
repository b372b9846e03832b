// The agent's command API (IPA's api/app.py) on port 9999: one command at a time, synchronous
// commands answered with their result, asynchronous ones RUNNING until polled (or waited for
// with wait=true), the agent token checked on every command call.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentCommandError, commandError, type AgentRuntime, type Extension } from './commands.ts';

type Json = Record<string, unknown>;

export type CommandStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface CommandResult {
  id: string;
  command_name: string;
  command_params: Json;
  command_status: CommandStatus;
  command_error: ReturnType<typeof commandError> | null;
  command_result: unknown;
}

interface Tracked { result: CommandResult; done: Promise<void> }

const KEEP_RESULTS = 100;

export interface CommandServerOptions {
  extensions: Readonly<Record<string, Extension>>;
  runtime: AgentRuntime;
  version: string;
  /** The token the lookup handed out; null until then (commands are refused without one). */
  token(): string | null;
  /** An async command finished: IPA heart-beats right away. */
  onAsyncDone?(result: CommandResult): void;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export class CommandServer {
  private readonly commands: Tracked[] = [];
  private readonly startedAt = Date.now() / 1000;
  private server: Server | null = null;

  constructor(private readonly opts: CommandServerOptions) {}

  /** Finds a command by `<extension>.<command>`. */
  private spec(name: string) {
    const m = /^([a-z_]+)\.([a-z_]+)$/.exec(name);
    if (!m) throw new HttpError(400, `Invalid command name: ${name}`);
    const ext = this.opts.extensions[m[1]];
    if (!ext) throw new HttpError(404, `Extension ${m[1]} not found`);
    const spec = ext[m[2]];
    if (!spec) throw new HttpError(404, `Command ${m[2]} of extension ${m[1]} not found`);
    return { command: m[2], spec };
  }

  /** Runs a command inside another one (no slot, no record), as IPA's execute() does. */
  async runNested(name: string, params: Json): Promise<unknown> {
    const { spec } = this.spec(name);
    return spec.run(params, this.opts.runtime);
  }

  /** Starts a command in the single slot; the tracked result is RUNNING until it ends. */
  start(name: string, params: Json): Tracked {
    const running = this.commands.find((c) => c.result.command_status === 'RUNNING');
    if (running) throw new HttpError(409, `Agent is busy: command ${running.result.command_name} (${running.result.id}) is running`);
    const { command, spec } = this.spec(name);
    const result: CommandResult = { id: randomUUID(), command_name: command, command_params: params, command_status: 'RUNNING', command_error: null, command_result: null };
    this.opts.runtime.logger.info({ command: name }, 'executing command');
    const done = spec.run(params, this.opts.runtime).then(
      (value) => {
        result.command_status = 'SUCCEEDED';
        result.command_result = value ?? null;
      },
      (err) => {
        result.command_status = 'FAILED';
        result.command_error = commandError(err);
        this.opts.runtime.logger.warn({ command: name, error: result.command_error.message }, 'command failed');
      },
    ).then(() => {
      if (spec.async) this.opts.onAsyncDone?.(result);
    });
    const tracked = { result, done };
    this.commands.push(tracked);
    if (this.commands.length > KEEP_RESULTS) this.commands.splice(0, this.commands.length - KEEP_RESULTS);
    return tracked;
  }

  private checkToken(url: URL, req: IncomingMessage): void {
    const expected = this.opts.token();
    const given = url.searchParams.get('agent_token') ?? (req.headers['x-agent-token'] as string | undefined) ?? null;
    if (!expected || given !== expected) throw new HttpError(401, 'Invalid or missing agent token received.');
  }

  private async route(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const base = `http://${req.headers.host ?? 'localhost'}`;
    if (req.method === 'GET' && p === '/') {
      return [200, { name: 'OpenStack Ironic Python Agent API', description: 'Anvil deploy agent (ironic-python-agent protocol)', versions: [{ id: 'v1', links: [{ href: `${base}/v1/`, rel: 'self' }] }], default_version: { id: 'v1', links: [{ href: `${base}/v1/`, rel: 'self' }] } }];
    }
    if (req.method === 'GET' && p === '/v1') {
      return [200, { id: 'v1', links: [{ href: `${base}/v1/`, rel: 'self' }], commands: [{ href: `${base}/v1/commands/`, rel: 'self' }], status: [{ href: `${base}/v1/status/`, rel: 'self' }] }];
    }
    if (req.method === 'GET' && p === '/v1/status') return [200, { started_at: this.startedAt, version: this.opts.version }];
    if (p === '/v1/commands') {
      this.checkToken(url, req);
      if (req.method === 'GET') return [200, { commands: this.commands.map((c) => c.result) }];
      if (req.method === 'POST') {
        const body = await readJson(req);
        if (typeof body.name !== 'string') throw new HttpError(400, 'Command body must be {"name": "<extension>.<command>", "params": {...}}');
        const params = body.params ?? {};
        if (typeof params !== 'object' || Array.isArray(params) || params === null) throw new HttpError(400, 'Command params must be an object');
        const tracked = this.start(body.name, params as Json);
        const { spec } = this.spec(body.name);
        if (!spec.async || url.searchParams.get('wait') === 'true') await tracked.done;
        return [200, tracked.result];
      }
    }
    const one = /^\/v1\/commands\/([^/]+)$/.exec(p);
    if (one && req.method === 'GET') {
      this.checkToken(url, req);
      const tracked = this.commands.find((c) => c.result.id === one[1]);
      if (!tracked) throw new HttpError(404, `Command ${one[1]} not found`);
      if (url.searchParams.get('wait') === 'true') await tracked.done;
      return [200, tracked.result];
    }
    throw new HttpError(404, `No route for ${req.method} ${url.pathname}`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://agent');
    this.route(req, url).then(
      ([status, body]) => send(res, status, body),
      (err) => {
        const status = err instanceof HttpError ? err.status : err instanceof AgentCommandError ? err.code : 500;
        send(res, status, { faultcode: status < 500 ? 'Client' : 'Server', faultstring: (err as Error).message });
      },
    );
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const MAX_BODY = 128 * 1024 * 1024;

function readJson(req: IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'Request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        resolve(parsed as Json);
      } catch (err) {
        reject(new HttpError(400, `Malformed JSON body: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
