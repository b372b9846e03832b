// DHCPv6 message codec (RFC 8415 messages and options, RFC 5970 network boot options, RFC 6939
// client link-layer address). Only bytes in and bytes out: who gets what is decided in policy.ts.
// Decoding checks every option it knows against its wire shape (lengths, nested options, relayed
// messages), so the readers below can trust what they read; anything else is a Dhcp6DecodeError.
import { bytesOf6, text6 } from '../net6.ts';

export const Msg = {
  SOLICIT: 1, ADVERTISE: 2, REQUEST: 3, CONFIRM: 4, RENEW: 5, REBIND: 6, REPLY: 7, RELEASE: 8, DECLINE: 9,
  RECONFIGURE: 10, INFORMATION_REQUEST: 11, RELAY_FORW: 12, RELAY_REPL: 13,
} as const;
export type MsgName = keyof typeof Msg;
const MSG_NAMES = new Map<number, MsgName>(Object.entries(Msg).map(([k, v]) => [v, k as MsgName]));
export const msgName = (type: number): string => MSG_NAMES.get(type) ?? `type ${type}`;

export const Opt6 = {
  CLIENTID: 1, SERVERID: 2, IA_NA: 3, IA_TA: 4, IAADDR: 5, ORO: 6, PREFERENCE: 7, ELAPSED_TIME: 8, RELAY_MSG: 9,
  STATUS_CODE: 13, RAPID_COMMIT: 14, USER_CLASS: 15, VENDOR_CLASS: 16, VENDOR_OPTS: 17, INTERFACE_ID: 18,
  DNS_SERVERS: 23, DOMAIN_LIST: 24, NTP_SERVER: 56, BOOTFILE_URL: 59, BOOTFILE_PARAM: 60, CLIENT_ARCH_TYPE: 61,
  NII: 62, CLIENT_LINKLAYER_ADDR: 79,
} as const;

export const Status = { SUCCESS: 0, UNSPEC_FAIL: 1, NO_ADDRS_AVAIL: 2, NO_BINDING: 3, NOT_ON_LINK: 4, USE_MULTICAST: 5 } as const;

/** DUID types (RFC 8415 11, RFC 6355). */
export const Duid = { LLT: 1, EN: 2, LL: 3, UUID: 4 } as const;
const HWTYPE_ETHERNET = 1;
/** NTP server sub-option carrying an address (RFC 5908). */
const NTP_SUBOPTION_SRV_ADDR = 1;
/** Relay nesting beyond this is refused (RFC 8415 HOP_COUNT_LIMIT is 8; some fabrics raise it). */
const MAX_RELAY_DEPTH = 32;

export class Dhcp6DecodeError extends Error {}

/** One option as sent: code and value, in wire order (codes may repeat, e.g. IA_NA). */
export type Option6 = [code: number, data: Buffer];

export interface ClientMessage {
  type: number;
  /** 24 bits. */
  transactionId: number;
  options: Option6[];
}

export interface RelayMessage {
  type: typeof Msg.RELAY_FORW | typeof Msg.RELAY_REPL;
  hopCount: number;
  /** The relay's address on the client's link (:: when it has none there). */
  linkAddress: string;
  /** The address of the client or of the relay below. */
  peerAddress: string;
  /** Every option but RELAY_MSG, whose content is `message`. */
  options: Option6[];
  message: Dhcp6Message;
}

export type Dhcp6Message = ClientMessage | RelayMessage;

export const isRelay = (m: Dhcp6Message): m is RelayMessage => m.type === Msg.RELAY_FORW || m.type === Msg.RELAY_REPL;

function fail(why: string): never {
  throw new Dhcp6DecodeError(why);
}

/** The options of an area, checked TLV by TLV against `area`'s end. */
function readOptions(area: Buffer, where: string, check: (code: number, data: Buffer, where: string) => void = checkOption): Option6[] {
  const out: Option6[] = [];
  let i = 0;
  while (i < area.length) {
    if (i + 4 > area.length) fail(`${where}: an option header is cut short (${area.length - i} bytes left)`);
    const code = area.readUInt16BE(i);
    const len = area.readUInt16BE(i + 2);
    if (i + 4 + len > area.length) fail(`${where}: option ${code} runs past the end (${len} bytes announced, ${area.length - i - 4} left)`);
    const data = Buffer.from(area.subarray(i + 4, i + 4 + len));
    check(code, data, where);
    out.push([code, data]);
    i += 4 + len;
  }
  return out;
}

/** Items each prefixed by a 16-bit length, filling `data` exactly (user class, vendor class, boot params). */
function readLengthPrefixed(data: Buffer, where: string): Buffer[] {
  const items: Buffer[] = [];
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) fail(`${where}: an item length is cut short`);
    const len = data.readUInt16BE(i);
    if (i + 2 + len > data.length) fail(`${where}: an item runs past the end (${len} bytes announced)`);
    items.push(data.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return items;
}

function atLeast(n: number) {
  return (d: Buffer, where: string): void => { if (d.length < n) fail(`${where} has ${d.length} bytes, needs at least ${n}`); };
}
function exactly(n: number) {
  return (d: Buffer, where: string): void => { if (d.length !== n) fail(`${where} has ${d.length} bytes, needs ${n}`); };
}
function multipleOf(n: number, min = 0) {
  return (d: Buffer, where: string): void => {
    if (d.length % n !== 0 || d.length < min) fail(`${where} has ${d.length} bytes, needs a multiple of ${n}${min ? ` (at least ${min})` : ''}`);
  };
}

function checkDuid(d: Buffer, where: string): void {
  // RFC 8415 11.1: a DUID is a 2-byte type and at most 128 bytes of identifier.
  if (d.length < 3 || d.length > 130) fail(`${where}: a DUID of ${d.length} bytes (3 to 130)`);
  const min: Record<number, number> = { [Duid.LLT]: 9, [Duid.EN]: 7, [Duid.LL]: 5 };
  const type = d.readUInt16BE(0);
  if (type === Duid.UUID && d.length !== 18) fail(`${where}: a DUID-UUID of ${d.length} bytes (18)`);
  if (d.length < (min[type] ?? 0)) fail(`${where}: a DUID of type ${type} of ${d.length} bytes (at least ${min[type]})`);
}

/** The wire shape of each option this codec reads or writes; other codes pass as opaque bytes. */
const SHAPES: Record<number, (data: Buffer, where: string) => void> = {
  [Opt6.CLIENTID]: checkDuid,
  [Opt6.SERVERID]: checkDuid,
  [Opt6.IA_NA]: (d, w) => { atLeast(12)(d, w); readOptions(d.subarray(12), `${w} (IA_NA ${d.readUInt32BE(0)})`); },
  [Opt6.IA_TA]: (d, w) => { atLeast(4)(d, w); readOptions(d.subarray(4), `${w} (IA_TA)`); },
  [Opt6.IAADDR]: (d, w) => { atLeast(24)(d, w); readOptions(d.subarray(24), `${w} (IAADDR)`); },
  [Opt6.ORO]: multipleOf(2),
  [Opt6.PREFERENCE]: exactly(1),
  [Opt6.ELAPSED_TIME]: exactly(2),
  [Opt6.STATUS_CODE]: atLeast(2),
  [Opt6.RAPID_COMMIT]: exactly(0),
  [Opt6.USER_CLASS]: (d, w) => { readLengthPrefixed(d, w); },
  [Opt6.VENDOR_CLASS]: (d, w) => { atLeast(4)(d, w); readLengthPrefixed(d.subarray(4), w); },
  [Opt6.DNS_SERVERS]: multipleOf(16),
  [Opt6.NTP_SERVER]: (d, w) => { readOptions(d, `${w} (NTP)`, checkNtpSubOption); },
  [Opt6.BOOTFILE_URL]: atLeast(1),
  [Opt6.BOOTFILE_PARAM]: (d, w) => { readLengthPrefixed(d, w); },
  [Opt6.CLIENT_ARCH_TYPE]: multipleOf(2, 2),
  [Opt6.NII]: exactly(3),
  [Opt6.CLIENT_LINKLAYER_ADDR]: atLeast(3),
};

function checkOption(code: number, data: Buffer, where: string): void {
  SHAPES[code]?.(data, `${where}: option ${code}`);
}

/** NTP sub-options have a code space of their own (RFC 5908). */
function checkNtpSubOption(code: number, data: Buffer, where: string): void {
  if (code === NTP_SUBOPTION_SRV_ADDR && data.length !== 16) fail(`${where}: an NTP server address of ${data.length} bytes`);
}

function decodeAt(buf: Buffer, depth: number): Dhcp6Message {
  const where = depth === 0 ? 'message' : `relayed message at depth ${depth}`;
  if (buf.length < 4) fail(`${where} of ${buf.length} bytes is shorter than a DHCPv6 header`);
  const type = buf[0];
  if (type !== Msg.RELAY_FORW && type !== Msg.RELAY_REPL) {
    return { type, transactionId: buf.readUIntBE(1, 3), options: readOptions(buf.subarray(4), where) };
  }
  if (buf.length < 34) fail(`${where}: a relay message of ${buf.length} bytes is shorter than its 34-byte header`);
  if (depth >= MAX_RELAY_DEPTH) fail(`relay messages nested deeper than ${MAX_RELAY_DEPTH}`);
  const all = readOptions(buf.subarray(34), where);
  const inner = all.filter(([code]) => code === Opt6.RELAY_MSG);
  if (inner.length !== 1) fail(`${where}: a relay message holds ${inner.length} RELAY_MSG options (needs exactly 1)`);
  return {
    type,
    hopCount: buf[1],
    linkAddress: text6(buf, 2),
    peerAddress: text6(buf, 18),
    options: all.filter(([code]) => code !== Opt6.RELAY_MSG),
    message: decodeAt(inner[0][1], depth + 1),
  };
}

export function decodeMessage(buf: Buffer): Dhcp6Message {
  return decodeAt(buf, 0);
}

export function encodeOptions(options: readonly Option6[]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, data] of options) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(code, 0);
    head.writeUInt16BE(data.length, 2);
    parts.push(head, data);
  }
  return Buffer.concat(parts);
}

export function encodeMessage(m: Dhcp6Message): Buffer {
  if (isRelay(m)) {
    const head = Buffer.alloc(34);
    head[0] = m.type;
    head[1] = m.hopCount;
    bytesOf6(m.linkAddress).copy(head, 2);
    bytesOf6(m.peerAddress).copy(head, 18);
    return Buffer.concat([head, encodeOptions([...m.options, [Opt6.RELAY_MSG, encodeMessage(m.message)]])]);
  }
  const head = Buffer.alloc(4);
  head[0] = m.type;
  head.writeUIntBE(m.transactionId & 0xffffff, 1, 3);
  return Buffer.concat([head, encodeOptions(m.options)]);
}

// Typed reads (of options decodeMessage has checked).

export function first(options: readonly Option6[], code: number): Buffer | undefined {
  return options.find(([c]) => c === code)?.[1];
}

export function all(options: readonly Option6[], code: number): Buffer[] {
  return options.filter(([c]) => c === code).map(([, d]) => d);
}

/** The Ethernet MAC a DUID-LL or DUID-LLT carries, as aa:bb:cc:dd:ee:ff. */
export function macOfDuid(duid: Buffer): string | undefined {
  const type = duid.readUInt16BE(0);
  const offset = type === Duid.LL ? 4 : type === Duid.LLT ? 8 : -1;
  if (offset < 0 || duid.readUInt16BE(2) !== HWTYPE_ETHERNET || duid.length !== offset + 6) return undefined;
  return macText(duid.subarray(offset));
}

/** RFC 6939: the client's link-layer address a relay adds (Ethernet only). */
export function macOfLinkLayerOption(data: Buffer): string | undefined {
  return data.readUInt16BE(0) === HWTYPE_ETHERNET && data.length === 8 ? macText(data.subarray(2)) : undefined;
}

function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface IaNa {
  iaid: number;
  t1: number;
  t2: number;
  options: Option6[];
}

export function iaNas(options: readonly Option6[]): IaNa[] {
  return all(options, Opt6.IA_NA).map((d) => ({ iaid: d.readUInt32BE(0), t1: d.readUInt32BE(4), t2: d.readUInt32BE(8), options: readOptions(d.subarray(12), 'IA_NA') }));
}

export interface IaAddress {
  address: string;
  preferred: number;
  valid: number;
  options: Option6[];
}

export function iaAddresses(options: readonly Option6[]): IaAddress[] {
  return all(options, Opt6.IAADDR).map((d) => ({ address: text6(d), preferred: d.readUInt32BE(16), valid: d.readUInt32BE(20), options: readOptions(d.subarray(24), 'IAADDR') }));
}

export function statusOf(options: readonly Option6[]): { code: number; message: string } | undefined {
  const d = first(options, Opt6.STATUS_CODE);
  return d && { code: d.readUInt16BE(0), message: d.subarray(2).toString('utf8') };
}

function u16List(d: Buffer | undefined): number[] {
  const out: number[] = [];
  for (let i = 0; d && i + 1 < d.length; i += 2) out.push(d.readUInt16BE(i));
  return out;
}

/** The option codes the client asked for (ORO). */
export const requestedOptions = (options: readonly Option6[]): number[] => u16List(first(options, Opt6.ORO));

/** RFC 5970 option 61: the client's architecture types, most preferred first. */
export const archTypes = (options: readonly Option6[]): number[] => u16List(first(options, Opt6.CLIENT_ARCH_TYPE));

/** User classes (option 15): iPXE sends "iPXE". */
export function userClasses(options: readonly Option6[]): string[] {
  return all(options, Opt6.USER_CLASS).flatMap((d) => readLengthPrefixed(d, 'USER_CLASS').map((b) => b.toString('latin1')));
}

/** Vendor class data (option 16) of every enterprise: UEFI sends "HTTPClient:Arch:00016…" or "PXEClient:…". */
export function vendorClasses(options: readonly Option6[]): string[] {
  return all(options, Opt6.VENDOR_CLASS).flatMap((d) => readLengthPrefixed(d.subarray(4), 'VENDOR_CLASS').map((b) => b.toString('latin1')));
}

// Builders.

export const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
export const addresses = (list: readonly string[]): Buffer => Buffer.concat(list.map(bytesOf6));

export function duidLl(mac: string): Buffer {
  return Buffer.concat([u16(Duid.LL), u16(HWTYPE_ETHERNET), Buffer.from(mac.replace(/:/g, ''), 'hex')]);
}

export function iaNaOption(iaid: number, t1: number, t2: number, inner: readonly Option6[]): Option6 {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(iaid >>> 0, 0);
  head.writeUInt32BE(t1 >>> 0, 4);
  head.writeUInt32BE(t2 >>> 0, 8);
  return [Opt6.IA_NA, Buffer.concat([head, encodeOptions(inner)])];
}

export function iaAddrOption(address: string, preferred: number, valid: number, inner: readonly Option6[] = []): Option6 {
  const life = Buffer.alloc(8);
  life.writeUInt32BE(preferred >>> 0, 0);
  life.writeUInt32BE(valid >>> 0, 4);
  return [Opt6.IAADDR, Buffer.concat([bytesOf6(address), life, encodeOptions(inner)])];
}

export function statusOption(code: number, message: string): Option6 {
  return [Opt6.STATUS_CODE, Buffer.concat([u16(code), utf8(message)])];
}

export function lengthPrefixed(items: readonly string[]): Buffer {
  return Buffer.concat(items.flatMap((s) => [u16(Buffer.byteLength(s)), utf8(s)]));
}

export function vendorClassOption(enterprise: number, items: readonly string[]): Option6 {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(enterprise >>> 0);
  return [Opt6.VENDOR_CLASS, Buffer.concat([head, lengthPrefixed(items)])];
}

export function ntpOption(servers: readonly string[]): Option6 {
  return [Opt6.NTP_SERVER, encodeOptions(servers.map((s) => [NTP_SUBOPTION_SRV_ADDR, bytesOf6(s)]))];
}
