// A small OVSDB client (RFC 7047) on a unix or TCP socket: transact and echo. One connection per
// switch, opened on first use and again after it drops; each call has a deadline, and the
// server's echo probes are answered so it keeps the connection.
import net from 'node:net';
import { JsonStreamSplitter, type RpcMessage } from './codec.ts';

export type OvsdbOp = Record<string, unknown>;

export class OvsdbError extends Error {}

/** "unix:/path", "tcp:host:port", or a plain socket path. */
function connectTarget(remote: string): net.NetConnectOpts {
  if (remote.startsWith('tcp:')) {
    const [host, port] = remote.slice(4).split(/:(?=\d+$)/);
    return { host, port: Number(port) };
  }
  return { path: remote.replace(/^unix:/, '') };
}

export class OvsdbClient {
  private socket?: net.Socket;
  private connecting?: Promise<net.Socket>;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: RpcMessage) => void; reject: (e: Error) => void }>();

  constructor(private readonly remote: string, private readonly timeoutMs = 10_000) {}

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(connectTarget(this.remote));
      const splitter = new JsonStreamSplitter();
      const timer = setTimeout(() => socket.destroy(new OvsdbError(`no connection to ${this.remote} within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        resolve(socket);
      });
      socket.on('data', (chunk: string) => {
        let messages: RpcMessage[];
        try {
          messages = splitter.push(chunk);
        } catch (err) {
          socket.destroy(new OvsdbError(`unreadable answer from ${this.remote}: ${(err as Error).message}`));
          return;
        }
        for (const m of messages) this.receive(socket, m);
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(new OvsdbError(`cannot reach OVSDB at ${this.remote}: ${err.message}`));
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (this.socket === socket) this.socket = undefined;
        for (const p of this.pending.values()) p.reject(new OvsdbError(`connection to ${this.remote} closed`));
        this.pending.clear();
      });
    }).finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private receive(socket: net.Socket, m: RpcMessage): void {
    if (m.method === 'echo') {
      socket.write(JSON.stringify({ id: m.id, result: m.params ?? [], error: null }));
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.resolve(m);
  }

  async call(method: string, params: unknown[], signal?: AbortSignal): Promise<unknown> {
    const socket = await this.connect();
    const id = this.nextId++;
    const answer = new Promise<RpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OvsdbError(`no answer from ${this.remote} to ${method} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const onAbort = () => reject(new OvsdbError(`${method} on ${this.remote} aborted`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (msg) => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); resolve(msg); },
        reject: (err) => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); reject(err); },
      });
    });
    socket.write(JSON.stringify({ id, method, params }));
    const m = await answer;
    if (m.error !== null && m.error !== undefined) throw new OvsdbError(`${method} refused: ${JSON.stringify(m.error)}`);
    return m.result;
  }

  /**
   * One transaction: every operation applies, or none does (RFC 7047 §4.1.3). Returns the results;
   * throws with the first failed operation's error (an error after the operations, e.g. a
   * constraint violation at commit, too).
   */
  async transact(db: string, ops: readonly OvsdbOp[], signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    const results = (await this.call('transact', [db, ...ops], signal)) as (Record<string, unknown> | null)[];
    const failed = results.findIndex((r) => r && typeof r.error === 'string');
    if (failed >= 0) {
      const r = results[failed]!;
      const op = failed < ops.length ? `operation ${failed + 1} (${String(ops[failed].op)} ${String(ops[failed].table ?? '')})` : 'the commit';
      throw new OvsdbError(`transaction refused at ${op}: ${String(r.error)}${r.details ? `: ${String(r.details)}` : ''}`);
    }
    return results as Record<string, unknown>[];
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
