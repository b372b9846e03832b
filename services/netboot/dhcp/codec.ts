// DHCPv4 packet codec (RFC 2131 fixed header, RFC 2132 options, RFC 3396 long options, option 52
// overload). Only bytes in and bytes out: who gets what is decided in policy.ts.
import { ipToBuffer, ipFromBuffer } from '../net.ts';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
const HEADER_LENGTH = 236;
/** BOOTP replies are padded to 300 bytes: some PXE ROMs drop shorter packets. */
const MIN_PACKET = 300;

export const MessageType = {
  DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;
const MESSAGE_NAMES = new Map<number, MessageTypeName>(Object.entries(MessageType).map(([k, v]) => [v, k as MessageTypeName]));

export const Opt = {
  PAD: 0, SUBNET_MASK: 1, ROUTER: 3, DNS: 6, HOSTNAME: 12, DOMAIN_NAME: 15, BROADCAST: 28,
  VENDOR_SPECIFIC: 43, REQUESTED_IP: 50, LEASE_TIME: 51, OVERLOAD: 52, MESSAGE_TYPE: 53, SERVER_ID: 54,
  PARAMETER_LIST: 55, MESSAGE: 56, MAX_SIZE: 57, RENEWAL_TIME: 58, REBINDING_TIME: 59, VENDOR_CLASS: 60,
  CLIENT_ID: 61, TFTP_SERVER: 66, BOOTFILE: 67, USER_CLASS: 77, RELAY_AGENT: 82, CLIENT_ARCH: 93,
  CLIENT_NDI: 94, UUID_GUID: 97, SUBNET_SELECTION: 118, IPXE_ENCAP: 175, END: 255,
} as const;

/** Relay agent information sub-option (RFC 3527) that names the client's link. */
export const RELAY_LINK_SELECTION = 5;

export class DhcpDecodeError extends Error {}

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte client hardware address field as sent. */
  chaddr: Buffer;
  sname: string;
  file: string;
  /** Options in the order they appeared (repeated codes concatenated, RFC 3396). */
  options: Map<number, Buffer>;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
}

/** Reads an option area into `into`; returns false when END was not seen (allowed, but noted). */
function readOptions(area: Buffer, into: Map<number, Buffer>, where: string): void {
  let i = 0;
  while (i < area.length) {
    const code = area[i];
    if (code === Opt.PAD) { i += 1; continue; }
    if (code === Opt.END) return;
    if (i + 1 >= area.length) throw new DhcpDecodeError(`option ${code} in ${where} has no length byte`);
    const len = area[i + 1];
    if (i + 2 + len > area.length) throw new DhcpDecodeError(`option ${code} in ${where} runs past the end (${len} bytes announced)`);
    const value = area.subarray(i + 2, i + 2 + len);
    const prior = into.get(code);
    into.set(code, prior ? Buffer.concat([prior, value]) : Buffer.from(value));
    i += 2 + len;
  }
}

export function decodePacket(buf: Buffer): DhcpPacket {
  if (buf.length < HEADER_LENGTH + 4) throw new DhcpDecodeError(`packet of ${buf.length} bytes is shorter than a DHCP header`);
  const op = buf[0];
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DhcpDecodeError(`op ${op} is neither BOOTREQUEST nor BOOTREPLY`);
  const hlen = buf[2];
  if (hlen > 16) throw new DhcpDecodeError(`hardware address length ${hlen} exceeds 16`);
  if (buf.readUInt32BE(HEADER_LENGTH) !== MAGIC_COOKIE) throw new DhcpDecodeError('missing DHCP magic cookie');
  const options = new Map<number, Buffer>();
  readOptions(buf.subarray(HEADER_LENGTH + 4), options, 'options');
  let sname = cString(buf.subarray(44, 108));
  let file = cString(buf.subarray(108, 236));
  // Option 52: the file and/or sname fields carry more options instead of names.
  const overload = options.get(Opt.OVERLOAD)?.[0] ?? 0;
  if (overload & 1) { readOptions(buf.subarray(108, 236), options, 'file field'); file = ''; }
  if (overload & 2) { readOptions(buf.subarray(44, 108), options, 'sname field'); sname = ''; }
  return {
    op,
    htype: buf[1],
    hlen,
    hops: buf[3],
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipFromBuffer(buf, 12),
    yiaddr: ipFromBuffer(buf, 16),
    siaddr: ipFromBuffer(buf, 20),
    giaddr: ipFromBuffer(buf, 24),
    chaddr: Buffer.from(buf.subarray(28, 44)),
    sname,
    file,
    options,
  };
}

function writeOption(parts: Buffer[], code: number, value: Buffer): void {
  // RFC 3396: a value longer than 255 bytes is split into consecutive options of the same code.
  if (value.length === 0) { parts.push(Buffer.from([code, 0])); return; }
  for (let i = 0; i < value.length; i += 255) {
    const chunk = value.subarray(i, i + 255);
    parts.push(Buffer.from([code, chunk.length]), chunk);
  }
}

export function encodePacket(p: DhcpPacket): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH + 4);
  header[0] = p.op;
  header[1] = p.htype;
  header[2] = p.hlen;
  header[3] = p.hops;
  header.writeUInt32BE(p.xid >>> 0, 4);
  header.writeUInt16BE(p.secs, 8);
  header.writeUInt16BE(p.flags, 10);
  ipToBuffer(p.ciaddr).copy(header, 12);
  ipToBuffer(p.yiaddr).copy(header, 16);
  ipToBuffer(p.siaddr).copy(header, 20);
  ipToBuffer(p.giaddr).copy(header, 24);
  p.chaddr.copy(header, 28, 0, 16);
  header.write(p.sname.slice(0, 63), 44, 'latin1');
  header.write(p.file.slice(0, 127), 108, 'latin1');
  header.writeUInt32BE(MAGIC_COOKIE, HEADER_LENGTH);
  const parts: Buffer[] = [header];
  // Message type first: some ROMs look for it there.
  const type = p.options.get(Opt.MESSAGE_TYPE);
  if (type) writeOption(parts, Opt.MESSAGE_TYPE, type);
  for (const [code, value] of p.options) if (code !== Opt.MESSAGE_TYPE) writeOption(parts, code, value);
  parts.push(Buffer.from([Opt.END]));
  const out = Buffer.concat(parts);
  return out.length >= MIN_PACKET ? out : Buffer.concat([out, Buffer.alloc(MIN_PACKET - out.length)]);
}

// Typed reads of the options the server cares about.

export function messageType(p: DhcpPacket): MessageTypeName | undefined {
  const v = p.options.get(Opt.MESSAGE_TYPE);
  return v && v.length === 1 ? MESSAGE_NAMES.get(v[0]) : undefined;
}

/** The client's MAC as aa:bb:cc:dd:ee:ff (Ethernet only). */
export function clientMac(p: DhcpPacket): string | undefined {
  if (p.htype !== 1 || p.hlen !== 6) return undefined;
  return [...p.chaddr.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function optionIp(p: DhcpPacket, code: number): string | undefined {
  const v = p.options.get(code);
  return v && v.length === 4 ? ipFromBuffer(v, 0) : undefined;
}

export function optionString(p: DhcpPacket, code: number): string | undefined {
  return p.options.get(code)?.toString('latin1');
}

/** Option 93 (RFC 4578): the first architecture type the client lists. */
export function clientArch(p: DhcpPacket): number | undefined {
  const v = p.options.get(Opt.CLIENT_ARCH);
  return v && v.length >= 2 ? v.readUInt16BE(0) : undefined;
}

/** Sub-options of an encapsulated option (82, 43, 175): code -> value; throws on overrun. */
export function subOptions(value: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  while (i < value.length) {
    const code = value[i];
    if (code === Opt.PAD) { i += 1; continue; }
    if (code === Opt.END) break;
    if (i + 1 >= value.length || i + 2 + value[i + 1] > value.length) throw new DhcpDecodeError(`sub-option ${code} runs past the end`);
    out.set(code, value.subarray(i + 2, i + 2 + value[i + 1]));
    i += 2 + value[i + 1];
  }
  return out;
}

export function encodeSubOptions(entries: Array<[number, Buffer]>): Buffer {
  return Buffer.concat(entries.map(([code, v]) => Buffer.concat([Buffer.from([code, v.length]), v])));
}

/** User class (option 77): iPXE sends the bare string "iPXE"; RFC 3004 clients send length-prefixed items. */
export function userClasses(p: DhcpPacket): string[] {
  const v = p.options.get(Opt.USER_CLASS);
  if (!v || v.length === 0) return [];
  const items: string[] = [];
  let i = 0;
  while (i < v.length) {
    const len = v[i];
    if (len === 0 || i + 1 + len > v.length) return [v.toString('latin1')];
    items.push(v.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  return [...items, v.toString('latin1')];
}

export const u8 = (n: number): Buffer => Buffer.from([n]);
export const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const ips = (list: readonly string[]): Buffer => Buffer.concat(list.map(ipToBuffer));
export const str = (s: string): Buffer => Buffer.from(s, 'latin1');
