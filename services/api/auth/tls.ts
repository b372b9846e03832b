// HTTPS for the API when api.tls.cert and api.tls.key are set; with api.tls.clientCa, clients
// must present a certificate that CA signed.
import { readFileSync } from 'node:fs';
import type { SecureServerOptions } from 'node:http2';
import type { AnvilConfig } from '../../../common/config.ts';
import { InvalidInput } from '../../../common/errors.ts';

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InvalidInput(`Cannot read the API's TLS ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Fastify's `https` option for the configuration, or nothing for plain HTTP. */
export function tlsOptions(config: AnvilConfig): { https?: SecureServerOptions } {
  const tls = config.api.tls;
  if (!tls.cert || !tls.key) return {};
  return {
    https: {
      cert: read(tls.cert, 'certificate'),
      key: read(tls.key, 'key'),
      minVersion: 'TLSv1.2',
      ...(tls.clientCa ? { ca: read(tls.clientCa, 'client CA'), requestCert: true, rejectUnauthorized: true } : {}),
    },
  };
}
