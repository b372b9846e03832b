// noauth: every request is the system administrator. Only safe where nobody else can connect, so
// Anvil refuses it on any address but loopback unless auth.allowInsecureNoauth says otherwise.
import { isIP } from 'node:net';
import type { AnvilConfig } from '../../../common/config.ts';
import { InvalidInput } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';
import { systemAdmin, type Identity } from './identity.ts';
import type { Authenticator } from './strategy.ts';

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1') return true;
  return /^::ffff:127\./.test(h);
}

const NOAUTH: Identity = systemAdmin('noauth', null);

export class NoAuth implements Authenticator {
  readonly name = 'noauth';

  constructor(config: AnvilConfig, logger: Logger) {
    if (!isLoopback(config.api.host)) {
      if (!config.auth.allowInsecureNoauth) {
        throw new InvalidInput(
          `auth.strategy is noauth but the API would listen on ${config.api.host}, not on loopback: anyone who reaches it could power off and re-image every server. ` +
            'Set auth.strategy to http_basic or keystone (docs/security.md), listen on 127.0.0.1, or set auth.allowInsecureNoauth: true to accept the risk.',
        );
      }
      logger.warn(`INSECURE: noauth on ${config.api.host} (auth.allowInsecureNoauth is true): every client that reaches this address is a system administrator`);
    }
  }

  async authenticate(): Promise<Identity> {
    return NOAUTH;
  }
}
