// HTTPS for the API when api.tls.cert and api.tls.key are set; with api.tls.clientCa, clients
// must present a certificate that CA signed.
import type { SecureServerOptions } from 'node:http2';
import type { AnvilConfig } from '../../../common/config.ts';
import { readPem } from '../../../common/tls-server.ts';

const read = (file: string, what: string): Buffer => readPem(file, `the API's TLS ${what}`);

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
