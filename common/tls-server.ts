// Plain HTTP or HTTPS for Anvil's file servers (netboot's HTTP boot server, the image server), by
// whether a certificate and key are configured; the API's own TLS options are services/api/auth/tls.ts.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { InvalidInput } from './errors.ts';

export interface TlsFiles {
  /** PEM files; both or neither. */
  cert?: string;
  key?: string;
}

/** A PEM file named in the configuration, or a message naming `what` (e.g. "the API's TLS key"). */
export function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InvalidInput(`Cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** An HTTPS server (TLS 1.2 or later) when `tls` names a certificate and key, else plain HTTP; `key` is the config key named in errors. */
export function createFileServer(tls: TlsFiles | undefined, key: string, handler: http.RequestListener, options: http.ServerOptions = {}): http.Server {
  if (!tls?.cert && !tls?.key) return http.createServer(options, handler);
  if (!tls.cert || !tls.key) throw new InvalidInput(`${key} needs both cert and key`);
  return https.createServer({ cert: readPem(tls.cert, `the certificate of ${key}`), key: readPem(tls.key, `the key of ${key}`), minVersion: 'TLSv1.2', ...options }, handler);
}
