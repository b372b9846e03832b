// Who gets what: takes a decoded request and a view of subnets, boot targets and leases, and
// returns the reply to send and where, or the reason for silence. No sockets here.
import type { NetbootConfig, SubnetConfig } from '../config.ts';
import { broadcastOf, inCidr, intToIp, parseCidr } from '../net.ts';
import type { BootTarget, TargetDirectory } from '../targets.ts';
import {
  BOOTREPLY, BOOTREQUEST, MessageType, Opt, RELAY_LINK_SELECTION, clientArch, clientMac, encodeSubOptions, ips, messageType,
  optionIp, optionString, str, subOptions, u32, u8, userClasses, type DhcpPacket, type MessageTypeName,
} from './codec.ts';
import type { LeaseStore } from './leases.ts';

export interface PolicyView {
  config: NetbootConfig;
  targets: TargetDirectory;
  leases: LeaseStore;
  now(): number;
}

export type Decision =
  | { reply: DhcpPacket; to: { address: string; port: number }; broadcast: boolean; subnet: string; mac: string }
  | { ignored: string; mac?: string };

/** Option 93 architecture types (RFC 4578, IANA "Processor Architecture Types"). */
const ARCH = { BIOS: 0, EFI_IA32: 6, EFI_BC: 7, EFI_X64: 9, EFI_ARM64: 11, EFI_X64_HTTP: 16, EFI_ARM64_HTTP: 19 } as const;
export const ZERO = '0.0.0.0';
export const BROADCAST_FLAG = 0x8000;

/** The subnet a request belongs to: link selection (RFC 3527 / option 118), the relay's giaddr, or the direct link. */
export function selectSubnet(config: NetbootConfig, req: DhcpPacket): SubnetConfig | undefined {
  let link: string | undefined;
  const agent = req.options.get(Opt.RELAY_AGENT);
  if (agent) {
    const sel = subOptions(agent).get(RELAY_LINK_SELECTION);
    if (sel?.length === 4) link = intToIp(sel.readUInt32BE(0));
  }
  link ??= optionIp(req, Opt.SUBNET_SELECTION);
  if (!link && req.giaddr !== ZERO) link = req.giaddr;
  if (link) return config.subnets.find((s) => inCidr(link!, parseCidr(s.cidr)!));
  // Not relayed: the client is on the server's own link (or renewing by unicast from its address).
  if (req.ciaddr !== ZERO) return config.subnets.find((s) => inCidr(req.ciaddr, parseCidr(s.cidr)!));
  return config.subnets.find((s) => s.direct);
}

export function serverIdOf(config: NetbootConfig, subnet: SubnetConfig): string {
  return subnet.serverAddress ?? config.serverAddress;
}

export interface ClientKind {
  ipxe: boolean;
  httpClient: boolean;
  pxe: boolean;
  arch: number | undefined;
}

export function clientKind(req: DhcpPacket): ClientKind {
  const vendor = optionString(req, Opt.VENDOR_CLASS) ?? '';
  return {
    ipxe: userClasses(req).includes('iPXE') || req.options.has(Opt.IPXE_ENCAP),
    httpClient: vendor.startsWith('HTTPClient'),
    pxe: vendor.startsWith('PXEClient'),
    arch: clientArch(req),
  };
}

/**
 * The boot file name: iPXE chains to the node's script; other firmware gets the boot record's file,
 * else the iPXE loader for its architecture.
 */
export function bootFile(config: NetbootConfig, kind: ClientKind, target: Pick<BootTarget, 'mac' | 'bootFile'>): string {
  const http = config.http.publicUrl;
  if (kind.ipxe) return `${http}/boot/${target.mac}.ipxe`;
  if (target.bootFile) return target.bootFile;
  if (kind.httpClient || kind.arch === ARCH.EFI_X64_HTTP || kind.arch === ARCH.EFI_ARM64_HTTP) {
    return `${http}/${kind.arch === ARCH.EFI_ARM64_HTTP ? config.bootFiles.uefiArm64 : config.bootFiles.httpClient}`;
  }
  if (kind.arch === ARCH.EFI_ARM64) return config.bootFiles.uefiArm64;
  if (kind.arch === ARCH.EFI_BC || kind.arch === ARCH.EFI_X64 || kind.arch === ARCH.EFI_IA32) return config.bootFiles.uefi;
  return config.bootFiles.bios;
}

export function baseReply(req: DhcpPacket, type: MessageTypeName, serverId: string): DhcpPacket {
  const options = new Map<number, Buffer>([[Opt.MESSAGE_TYPE, u8(MessageType[type])], [Opt.SERVER_ID, ips([serverId])]]);
  return {
    op: BOOTREPLY, htype: req.htype, hlen: req.hlen, hops: 0, xid: req.xid, secs: 0, flags: req.flags,
    ciaddr: ZERO, yiaddr: ZERO, siaddr: ZERO, giaddr: req.giaddr, chaddr: req.chaddr, sname: '', file: '', options,
  };
}

/** The relay's option 82 goes back to it (RFC 3046). */
export function echoRelayAgent(req: DhcpPacket, reply: DhcpPacket): void {
  const agent = req.options.get(Opt.RELAY_AGENT);
  if (agent && req.giaddr !== ZERO) reply.options.set(Opt.RELAY_AGENT, agent);
}

/** What a booting client needs beside its address: next-server, the boot file and the PXE or HTTPClient vendor options. */
export function fillBoot(config: NetbootConfig, server: string, req: DhcpPacket, reply: DhcpPacket, target: BootTarget): void {
  const o = reply.options;
  const kind = clientKind(req);
  reply.siaddr = server;
  reply.file = bootFile(config, kind, target);
  const asked = req.options.get(Opt.PARAMETER_LIST) ?? Buffer.alloc(0);
  if (asked.includes(Opt.TFTP_SERVER)) o.set(Opt.TFTP_SERVER, str(server));
  if (asked.includes(Opt.BOOTFILE)) o.set(Opt.BOOTFILE, str(reply.file));
  if (kind.httpClient) o.set(Opt.VENDOR_CLASS, str('HTTPClient'));
  else if (kind.pxe) {
    o.set(Opt.VENDOR_CLASS, str('PXEClient'));
    // PXE_DISCOVERY_CONTROL = 8: boot the file named here, no boot-server discovery or menu.
    o.set(Opt.VENDOR_SPECIFIC, Buffer.concat([encodeSubOptions([[6, u8(8)]]), u8(Opt.END)]));
  }
  echoRelayAgent(req, reply);
}

/** Network settings, boot fields and, for iPXE, the word that no ProxyDHCP server will answer. */
function fillReply(config: NetbootConfig, subnet: SubnetConfig, req: DhcpPacket, reply: DhcpPacket, target: BootTarget, withLease: boolean): void {
  const cidr = parseCidr(subnet.cidr)!;
  const o = reply.options;
  if (withLease) {
    o.set(Opt.LEASE_TIME, u32(subnet.leaseTime));
    o.set(Opt.RENEWAL_TIME, u32(Math.floor(subnet.leaseTime / 2)));
    o.set(Opt.REBINDING_TIME, u32(Math.floor((subnet.leaseTime * 7) / 8)));
  }
  o.set(Opt.SUBNET_MASK, u32(cidr.mask));
  o.set(Opt.BROADCAST, ips([intToIp(broadcastOf(cidr))]));
  if (subnet.router) o.set(Opt.ROUTER, ips([subnet.router]));
  if (subnet.dns.length) o.set(Opt.DNS, ips(subnet.dns));
  if (subnet.domain) o.set(Opt.DOMAIN_NAME, str(subnet.domain));
  fillBoot(config, serverIdOf(config, subnet), req, reply, target);
  // iPXE waits ~3 s for ProxyDHCP offers unless told there are none (175.176 = 1, "no-pxedhcp").
  if (clientKind(req).ipxe) o.set(Opt.IPXE_ENCAP, encodeSubOptions([[176, u8(1)]]));
}

export function destination(config: NetbootConfig, req: DhcpPacket, nak: boolean): { address: string; port: number; broadcast: boolean } {
  if (req.giaddr !== ZERO) return { address: req.giaddr, port: config.dhcp.port, broadcast: false };
  if (req.ciaddr !== ZERO && !nak) return { address: req.ciaddr, port: config.dhcp.port + 1, broadcast: false };
  return { address: '255.255.255.255', port: config.dhcp.port + 1, broadcast: true };
}

function nak(config: NetbootConfig, req: DhcpPacket, subnet: SubnetConfig, mac: string, why: string): Decision {
  const reply = baseReply(req, 'NAK', serverIdOf(config, subnet));
  reply.options.set(Opt.MESSAGE, str(why));
  // RFC 2131 4.3.2: a NAK through a relay asks it to broadcast to the client.
  if (req.giaddr !== ZERO) reply.flags |= BROADCAST_FLAG;
  echoRelayAgent(req, reply);
  const to = destination(config, req, true);
  return { reply, to: { address: to.address, port: to.port }, broadcast: to.broadcast, subnet: subnet.name, mac };
}

function answer(config: NetbootConfig, req: DhcpPacket, reply: DhcpPacket, subnet: SubnetConfig, mac: string): Decision {
  const to = destination(config, req, false);
  return { reply, to: { address: to.address, port: to.port }, broadcast: to.broadcast, subnet: subnet.name, mac };
}

/** The client's MAC and message type, or why the request is not one a DHCP server answers. */
export function identify(req: DhcpPacket): { mac: string; type: MessageTypeName } | { ignored: string; mac?: string } {
  if (req.op !== BOOTREQUEST) return { ignored: 'not a BOOTREQUEST' };
  const mac = clientMac(req);
  if (!mac) return { ignored: `hardware type ${req.htype}/${req.hlen} is not Ethernet` };
  const type = messageType(req);
  if (!type) return { ignored: 'no DHCP message type (plain BOOTP is not served)', mac };
  return { mac, type };
}

export async function decide(req: DhcpPacket, view: PolicyView): Promise<Decision> {
  const { config } = view;
  const client = identify(req);
  if ('ignored' in client) return client;
  const { mac, type } = client;
  const subnet = selectSubnet(config, req);
  if (!subnet) return { ignored: `no subnet configured for ${req.giaddr !== ZERO ? `relay ${req.giaddr}` : 'the direct link'}`, mac };
  const requested = optionIp(req, Opt.REQUESTED_IP);

  // Releases and declines only touch this client's own leases, whoever it is.
  if (type === 'RELEASE') {
    if (req.ciaddr !== ZERO) await view.leases.release(mac, req.ciaddr);
    return { ignored: 'released', mac };
  }
  if (type === 'DECLINE') {
    if (requested) await view.leases.decline(mac, requested, view.now() + subnet.leaseTime * 1000);
    return { ignored: 'declined', mac };
  }

  const target: BootTarget | undefined = await view.targets.lookup(mac);
  if (!target) return { ignored: 'MAC is not being provisioned', mac };
  const serverId = serverIdOf(config, subnet);
  const pool = { name: subnet.name, range: subnet.range };

  switch (type) {
    case 'DISCOVER': {
      const ip = await view.leases.offer(pool, mac, requested, view.now() + config.dhcp.offerSeconds * 1000);
      if (!ip) return { ignored: `no free address left in subnet ${subnet.name}`, mac };
      const reply = baseReply(req, 'OFFER', serverId);
      reply.yiaddr = ip;
      fillReply(config, subnet, req, reply, target, true);
      return answer(config, req, reply, subnet, mac);
    }
    case 'REQUEST': {
      const chosen = optionIp(req, Opt.SERVER_ID);
      if (chosen && chosen !== serverId) {
        return { ignored: `client chose server ${chosen}`, mac };
      }
      // SELECTING / INIT-REBOOT name the address in option 50; RENEWING / REBINDING use ciaddr.
      const ip = requested ?? (req.ciaddr !== ZERO ? req.ciaddr : undefined);
      if (!ip) return { ignored: 'REQUEST names no address', mac };
      if (!inCidr(ip, parseCidr(subnet.cidr)!)) return nak(config, req, subnet, mac, `${ip} is not on subnet ${subnet.cidr}`);
      const bound = await view.leases.bind(pool, mac, ip, view.now() + subnet.leaseTime * 1000, optionString(req, Opt.HOSTNAME));
      if (!bound) return nak(config, req, subnet, mac, `${ip} is not available`);
      const reply = baseReply(req, 'ACK', serverId);
      reply.yiaddr = ip;
      reply.ciaddr = req.ciaddr;
      fillReply(config, subnet, req, reply, target, true);
      return answer(config, req, reply, subnet, mac);
    }
    case 'INFORM': {
      // RFC 2131 3.4: configuration only, no lease; answered to the client's own address.
      const reply = baseReply(req, 'ACK', serverId);
      reply.ciaddr = req.ciaddr;
      fillReply(config, subnet, req, reply, target, false);
      return answer(config, req, reply, subnet, mac);
    }
    default:
      return { ignored: `${type} is not a client message`, mac };
  }
}
