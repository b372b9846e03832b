// The HTTP client of a BMC or management endpoint reached over REST (Redfish, oVirt Engine): one
// keep-alive agent per endpoint, every status handed back to the caller, no redirects or proxies.
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type RawAxiosRequestHeaders } from 'axios';

export interface BmcHttpOptions {
  origin: string;
  timeoutSec: number;
  /** Check the server's certificate (https only). */
  verify: boolean;
  /** CA certificates to trust instead of the system's. */
  ca?: string | string[];
  headers?: RawAxiosRequestHeaders;
}

export function bmcHttpClient(opts: BmcHttpOptions): { agent: http.Agent; http: AxiosInstance } {
  const secure = opts.origin.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: opts.verify, ca: opts.ca })
    : new http.Agent({ keepAlive: true, maxSockets: 8 });
  const client = axios.create({
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
  return { agent, http: client };
}
