// One audit event per mutating request (POST, PUT, PATCH, DELETE), whatever its outcome: who
// (user, project, roles, strategy), what (method, path, node), the answer's status and the request
// id. JSON lines in their own file (auth.audit.file, rotated at auth.audit.maxBytes, keeping
// auth.audit.keep old files), or on the process log as `audit` events when no file is set.
import { createWriteStream, existsSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthConfig } from '../../../common/config.ts';
import type { Logger } from '../../../common/logger.ts';

export interface AuditEvent {
  time: string;
  request_id: string;
  strategy: string;
  user: string | null;
  project: string | null;
  roles: string[];
  system_scope: boolean;
  method: string;
  path: string;
  node: string | null;
  status: number;
  outcome: 'success' | 'denied' | 'failure';
  client: string;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function auditEvent(req: FastifyRequest, reply: FastifyReply): AuditEvent {
  const id = req.auth?.identity;
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const body = (req.body ?? {}) as Record<string, unknown>;
  // The node a path names (/nodes/{ident}/..., /heartbeat/{ident}), else the one a body names (ports, port groups).
  const pattern = req.routeOptions.url ?? '';
  const node = (/\/(nodes|heartbeat)\/:ident/.test(pattern) ? params.ident : undefined) ?? (typeof body.node_uuid === 'string' ? body.node_uuid : undefined);
  const status = reply.statusCode;
  return {
    time: new Date().toISOString(),
    request_id: String(req.id),
    strategy: id?.strategy ?? 'none',
    user: id?.userName ?? id?.userId ?? null,
    project: id?.projectId ?? null,
    roles: id?.roles ?? [],
    system_scope: id?.system ?? false,
    method: req.method,
    // The path only: a query string may carry what an operator must not ship.
    path: req.url.split('?')[0],
    node: node ?? null,
    status,
    outcome: status < 400 ? 'success' : status === 401 || status === 403 || status === 429 ? 'denied' : 'failure',
    client: req.ip,
  };
}

export class AuditLog {
  private stream: WriteStream | undefined;
  private bytes = 0;

  constructor(private readonly config: AuthConfig['audit'], private readonly logger: Logger) {
    if (config.file) this.open();
  }

  /** Whether this request is audited. */
  static audits(req: FastifyRequest): boolean {
    return MUTATING.has(req.method);
  }

  write(event: AuditEvent): void {
    if (!this.stream) {
      this.logger.info({ audit: event }, 'audit');
      return;
    }
    const line = `${JSON.stringify(event)}\n`;
    if (this.bytes + line.length > this.config.maxBytes && this.bytes > 0) this.rotate();
    this.stream.write(line);
    this.bytes += Buffer.byteLength(line);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }

  private open(): void {
    const file = this.config.file!;
    this.bytes = existsSync(file) ? statSync(file).size : 0;
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', (err) => this.logger.error(`audit file ${file}: ${err.message}`));
  }

  /** file -> file.1 -> ... -> file.<keep>; the oldest goes. */
  private rotate(): void {
    const file = this.config.file!;
    this.stream?.end();
    const keep = Math.max(1, this.config.keep);
    rmSync(`${file}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    renameSync(file, `${file}.1`);
    this.open();
  }
}
