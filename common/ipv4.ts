// IPv4 subnets of networks: parsing a CIDR and handing out the next free host address.
import { InvalidInput } from './errors.ts';

export interface Subnet { base: number; prefix: number }

function toInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function toAddress(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** "10.0.1.0/24" → its network base and prefix length; throws InvalidInput naming the field. */
export function parseCidr(cidr: string, field = 'cidr'): Subnet {
  const [addr, len, extra] = cidr.split('/');
  const base = toInt(addr ?? '');
  const prefix = Number(len);
  if (base === undefined || extra !== undefined || !/^\d{1,2}$/.test(len ?? '') || prefix < 8 || prefix > 30) {
    throw new InvalidInput(`${field} must be an IPv4 subnet in CIDR notation with a prefix of 8 to 30 bits (e.g. 10.0.1.0/24), got "${cidr}"`);
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new InvalidInput(`${field} "${cidr}" has host bits set; the subnet is ${toAddress(base - (base % size))}/${prefix}`);
  return { base, prefix };
}

export function inSubnet(subnet: Subnet, address: string): boolean {
  const n = toInt(address);
  return n !== undefined && n > subnet.base && n < subnet.base + 2 ** (32 - subnet.prefix) - 1;
}

/** The netmask of a prefix length ("255.255.255.0"), as network_data.json spells it. */
export function netmask(prefix: number): string {
  return toAddress(2 ** 32 - 2 ** (32 - prefix));
}

/** The lowest host address of the subnet that is neither taken nor the gateway; undefined when it is full. */
export function nextFreeAddress(subnet: Subnet, taken: readonly string[], gateway: string | null): string | undefined {
  const used = new Set([...taken, ...(gateway ? [gateway] : [])]);
  const last = subnet.base + 2 ** (32 - subnet.prefix) - 2;
  for (let n = subnet.base + 1; n <= last; n++) {
    const a = toAddress(n);
    if (!used.has(a)) return a;
  }
  return undefined;
}
