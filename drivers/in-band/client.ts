// The conductor's side of the agent's command API (Ironic's agent_client.py): POST a command
// with the node's agent token, GET the command list to poll async results.
import { DriverError } from '../../common/errors.ts';
import type { TaskContext } from '../interfaces.ts';
import { internalInfo } from '../internal-info.ts';
import { agentTuning } from './settings.ts';

type Json = Record<string, unknown>;

export interface AgentCommandResult {
  id: string;
  command_name: string;
  command_status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEAN_VERSION_MISMATCH';
  command_error: { type?: string; code?: number; message?: string; details?: string } | null;
  command_result: unknown;
}

/** The agent runs another command: try again at the next heart-beat. */
export class AgentBusy extends DriverError {
  constructor(message: string) { super(message, 'AgentInProgress'); }
}

/** The agent cannot be reached (it may have rebooted, or its machine is off). */
export class AgentConnectionError extends DriverError {
  constructor(message: string) { super(message, 'AgentConnectionFailed'); }
}

/** The reason an agent command failed, as Ironic reports it (details, else message). */
export function commandErrorText(result: AgentCommandResult): string {
  const e = result.command_error;
  if (!e) return 'unknown error';
  return String(e.details || e.message || JSON.stringify(e));
}

export interface AgentCallLimits {
  /** Milliseconds one call may take ([agent]command_timeout). */
  timeoutMs: number;
  /** Aborts calls in flight (the task's signal). */
  signal?: AbortSignal;
}

export class AgentClient {
  constructor(readonly url: string, private readonly token: string | null, private readonly limits: AgentCallLimits) {}

  /** The agent of the task's node, with the configured command timeout; the task's signal aborts its calls. */
  static forTask(ctx: Pick<TaskContext, 'node' | 'config' | 'signal'>): AgentClient {
    const { agent_url: url, agent_secret_token: token } = internalInfo(ctx.node);
    if (typeof url !== 'string' || !url) throw new DriverError(`Node ${ctx.node.uuid} has no agent URL: the agent has not heart-beaten yet`);
    return new AgentClient(url, typeof token === 'string' ? token : null, { timeoutMs: agentTuning(ctx.config).commandTimeout * 1000, signal: ctx.signal });
  }

  private endpoint(p: string, query: Record<string, string> = {}): string {
    const q = new URLSearchParams(query);
    if (this.token) q.set('agent_token', this.token);
    return `${this.url.replace(/\/+$/, '')}${p}?${q}`;
  }

  private async request(method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
    let lastError: unknown;
    // Ironic retries connection failures 3 times before giving up.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const res = await fetch(url, {
          method,
          headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: this.limits.signal ? AbortSignal.any([AbortSignal.timeout(this.limits.timeoutMs), this.limits.signal]) : AbortSignal.timeout(this.limits.timeoutMs),
        });
        const text = await res.text();
        let parsed: Json = {};
        try {
          parsed = text ? (JSON.parse(text) as Json) : {};
        } catch {
          parsed = { faultstring: text.slice(0, 300) };
        }
        return { status: res.status, body: parsed };
      } catch (err) {
        lastError = err;
        if (this.limits.signal?.aborted) throw this.limits.signal.reason;
        if ((err as Error).name === 'TimeoutError') break;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    const cause = (lastError as { cause?: Error }).cause?.message ?? (lastError as Error).message;
    throw new AgentConnectionError(`Failed to connect to the agent at ${this.url}: ${cause}`);
  }

  /** Runs `<extension>.<command>`; wait=true blocks until an async command ends. */
  async execute(name: string, params: Json, opts: { wait?: boolean } = {}): Promise<AgentCommandResult> {
    const { status, body } = await this.request('POST', this.endpoint('/v1/commands/', { wait: String(Boolean(opts.wait)) }), { name, params });
    const fault = String(body.faultstring ?? '');
    if (status === 409 || /agent is busy/i.test(fault)) throw new AgentBusy(`Agent at ${this.url} is busy: ${fault}`);
    if (status !== 200) throw new DriverError(`Agent command ${name} was refused with HTTP ${status}: ${fault || JSON.stringify(body)}`);
    return body as unknown as AgentCommandResult;
  }

  async commands(): Promise<AgentCommandResult[]> {
    const { status, body } = await this.request('GET', this.endpoint('/v1/commands/'));
    if (status !== 200) throw new DriverError(`Listing the agent's commands failed with HTTP ${status}: ${String(body.faultstring ?? '')}`);
    return (body.commands as AgentCommandResult[]) ?? [];
  }

  /** The last command named `commandName` (without extension), if any. */
  async lastCommand(commandName: string): Promise<AgentCommandResult | undefined> {
    return (await this.commands()).filter((c) => c.command_name === commandName).pop();
  }
}
