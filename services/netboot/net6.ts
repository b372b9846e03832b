// IPv6 addresses for DHCPv6 and its config: parsing and RFC 5952 text by ipaddr.js, prefixes and pool
// arithmetic as 128-bit BigInts, and the MAC inside a modified EUI-64 interface identifier.
import ipaddr from 'ipaddr.js';

export interface Prefix6 {
  network: bigint;
  length: number;
}

/** True for an IPv6 literal without a zone (`%eth0`). */
export function isIPv6(text: string): boolean {
  return ipaddr.IPv6.isValid(text) && !text.includes('%');
}

/** The RFC 5952 form of an IPv6 literal (lower case, longest zero run as `::`); zone kept. */
export function canonical6(text: string): string {
  return ipaddr.IPv6.parse(text).toRFC5952String();
}

export function bytesOf6(text: string): Buffer {
  return Buffer.from(ipaddr.IPv6.parse(text).toByteArray());
}

export function text6(buf: Buffer, offset = 0): string {
  return new ipaddr.IPv6([...buf.subarray(offset, offset + 16)]).toRFC5952String();
}

export function bigOf6(text: string): bigint {
  return BigInt(`0x${bytesOf6(text).toString('hex')}`);
}

export function big6ToText(n: bigint): string {
  return text6(Buffer.from(n.toString(16).padStart(32, '0'), 'hex'));
}

/** "2001:db8:1::/64" → its network and length; undefined when it is not an IPv6 prefix. */
export function parsePrefix6(text: string): Prefix6 | undefined {
  if (!ipaddr.IPv6.isValidCIDR(text.trim())) return undefined;
  const [addr, length] = ipaddr.IPv6.parseCIDR(text.trim());
  if (addr.zoneId) return undefined;
  const mask = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(128 - length);
  return { network: bigOf6(addr.toString()) & mask, length };
}

export function prefix6Text(p: Prefix6): string {
  return `${big6ToText(p.network)}/${p.length}`;
}

export function inPrefix6(addr: string | bigint, p: Prefix6): boolean {
  const n = typeof addr === 'bigint' ? addr : bigOf6(addr);
  return n >> BigInt(128 - p.length) === p.network >> BigInt(128 - p.length);
}

export function isLinkLocal6(text: string): boolean {
  return ipaddr.IPv6.isValid(text) && ipaddr.IPv6.parse(text).range() === 'linkLocal';
}

/** The interface named by a link-local address's zone (`fe80::1%eth0` → eth0). */
export function zoneOf(text: string): string | undefined {
  const i = text.indexOf('%');
  return i < 0 ? undefined : text.slice(i + 1);
}

/**
 * The MAC of a modified EUI-64 interface identifier (RFC 4291 appendix A: ff:fe in the middle, the
 * universal/local bit flipped), as firmware builds its link-local address from its NIC; else undefined.
 */
export function macOfEui64(addr: Buffer): string | undefined {
  const iid = addr.subarray(8, 16);
  if (iid[3] !== 0xff || iid[4] !== 0xfe) return undefined;
  const mac = [iid[0] ^ 0x02, iid[1], iid[2], iid[5], iid[6], iid[7]];
  return mac.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
