// The HTTP client of a BMC or management endpoint reached over REST (Redfish, oVirt Engine): one
// keep-alive agent per endpoint, every status handed back to the caller, no redirects or proxies.
// axios is loaded by the first request: a process with no Redfish or oVirt node (an API, a
// conductor of IPMI or fake nodes) does not carry its ~70 modules (about 8 MiB).
import http from 'node:http';
import https from 'node:https';
import type { AxiosInstance, RawAxiosRequestHeaders } from 'axios';

export interface BmcHttpOptions {
  origin: string;
  timeoutSec: number;
  /** Check the server's certificate (https only). */
  verify: boolean;
  /** CA certificates to trust instead of the system's. */
  ca?: string | string[];
  headers?: RawAxiosRequestHeaders;
}

export function bmcHttpClient(opts: BmcHttpOptions): { agent: http.Agent; http: Pick<AxiosInstance, 'request'> } {
  const secure = opts.origin.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: opts.verify, ca: opts.ca })
    : new http.Agent({ keepAlive: true, maxSockets: 8 });
  const create = async () => (await import('axios')).default.create({
    baseURL: opts.origin,
    timeout: opts.timeoutSec * 1000,
    httpAgent: secure ? undefined : agent,
    httpsAgent: secure ? agent : undefined,
    validateStatus: () => true,
    maxRedirects: 0,
    proxy: false,
    transitional: { clarifyTimeoutError: true },
    headers: opts.headers,
  });
  let client: Promise<AxiosInstance> | undefined;
  return { agent, http: { request: async (config) => (await (client ??= create())).request(config) } };
}
