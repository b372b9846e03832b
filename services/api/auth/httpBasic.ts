// http_basic: `Authorization: Basic` checked against the htpasswd file. Its users are system
// administrators, as in Ironic (and Metal3, which runs Ironic this way).
import type { FastifyRequest } from 'fastify';
import type { AuthConfig } from '../../../common/config.ts';
import { InvalidInput } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';
import { HtpasswdFile } from './htpasswd.ts';
import { systemAdmin, type Identity } from './identity.ts';
import { Unauthorized, type Authenticator } from './strategy.ts';

/** user and password of an `Authorization: Basic ...` header, or undefined when it is not one. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class HttpBasic implements Authenticator {
  readonly name = 'http_basic';
  readonly challenge: string;
  readonly users: HtpasswdFile;
  private readonly identities = new Map<string, Identity>();

  constructor(auth: AuthConfig, logger: Logger) {
    if (!auth.userFile) throw new InvalidInput('auth.strategy http_basic needs auth.userFile (ANVIL_HTTP_BASIC_USER_FILE), an htpasswd file with bcrypt entries');
    this.users = new HtpasswdFile(auth.userFile, logger);
    this.challenge = `Basic realm="${auth.realm.replace(/["\\]/g, '')}"`;
  }

  async authenticate(req: FastifyRequest): Promise<Identity> {
    const creds = parseBasic(req.headers.authorization);
    if (!creds) throw new Unauthorized();
    if (!(await this.users.verify(creds.user, creds.password))) throw new Unauthorized('Invalid user name or password.', true);
    let id = this.identities.get(creds.user);
    if (!id) this.identities.set(creds.user, (id = systemAdmin('http_basic', creds.user)));
    return id;
  }
}
