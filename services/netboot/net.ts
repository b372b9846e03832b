// IPv4 address arithmetic shared by the DHCP codec, policy and config validation.
import { isIPv4 } from 'node:net';

export { isIPv4 };

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  return (((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function ipToBuffer(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipToInt(ip || '0.0.0.0'));
  return b;
}

export function ipFromBuffer(buf: Buffer, offset: number): string {
  return intToIp(buf.readUInt32BE(offset));
}

export interface Cidr {
  network: number;
  prefix: number;
  mask: number;
}

/** Parses "10.1.2.0/24"; undefined when it is not an IPv4 CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (!m || !isIPv4(m[1])) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ipToInt(m[1]) & mask) >>> 0, prefix, mask };
}

export function inCidr(ip: string | number, cidr: Cidr): boolean {
  const n = typeof ip === 'number' ? ip : ipToInt(ip);
  return ((n & cidr.mask) >>> 0) === cidr.network;
}

export function broadcastOf(cidr: Cidr): number {
  return (cidr.network | (~cidr.mask >>> 0)) >>> 0;
}
