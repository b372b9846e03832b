// One interface for the three ways of proving who you are (auth.strategy), and the choice among them.
import type { FastifyRequest } from 'fastify';
import type { AnvilConfig } from '../../../common/config.ts';
import { AnvilError, InvalidInput } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';
import type { Identity } from './identity.ts';
import { HttpBasic } from './httpBasic.ts';
import { KeystoneTokens } from './keystone.ts';
import { NoAuth } from './noauth.ts';

export interface Authenticator {
  readonly name: string;
  /** Who sent the request; throws Unauthorized when its credentials are missing or wrong. */
  authenticate(req: FastifyRequest): Promise<Identity>;
  /** The WWW-Authenticate header a 401 carries, if the scheme has one. */
  readonly challenge?: string;
  close?(): void;
}

/** 401: no credentials, or wrong ones. The message never says which part was wrong. */
export class Unauthorized extends AnvilError {
  /** `presented`: the request carried credentials, and they were wrong (what the back-off counts). */
  constructor(message = 'The request you have made requires authentication.', readonly presented = false) {
    super(message, 401, 'Unauthorized');
  }
}

/** 429: too many failed authentications from this client. */
export class TooManyFailures extends AnvilError {
  constructor(readonly retryAfter: number) {
    super(`Too many failed authentications from this client; retry in ${retryAfter} s.`, 429, 'TooManyRequests');
  }
}

export function createAuthenticator(config: AnvilConfig, logger: Logger): Authenticator {
  switch (config.auth.strategy) {
    case 'noauth':
      return new NoAuth(config, logger);
    case 'http_basic':
      return new HttpBasic(config.auth, logger);
    case 'keystone':
      return new KeystoneTokens(config.auth, logger);
    default:
      throw new InvalidInput(`Unknown auth.strategy "${String(config.auth.strategy)}"`);
  }
}
