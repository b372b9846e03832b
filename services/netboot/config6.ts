// The DHCPv6 part of the `netboot` section: `serverAddress6`, `dhcp6` (listen address, the interfaces
// whose links are served directly, the server DUID) and `subnets6` (one per link: directly attached
// by interface name, or behind a relay whose link-address falls in the prefix). Validated here, with
// messages that name the key; the format is documented in docs/netboot.md.
import { InvalidInput } from '../../common/errors.ts';
import { bool, checkKeys, isObject, listen, num, section, str, type Raw } from './config-read.ts';
import { bigOf6, canonical6, inPrefix6, isIPv6, parsePrefix6, prefix6Text, type Prefix6 } from './net6.ts';

export interface Subnet6Config {
  name: string;
  /** Canonical, e.g. 2001:db8:1::/64. */
  prefix: string;
  /** Set for a link attached to the server (the interface it is on); relayed links have none. */
  interface?: string;
  range: { start: string; end: string };
  dns: string[];
  ntp: string[];
  /** Seconds. */
  preferredLifetime: number;
  validLifetime: number;
  /** The server's address in boot file URLs of this link; defaults to netboot.serverAddress6. */
  serverAddress?: string;
}

export interface Dhcp6Config {
  enabled: boolean;
  host: string;
  port: number;
  /** Interfaces that join ff02::1:2 (the direct links: every subnet6 `interface`, plus any listed). */
  interfaces: string[];
  /** Hex of a fixed server DUID; else one is made once and kept in dataDir (server-duid.ts). */
  serverDuid?: string;
  /** How long an address advertised to a SOLICIT is held for the REQUEST. */
  offerSeconds: number;
  /** Answer a SOLICIT with Rapid Commit (RFC 8415 18.3.1) by a REPLY that binds at once. */
  rapidCommit: boolean;
}

function ip6(raw: Raw, key: string, where: string): string {
  const v = str(raw, key, where);
  if (!isIPv6(v)) throw new InvalidInput(`${where}.${key} is not an IPv6 address: "${v}"`);
  return canonical6(v);
}

function ip6List(raw: Raw, key: string, where: string): string[] {
  const v = raw[key] ?? [];
  if (!Array.isArray(v) || v.some((d) => typeof d !== 'string' || !isIPv6(d))) throw new InvalidInput(`${where}.${key} must be a list of IPv6 addresses`);
  return (v as string[]).map(canonical6);
}

function parseSubnet6(raw: unknown, index: number, label: string, fallbackServer: string | undefined): Subnet6Config & { parsed: Prefix6 } {
  const where = `${label}[${index}]`;
  if (!isObject(raw)) throw new InvalidInput(`${where} must be a mapping`);
  checkKeys(raw, ['name', 'prefix', 'interface', 'range', 'dns', 'ntp', 'preferredLifetime', 'validLifetime', 'serverAddress'], where);
  const name = str(raw, 'name', where, `subnet6-${index}`);
  const at = `${where} (${name})`;
  const prefixText = str(raw, 'prefix', at);
  const parsed = parsePrefix6(prefixText);
  if (!parsed) throw new InvalidInput(`${at}.prefix is not an IPv6 prefix such as 2001:db8:1::/64: "${prefixText}"`);
  if (!isObject(raw.range)) throw new InvalidInput(`${at} needs "range: {start, end}": the addresses DHCPv6 leases on this link`);
  checkKeys(raw.range, ['start', 'end'], `${at}.range`);
  const start = ip6(raw.range, 'start', `${at}.range`);
  const end = ip6(raw.range, 'end', `${at}.range`);
  for (const [key, addr] of [['range.start', start], ['range.end', end]] as const) {
    if (!inPrefix6(addr, parsed)) throw new InvalidInput(`${at}.${key} ${addr} is outside the prefix ${prefixText}`);
  }
  if (bigOf6(start) > bigOf6(end)) throw new InvalidInput(`${at}.range starts at ${start}, after its end ${end}`);
  const preferredLifetime = num(raw, 'preferredLifetime', at, 3600, 60, 7 * 24 * 3600);
  const validLifetime = num(raw, 'validLifetime', at, 2 * preferredLifetime, 60, 14 * 24 * 3600);
  if (validLifetime < preferredLifetime) throw new InvalidInput(`${at}.validLifetime ${validLifetime} is shorter than preferredLifetime ${preferredLifetime}`);
  const serverAddress = raw.serverAddress === undefined ? undefined : ip6(raw, 'serverAddress', at);
  if (!serverAddress && !fallbackServer) {
    throw new InvalidInput(`${at} has no serverAddress and netboot.serverAddress6 is not set: boot file URLs need the server's IPv6 address`);
  }
  return {
    name,
    prefix: prefix6Text(parsed),
    interface: raw.interface === undefined ? undefined : str(raw, 'interface', at),
    range: { start, end },
    dns: ip6List(raw, 'dns', at),
    ntp: ip6List(raw, 'ntp', at),
    preferredLifetime,
    validLifetime,
    serverAddress,
    parsed,
  };
}

/** Validates a list of IPv6 subnets as a whole: each one, unique names and interfaces, no overlap. */
export function parseSubnets6(raw: unknown, label: string, fallbackServer: string | undefined): Subnet6Config[] {
  if (!Array.isArray(raw)) throw new InvalidInput(`${label} must be a list`);
  const subnets = raw.map((r, i) => parseSubnet6(r, i, label, fallbackServer));
  const names = new Set<string>();
  const links = new Map<string, string>();
  for (const s of subnets) {
    if (names.has(s.name)) throw new InvalidInput(`${label}: the name "${s.name}" is used twice`);
    names.add(s.name);
    if (s.interface && links.has(s.interface)) throw new InvalidInput(`${label}: ${links.get(s.interface)} and ${s.name} are both on interface ${s.interface}`);
    if (s.interface) links.set(s.interface, s.name);
  }
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      const [a, b] = [subnets[i], subnets[j]];
      if (inPrefix6(b.parsed.network, a.parsed) || inPrefix6(a.parsed.network, b.parsed)) {
        throw new InvalidInput(`${label}: ${a.name} (${a.prefix}) and ${b.name} (${b.prefix}) overlap`);
      }
    }
  }
  return subnets.map(({ parsed: _parsed, ...s }) => s);
}

/** The DHCPv6 keys of the netboot section (already checked for unknown top-level keys). */
export function parseDhcp6Section(raw: Raw): { dhcp6: Dhcp6Config; serverAddress6?: string; subnets6: Subnet6Config[] } {
  const serverAddress6 = raw.serverAddress6 === undefined ? undefined : ip6(raw, 'serverAddress6', 'netboot');
  const subnets6 = parseSubnets6(raw.subnets6 ?? [], 'netboot.subnets6', serverAddress6);
  const d = section(raw, 'dhcp6');
  checkKeys(d, ['enabled', 'listen', 'interfaces', 'serverDuid', 'offerSeconds', 'rapidCommit'], 'netboot.dhcp6');
  const extra = d.interfaces ?? [];
  if (!Array.isArray(extra) || extra.some((i) => typeof i !== 'string' || i === '')) throw new InvalidInput('netboot.dhcp6.interfaces must be a list of interface names');
  let serverDuid: string | undefined;
  if (d.serverDuid !== undefined) {
    serverDuid = str(d, 'serverDuid', 'netboot.dhcp6').replace(/[:\s-]/g, '').toLowerCase();
    if (!/^([0-9a-f]{2}){3,130}$/.test(serverDuid)) throw new InvalidInput('netboot.dhcp6.serverDuid must be 3 to 130 bytes of hex (a DUID: 2-byte type, then its identifier)');
  }
  return {
    serverAddress6,
    subnets6,
    dhcp6: {
      enabled: bool(d, 'enabled', 'netboot.dhcp6', subnets6.length > 0),
      ...listen(d, 'netboot.dhcp6', '[::]:547'),
      interfaces: [...new Set([...subnets6.flatMap((s) => (s.interface ? [s.interface] : [])), ...(extra as string[])])],
      serverDuid,
      offerSeconds: num(d, 'offerSeconds', 'netboot.dhcp6', 30, 1, 3600),
      rapidCommit: bool(d, 'rapidCommit', 'netboot.dhcp6', true),
    },
  };
}
