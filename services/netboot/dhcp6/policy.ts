// Who gets what over DHCPv6: takes a decoded message (relayed or not) and where it came from, and
// returns the reply to send and where, or the reason for silence. No sockets here. Which MACs are
// answered, and what they boot, is the boot record's (targets.ts), exactly as for DHCPv4; the boot
// file is chosen by the v4 policy's bootFile and written as a URL on this server's IPv6 address.
import { isIPv4 } from 'node:net';
import { urlHost } from '../../../common/url-host.ts';
import type { NetbootConfig } from '../config.ts';
import type { Subnet6Config } from '../config6.ts';
import { bootFile } from '../dhcp/policy.ts';
import { bytesOf6, inPrefix6, isLinkLocal6, macOfEui64, parsePrefix6, zoneOf } from '../net6.ts';
import type { BootTarget, TargetDirectory } from '../targets.ts';
import {
  Msg, Opt6, Status, addresses, archTypes, first, iaAddrOption, iaAddresses, iaNaOption, iaNas, isRelay, lengthPrefixed,
  macOfDuid, macOfLinkLayerOption, msgName, ntpOption, requestedOptions, statusOption, userClasses, utf8, vendorClassOption,
  vendorClasses, type ClientMessage, type Dhcp6Message, type IaNa, type MsgName, type Option6, type RelayMessage,
} from './codec.ts';
import type { Client6, Lease6Store, Pool6 } from './leases.ts';

export interface Policy6View {
  config: NetbootConfig;
  targets: TargetDirectory;
  leases: Lease6Store;
  /** This server's DUID (server-duid.ts). */
  serverDuid: Buffer;
  now(): number;
}

export interface Peer {
  address: string;
  port: number;
}

export type Decision6 =
  | { reply: Dhcp6Message; to: Peer; subnet: string; mac: string; type: MsgName; relayed: boolean }
  | { ignored: string; mac?: string };

/** Option 61 architecture types (RFC 5970, IANA "Processor Architecture Types"). */
const ARCH_BIOS = 0;
const ARCH_EFI_BC = 7;
/** The Server ID a message must carry (RFC 8415 16): required, forbidden, or checked when present. */
const SERVER_ID_RULE: Partial<Record<number, 'required' | 'absent' | 'optional'>> = {
  [Msg.SOLICIT]: 'absent', [Msg.REQUEST]: 'required', [Msg.CONFIRM]: 'absent', [Msg.RENEW]: 'required', [Msg.REBIND]: 'absent',
  [Msg.RELEASE]: 'required', [Msg.DECLINE]: 'required', [Msg.INFORMATION_REQUEST]: 'optional',
};
const UNSPECIFIED = '::';
/** RFC 8415 18.3.9: a server preference of 255 lets the client take this Advertise at once. */
const PREFERENCE_MAX = Buffer.from([255]);

interface Exchange {
  client: ClientMessage;
  /** Outermost first. */
  relays: RelayMessage[];
  subnet: Subnet6Config;
  pool: Pool6;
  holder: Client6;
  view: Policy6View;
}

/** The relays a message passed through, outermost first, and the client's message inside them. */
function unwrap(m: Dhcp6Message): { relays: RelayMessage[]; client: ClientMessage } | string {
  const relays: RelayMessage[] = [];
  let inner = m;
  while (isRelay(inner)) {
    if (inner.type !== Msg.RELAY_FORW) return 'a RELAY-REPL is for relays, not servers';
    relays.push(inner);
    inner = inner.message;
  }
  return { relays, client: inner };
}

/**
 * The client's link: the link-address of the relay nearest the client that has one in a configured
 * prefix (RFC 8415 19.1.1: a relay with no global address on the link leaves it ::), else, for a
 * client on one of the server's own links, the interface of its link-local source address.
 */
export function selectSubnet6(subnets: readonly Subnet6Config[], relays: readonly RelayMessage[], from: Peer): Subnet6Config | string {
  const inPrefix = (addr: string): Subnet6Config | undefined => subnets.find((s) => inPrefix6(addr, parsePrefix6(s.prefix)!));
  if (relays.length) {
    for (const r of [...relays].reverse()) {
      if (r.linkAddress === UNSPECIFIED || isLinkLocal6(r.linkAddress)) continue;
      return inPrefix(r.linkAddress) ?? `no subnets6 prefix holds the relay's link-address ${r.linkAddress}`;
    }
    return 'no relay named a link-address (all ::)';
  }
  if (isLinkLocal6(from.address)) {
    const zone = zoneOf(from.address);
    return subnets.find((s) => s.interface !== undefined && s.interface === zone) ?? `no subnets6 entry is on interface ${zone ?? '(unknown)'}`;
  }
  // A client that unicasts from an address it was given.
  return inPrefix(from.address.replace(/%.*$/, '')) ?? `no subnets6 prefix holds the source address ${from.address}`;
}

/** The client's MAC: the relay's RFC 6939 option, else a DUID-LL/LLT, else the EUI-64 link-local address. */
function clientMacOf(client: ClientMessage, relays: readonly RelayMessage[], from: Peer): string | undefined {
  const nearest = relays.at(-1);
  const linkLayer = nearest && first(nearest.options, Opt6.CLIENT_LINKLAYER_ADDR);
  const fromRelay = linkLayer && macOfLinkLayerOption(linkLayer);
  if (fromRelay) return fromRelay;
  const duid = first(client.options, Opt6.CLIENTID);
  const fromDuid = duid && macOfDuid(duid);
  if (fromDuid) return fromDuid;
  // iPXE and UEFI firmware identify themselves by DUID-UUID; their link-local address is still EUI-64.
  const source = nearest ? nearest.peerAddress : from.address.replace(/%.*$/, '');
  return isLinkLocal6(source) ? macOfEui64(bytesOf6(source)) : undefined;
}

/** The HTTP root as seen over IPv6: netboot.http.publicUrl with an IPv4 host replaced by this server's IPv6 address. */
export function httpBase6(config: NetbootConfig, server6: string): string {
  const url = new URL(config.http.publicUrl);
  if (!isIPv4(url.hostname)) return config.http.publicUrl;
  return `${url.protocol}//${urlHost(server6)}${url.port ? `:${url.port}` : ''}${url.pathname.replace(/\/$/, '')}`;
}

/**
 * RFC 5970 boot file URL: what the v4 policy's bootFile names for this client (the iPXE script, the
 * record's file, the loader of its architecture), as an http:// URL or tftp://[server]/file; the
 * record's own file (a kernel, as for Ironic's http boot) also gets the command line as its parameters.
 * Undefined for BIOS firmware, which has no DHCPv6 network boot (iPXE itself is served on any arch).
 */
export function bootFileUrl6(config: NetbootConfig, client: ClientMessage, target: BootTarget, server6: string): { url: string; params?: string[] } | undefined {
  const vendor = vendorClasses(client.options);
  const kind = {
    ipxe: userClasses(client.options).includes('iPXE'),
    httpClient: vendor.some((v) => v.startsWith('HTTPClient')),
    pxe: vendor.some((v) => v.startsWith('PXEClient')),
    arch: archTypes(client.options)[0],
  };
  if (!kind.ipxe && kind.arch === ARCH_BIOS) return undefined;
  const v6 = { ...config, http: { ...config.http, publicUrl: httpBase6(config, server6) } };
  // No architecture named: over IPv6 that is UEFI (BIOS PXE never speaks DHCPv6).
  const name = bootFile(v6, { ...kind, arch: kind.arch ?? ARCH_EFI_BC }, target);
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(name) ? name : `tftp://${urlHost(server6)}/${name.replace(/^\/+/, '')}`;
  return !kind.ipxe && name === target.bootFile ? { url, params: target.cmdline.split(/\s+/).filter(Boolean) } : { url };
}

function lifetimesOf(subnet: Subnet6Config): { t1: number; t2: number; preferred: number; valid: number } {
  // RFC 8415 21.4: T1 and T2 at 0.5 and 0.8 of the preferred lifetime.
  return { t1: Math.floor(subnet.preferredLifetime / 2), t2: Math.floor(subnet.preferredLifetime * 0.8), preferred: subnet.preferredLifetime, valid: subnet.validLifetime };
}

function iaStatus(ia: IaNa, code: number, message: string, extra: Option6[] = []): Option6 {
  return iaNaOption(ia.iaid, 0, 0, [...extra, statusOption(code, message)]);
}

/** SOLICIT, REQUEST, RENEW, REBIND: an address for the client's first IA_NA; one address per client and link. */
async function assign(x: Exchange, bind: boolean): Promise<Option6[]> {
  const { view, pool, holder, subnet } = x;
  const prefix = parsePrefix6(subnet.prefix)!;
  const [ia, ...others] = iaNas(x.client.options);
  if (!ia) return [];
  const until = (seconds: number): number => view.now() + seconds * 1000;
  // SOLICIT holds an address for the REQUEST; the others bind it for the valid lifetime.
  const take = async (a: string | undefined): Promise<string | undefined> => {
    const held = await view.leases.offer(pool, holder, a, until(view.config.dhcp6.offerSeconds));
    if (!held || (a !== undefined && held !== a)) return undefined;
    return !bind || (await view.leases.bind(pool, holder, held, until(subnet.validLifetime))) ? held : undefined;
  };
  // The client's own addresses first; those that are not (or no longer) its own on this link go back with lifetimes 0.
  const dropped: Option6[] = [];
  let address: string | undefined;
  for (const { address: a } of iaAddresses(ia.options)) {
    if (address === undefined && inPrefix6(a, prefix) && (address = await take(a)) !== undefined) continue;
    if (bind) dropped.push(iaAddrOption(a, 0, 0));
  }
  address ??= await take(undefined);
  const rest = others.map((o) => iaStatus(o, Status.NO_ADDRS_AVAIL, 'one address per client and link'));
  if (address === undefined) return [iaStatus(ia, Status.NO_ADDRS_AVAIL, `no free address left in ${subnet.name}`, dropped), ...rest];
  const l = lifetimesOf(subnet);
  return [iaNaOption(ia.iaid, l.t1, l.t2, [iaAddrOption(address, l.preferred, l.valid), ...dropped]), ...rest];
}

/** Network and boot options the client asked for (ORO), and the HTTPClient vendor class UEFI HTTP boot expects back. */
function configOptions(x: Exchange, target: BootTarget): Option6[] {
  const { client, subnet, view } = x;
  const asked = new Set(requestedOptions(client.options));
  const server6 = subnet.serverAddress ?? view.config.serverAddress6!;
  const out: Option6[] = [];
  if (asked.has(Opt6.DNS_SERVERS) && subnet.dns.length) out.push([Opt6.DNS_SERVERS, addresses(subnet.dns)]);
  if (asked.has(Opt6.NTP_SERVER) && subnet.ntp.length) out.push(ntpOption(subnet.ntp));
  const boot = bootFileUrl6(view.config, client, target, server6);
  if (boot && asked.has(Opt6.BOOTFILE_URL)) out.push([Opt6.BOOTFILE_URL, utf8(boot.url)]);
  if (boot?.params?.length && asked.has(Opt6.BOOTFILE_PARAM)) out.push([Opt6.BOOTFILE_PARAM, lengthPrefixed(boot.params)]);
  const vendor = first(client.options, Opt6.VENDOR_CLASS);
  if (vendor && vendorClasses(client.options).some((v) => v.startsWith('HTTPClient'))) out.push(vendorClassOption(vendor.readUInt32BE(0), ['HTTPClient']));
  return out;
}

/** The reply wrapped back in one RELAY-REPL per relay, each with its INTERFACE-ID echoed (RFC 8415 19.3). */
function wrap(reply: ClientMessage, relays: readonly RelayMessage[]): Dhcp6Message {
  let out: Dhcp6Message = reply;
  for (const r of [...relays].reverse()) {
    const interfaceId = first(r.options, Opt6.INTERFACE_ID);
    out = { type: Msg.RELAY_REPL, hopCount: r.hopCount, linkAddress: r.linkAddress, peerAddress: r.peerAddress, options: interfaceId ? [[Opt6.INTERFACE_ID, interfaceId]] : [], message: out };
  }
  return out;
}

export async function decide6(message: Dhcp6Message, from: Peer, view: Policy6View): Promise<Decision6> {
  const unwrapped = unwrap(message);
  if (typeof unwrapped === 'string') return { ignored: unwrapped };
  const { relays, client } = unwrapped;
  const rule = SERVER_ID_RULE[client.type];
  if (!rule) return { ignored: `${msgName(client.type)} is not a client message` };
  const clientId = first(client.options, Opt6.CLIENTID);
  if (!clientId && client.type !== Msg.INFORMATION_REQUEST) return { ignored: `${msgName(client.type)} without a Client Identifier` };
  const serverId = first(client.options, Opt6.SERVERID);
  if (rule === 'absent' && serverId) return { ignored: `${msgName(client.type)} must not name a server` };
  if (rule === 'required' && !serverId) return { ignored: `${msgName(client.type)} names no server` };
  if (serverId && !serverId.equals(view.serverDuid)) return { ignored: `client chose server ${serverId.toString('hex')}` };
  const mac = clientMacOf(client, relays, from);
  if (!mac) return { ignored: 'cannot tell the client\'s MAC (no RFC 6939 option, no DUID-LL/LLT, no EUI-64 link-local address)' };
  const subnet = selectSubnet6(view.config.subnets6, relays, from);
  if (typeof subnet === 'string') return { ignored: subnet, mac };
  const x: Exchange = {
    client, relays, subnet, view,
    pool: { name: subnet.name, range: subnet.range },
    holder: { mac, duid: (clientId ?? Buffer.alloc(0)).toString('hex'), iaid: iaNas(client.options)[0]?.iaid ?? 0 },
  };
  const answer = (type: MsgName, options: Option6[]): Decision6 => {
    const head: Option6[] = [[Opt6.SERVERID, view.serverDuid]];
    if (clientId) head.push([Opt6.CLIENTID, clientId]);
    const reply: ClientMessage = { type: Msg[type], transactionId: client.transactionId, options: [...head, ...options] };
    return { reply: wrap(reply, relays), to: from, subnet: subnet.name, mac, type, relayed: relays.length > 0 };
  };
  const heldAddresses = (): string[] => iaNas(client.options).flatMap((ia) => iaAddresses(ia.options).map((a) => a.address));

  // Releases and declines only touch this client's own leases, whoever it is (as for DHCPv4).
  if (client.type === Msg.RELEASE) {
    for (const a of heldAddresses()) await view.leases.release(x.holder, a);
    return answer('REPLY', [statusOption(Status.SUCCESS, 'released')]);
  }
  if (client.type === Msg.DECLINE) {
    for (const a of heldAddresses()) await view.leases.decline(x.holder, a, view.now() + subnet.validLifetime * 1000);
    return answer('REPLY', [statusOption(Status.SUCCESS, 'declined')]);
  }

  const target = await view.targets.lookup(mac);
  if (!target) return { ignored: 'MAC is not being provisioned', mac };
  switch (client.type) {
    case Msg.SOLICIT: {
      const rapid = view.config.dhcp6.rapidCommit && first(client.options, Opt6.RAPID_COMMIT) !== undefined;
      const ias = await assign(x, rapid);
      if (rapid) return answer('REPLY', [...ias, [Opt6.RAPID_COMMIT, Buffer.alloc(0)], ...configOptions(x, target)]);
      return answer('ADVERTISE', [...ias, [Opt6.PREFERENCE, PREFERENCE_MAX], ...configOptions(x, target)]);
    }
    case Msg.REQUEST:
    case Msg.RENEW:
    case Msg.REBIND:
      return answer('REPLY', [...(await assign(x, true)), ...configOptions(x, target)]);
    case Msg.CONFIRM: {
      // RFC 8415 18.3.3: only whether the addresses are on this link; no addresses, no answer.
      const held = heldAddresses();
      if (!held.length) return { ignored: 'CONFIRM names no address', mac };
      const prefix = parsePrefix6(subnet.prefix)!;
      const onLink = held.every((a) => inPrefix6(a, prefix));
      return answer('REPLY', [statusOption(onLink ? Status.SUCCESS : Status.NOT_ON_LINK, onLink ? 'on link' : `not on link ${subnet.prefix}`)]);
    }
    default:
      // INFORMATION-REQUEST: configuration and the boot file, no addresses (iPXE on a SLAAC-only link).
      return answer('REPLY', configOptions(x, target));
  }
}
