// keystone: `X-Auth-Token` validated against Keystone v3 as keystonemiddleware does (GET
// /v3/auth/tokens with Anvil's own service token), remembered until the token expires or
// auth.keystone.cacheSeconds pass, whichever is first. A 401 names Keystone in WWW-Authenticate.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AxiosInstance } from 'axios';
import type { FastifyRequest } from 'fastify';
import type { AuthConfig } from '../../../common/config.ts';
import { AnvilError, InvalidInput } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';
import type { Identity } from './identity.ts';
import { Unauthorized, type Authenticator } from './strategy.ts';

interface TokenBody {
  expires_at: string;
  user?: { id?: string; name?: string };
  project?: { id?: string; name?: string; domain?: { id?: string } };
  system?: { all?: boolean };
  roles?: { name?: string }[];
}

interface Cached { identity: Identity; until: number }

/** 503: Keystone could not be asked (keystonemiddleware answers the same). */
export class KeystoneUnavailable extends AnvilError {
  constructor(why: string) {
    super(`The identity service could not validate the token: ${why}`, 503, 'ServiceUnavailable');
  }
}

/** What a validated token says about its holder, in policy terms. */
export function identityOfToken(token: TokenBody): Identity {
  return {
    strategy: 'keystone',
    userId: token.user?.id ?? null,
    userName: token.user?.name ?? null,
    projectId: token.project?.id ?? null,
    projectName: token.project?.name ?? null,
    projectDomainId: token.project?.domain?.id ?? null,
    roles: [...new Set((token.roles ?? []).map((r) => String(r.name ?? '').toLowerCase()).filter(Boolean))],
    system: token.system?.all === true,
  };
}

export class KeystoneTokens implements Authenticator {
  readonly name = 'keystone';
  readonly challenge: string;
  /** Keystone's HTTP client, created (and axios loaded) by the first call. */
  private readonly keystone: () => Promise<AxiosInstance>;
  private readonly cache = new Map<string, Cached>();
  private serviceToken: { value: string; until: number } | undefined;
  private serviceTokenPending: Promise<string> | undefined;

  constructor(
    private readonly auth: AuthConfig,
    private readonly logger: Logger,
    private readonly opts: { maxCached?: number } = {},
  ) {
    const ks = auth.keystone;
    if (!ks.authUrl || !ks.username || !ks.password) {
      throw new InvalidInput('auth.strategy keystone needs auth.keystone.authUrl, username and password (the service user that validates tokens)');
    }
    const base = ks.authUrl.replace(/\/+$/, '');
    this.challenge = `Keystone uri="${(ks.wwwAuthenticateUri ?? base.replace(/\/v3$/, '')).replace(/"/g, '')}"`;
    const options = {
      baseURL: /\/v3$/.test(base) ? base : `${base}/v3`,
      timeout: ks.timeout * 1000,
      validateStatus: () => true,
      httpsAgent: ks.caFile ? new https.Agent({ ca: readFileSync(ks.caFile), keepAlive: true }) : new https.Agent({ keepAlive: true }),
    };
    let client: Promise<AxiosInstance> | undefined;
    this.keystone = () => (client ??= import('axios').then(({ default: axios }) => axios.create(options)));
  }

  async authenticate(req: FastifyRequest): Promise<Identity> {
    const header = req.headers['x-auth-token'];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) throw new Unauthorized();
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.identity;
    if (hit) this.cache.delete(key);
    const body = await this.validate(token);
    const identity = identityOfToken(body);
    const until = Math.min(Date.parse(body.expires_at), Date.now() + this.auth.keystone.cacheSeconds * 1000);
    if (this.cache.size >= (this.opts.maxCached ?? 10_000)) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { identity, until });
    return identity;
  }

  private async validate(token: string, retried = false): Promise<TokenBody> {
    const service = await this.getServiceToken();
    let res;
    try {
      res = await (await this.keystone()).get('/auth/tokens', { headers: { 'X-Auth-Token': service, 'X-Subject-Token': token } });
    } catch (err) {
      throw new KeystoneUnavailable((err as Error).message);
    }
    if (res.status === 200 && res.data?.token?.expires_at) {
      if (Date.parse(res.data.token.expires_at) <= Date.now()) throw new Unauthorized('The token has expired.', true);
      return res.data.token as TokenBody;
    }
    if (res.status === 404) throw new Unauthorized('The token is invalid or has expired.', true);
    if ((res.status === 401 || res.status === 403) && !retried) {
      // Our own token expired or was revoked: get a new one, once.
      this.serviceToken = undefined;
      return this.validate(token, true);
    }
    throw new KeystoneUnavailable(`Keystone answered ${res.status} to the token validation`);
  }

  private async getServiceToken(): Promise<string> {
    if (this.serviceToken && this.serviceToken.until > Date.now()) return this.serviceToken.value;
    this.serviceTokenPending ??= this.issueServiceToken().finally(() => {
      this.serviceTokenPending = undefined;
    });
    return this.serviceTokenPending;
  }

  private async issueServiceToken(): Promise<string> {
    const ks = this.auth.keystone;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: ks.username, password: ks.password, domain: { name: ks.userDomainName } } } },
        scope: { project: { name: ks.projectName, domain: { name: ks.projectDomainName } } },
      },
    };
    let res;
    try {
      res = await (await this.keystone()).post('/auth/tokens', body);
    } catch (err) {
      throw new KeystoneUnavailable((err as Error).message);
    }
    const value = res.headers['x-subject-token'];
    if (res.status !== 201 || typeof value !== 'string') {
      this.logger.error(`Keystone refused Anvil's service user ${ks.username} (status ${res.status}); check auth.keystone`);
      throw new KeystoneUnavailable(`Keystone refused the service user (status ${res.status})`);
    }
    // Renewed a minute before it expires.
    this.serviceToken = { value, until: Date.parse(res.data.token.expires_at) - 60_000 };
    return value;
  }
}
