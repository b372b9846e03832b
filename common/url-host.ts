// Hosts in URLs, the one place IPv6 literals get their brackets (RFC 3986 §3.2.2): every URL Anvil
// builds from a host (the API's, the image server's, the netboot HTTP server's, an agent's
// callback, a BMC's origin) goes through here, so `http://2001:db8::1:6385` is never handed out.
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';

/** `host` as a URL's authority takes it: an IPv6 literal in brackets, a name or IPv4 address as is. */
export function urlHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** `scheme://host:port` with the host bracketed when it is an IPv6 literal. */
export function origin(scheme: string, host: string, port: number): string {
  return `${scheme}://${urlHost(host)}:${port}`;
}

/** A URL's hostname as an address or name (WHATWG URL keeps IPv6 literals in brackets). */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

/** An address written with or without a scheme (`bmc.example:8443`, `2001:db8::5`, `[2001:db8::5]:8443`, `https://…`) as a URL; `scheme` when it has none. */
export function addressUrl(address: string, scheme: string): URL {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) return new URL(address);
  // A bare IPv6 literal has colons a URL would read as a port: it gets its brackets first.
  return new URL(`${scheme}://${urlHost(address)}`);
}

export type AddressFamily = 4 | 6;

/** A peer (a BMC, an agent) a URL is handed to, and the address family it is reached by. */
export interface UrlPeer {
  family: AddressFamily;
  /** Names the peer in error messages: "the BMC at https://[2001:db8::5]". */
  label: string;
}

/**
 * The address family a peer speaks, from the host it is reached at: a literal's own family; a name
 * with only AAAA records is IPv6, any other name IPv4 (and one that does not resolve too: reaching it
 * fails later with its own message).
 */
export async function hostFamily(host: string): Promise<AddressFamily> {
  const bare = bareHost(host);
  const literal = isIP(bare);
  if (literal) return literal as AddressFamily;
  const found = await lookup(bare, { all: true }).catch(() => []);
  return found.length > 0 && found.every((a) => a.family === 6) ? 6 : 4;
}
