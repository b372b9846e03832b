// A native RMCP+ client: one UDP socket for every BMC, one session kept per BMC (Open Session, RAKP
// 1–4, Set Session Privilege Level), then each request is one encrypted, authenticated round trip.
// A status inside a session costs a millisecond or two where an ipmitool process costs ~50 ms of CPU.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { BmcTimeout, DriverError } from '../../common/errors.ts';
import { Cmd, NetFn, Payload, RakpStatus, rakpStatusText } from './protocol/constants.ts';
import {
  CIPHER_SUITES, deriveKeys, rakp2AuthCode, rakp3AuthCode, rakp4CheckValue, sessionIntegrityKey, userKey,
  type CipherSuite, type RakpInputs, type SessionKeys,
} from './protocol/crypto.ts';
import { decodePacket, encodeV20, type V20Packet } from './protocol/packet.ts';
import { decodeResponse, encodeRequest } from './protocol/message.ts';
import {
  decodeOpenSessionResponse, decodeRakp2, decodeRakp4, encodeOpenSessionRequest, encodeRakp1, encodeRakp3,
} from './protocol/rakp.ts';
import { bmcLabel, type IpmiTarget, type IpmiTransport, type RawResponse } from './transport.ts';

export interface NativeTransportOptions {
  /** A session unused for this long is opened afresh (BMCs drop idle sessions, often after 60 s). */
  maxIdleMs?: number;
}

interface Session {
  suite: CipherSuite;
  keys: SessionKeys;
  consoleSessionId: number;
  bmcSessionId: number;
  outboundSeq: number;
  rqSeq: number;
  lastUsed: number;
  /** Credentials the session was opened with: a change of driver_info opens a new one. */
  identity: string;
  /** The BMC it is open on (Close Session at shutdown). */
  target: IpmiTarget;
}

type Waiter = (packet: V20Packet) => boolean;

export class NativeTransport implements IpmiTransport {
  readonly name = 'native';
  private socket?: dgram.Socket;
  private opening?: Promise<dgram.Socket>;
  private readonly sessions = new Map<string, Session>();
  private readonly handshakes = new Map<string, Promise<Session>>();
  /** Exchanges waiting for an answer, per BMC (usually one: calls to a BMC are serialised upstream). */
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Cipher suite found to work per BMC when the node leaves it unset. */
  private readonly suiteOf = new Map<string, number>();
  private readonly maxIdleMs: number;

  constructor(opts: NativeTransportOptions = {}) {
    this.maxIdleMs = opts.maxIdleMs ?? 25_000;
  }

  async request(named: IpmiTarget, netFn: number, cmd: number, data: readonly number[] | Buffer): Promise<RawResponse> {
    const target = isIP(named.address) ? named : { ...named, address: await resolve(named) };
    if (target.protocolVersion !== '2.0') throw new DriverError('The native IPMI transport speaks IPMI 2.0 (RMCP+) only; set ipmi_transport to "ipmitool" for IPMI 1.5');
    if (target.bridging) throw new DriverError('The native IPMI transport does not bridge; set ipmi_transport to "ipmitool" for bridged BMCs');
    const key = bmcLabel(target);
    const identity = `${target.username}\0${target.password}\0${target.privilege}\0${target.cipherSuite}`;
    let session = this.sessions.get(key);
    if (session && (session.identity !== identity || Date.now() - session.lastUsed > this.maxIdleMs)) {
      void this.closeSession(target, session);
      session = undefined;
    }
    const fresh = !session;
    try {
      session ??= await this.sessionFor(target, identity);
      return await this.command(target, session, netFn, cmd, Buffer.from(data));
    } catch (err) {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
      // The BMC may have restarted or dropped the session: one new session, one more try.
      if (!fresh && err instanceof BmcTimeout) return this.command(target, await this.sessionFor(target, identity), netFn, cmd, Buffer.from(data));
      throw err;
    }
  }

  /** The BMC's session, opened once however many requests ask for it at the same time. */
  private sessionFor(target: IpmiTarget, identity: string): Promise<Session> {
    const key = bmcLabel(target);
    const existing = this.sessions.get(key);
    if (existing && existing.identity === identity) return Promise.resolve(existing);
    let pending = this.handshakes.get(key);
    if (!pending) {
      pending = this.openSession(target, identity).finally(() => this.handshakes.delete(key));
      this.handshakes.set(key, pending);
    }
    return pending;
  }

  /** Closes every session on its BMC (BMCs hold only a few), then the socket. */
  async close(): Promise<void> {
    const socket = this.socket;
    await Promise.all([...this.sessions.values()].map((s) => this.closeSession(s.target, s)));
    this.sessions.clear();
    this.socket = undefined;
    this.opening = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private async getSocket(): Promise<dgram.Socket> {
    if (this.socket) return this.socket;
    this.opening ??= bindSocket('udp6').catch(() => bindSocket('udp4')).then((socket) => {
      socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
      this.socket = socket;
      return socket;
    });
    return this.opening;
  }

  /** Where to send: a dual-stack socket takes IPv4 addresses in their IPv6-mapped form. */
  private destination(address: string): string {
    return this.socket?.address().family === 'IPv6' && !address.includes(':') ? `::ffff:${address}` : address;
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const address = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
    const key = bmcLabel({ address, port: rinfo.port });
    const waiting = this.waiters.get(key);
    if (!waiting?.size) return;
    const session = this.sessions.get(key);
    const packet = decodePacket(msg, (id) => (session && id === session.consoleSessionId ? session.keys : undefined));
    if (packet?.kind !== 'v20') return;
    for (const waiter of waiting) if (waiter(packet)) return;
  }

  /**
   * Sends what `build` makes until `accept` takes an answer, `target.retries` times more after the
   * first, each wait twice the last: a BMC slower than timeoutMs is answered by its late answer to
   * an earlier transmission (`accept` takes it as well), and is not flooded with retransmissions,
   * each of which a real BMC may treat as a new request (a new session, a new RAKP random).
   */
  private async exchange<T>(target: IpmiTarget, what: string, build: () => Buffer, accept: (p: V20Packet) => T | undefined): Promise<T> {
    const socket = await this.getSocket();
    const key = bmcLabel(target);
    const address = this.destination(target.address);
    let waitedMs = 0;
    for (let attempt = 0; attempt <= target.retries; attempt++) {
      const waitMs = target.timeoutMs * 2 ** attempt;
      waitedMs += waitMs;
      const result = await new Promise<T | undefined>((resolve) => {
        const waiting = this.waiters.get(key) ?? new Set<Waiter>();
        this.waiters.set(key, waiting);
        const done = (value: T | undefined) => {
          clearTimeout(timer);
          waiting.delete(waiter);
          if (!waiting.size && this.waiters.get(key) === waiting) this.waiters.delete(key);
          resolve(value);
        };
        const waiter: Waiter = (packet) => {
          const value = accept(packet);
          if (value === undefined) return false;
          done(value);
          return true;
        };
        const timer = setTimeout(() => done(undefined), waitMs);
        waiting.add(waiter);
        socket.send(build(), target.port, address, (err) => { if (err) done(undefined); });
      });
      if (result !== undefined) return result;
    }
    throw new BmcTimeout(`BMC ${key} did not answer ${what}: no answer after ${waitedMs / 1000} s (${target.retries + 1} attempts, waits from ${target.timeoutMs} ms doubling)`);
  }

  private async openSession(target: IpmiTarget, identity: string): Promise<Session> {
    const key = bmcLabel(target);
    const known = this.suiteOf.get(key);
    const candidates = target.cipherSuite !== null ? [target.cipherSuite] : known ? [known] : [3, 17];
    let lastError: Error | undefined;
    for (const id of candidates) {
      const suite = CIPHER_SUITES[id];
      if (!suite) throw new DriverError(`Cipher suite ${id} is not supported by the native IPMI transport (3 and 17 are)`);
      try {
        const session = await this.handshake(target, suite, identity);
        this.suiteOf.set(key, id);
        this.sessions.set(key, session);
        return session;
      } catch (err) {
        lastError = err as Error;
        if (!(err instanceof NoSuiteMatch)) throw err;
      }
    }
    throw new DriverError(`BMC ${key} accepts none of cipher suites ${candidates.join(', ')}: ${lastError?.message}`);
  }

  private async handshake(target: IpmiTarget, suite: CipherSuite, identity: string): Promise<Session> {
    const key = bmcLabel(target);
    const consoleSessionId = randomBytes(4).readUInt32LE() || 1;
    const tag = randomBytes(1)[0];
    const open = await this.exchange(target, 'Open Session',
      () => encodeV20({ payloadType: Payload.openSessionRequest, sessionId: 0, sessionSeq: 0, payload: encodeOpenSessionRequest({ tag, maxPrivilege: target.privilege, consoleSessionId, auth: suite.auth, integrity: suite.integrity, confidentiality: suite.confidentiality }) }),
      (p) => {
        const r = p.payloadType === Payload.openSessionResponse ? decodeOpenSessionResponse(p.payload) : null;
        return r && r.consoleSessionId === consoleSessionId ? r : undefined;
      });
    if (open.status === RakpStatus.noCipherSuiteMatch || open.status === RakpStatus.invalidAuthAlgorithm
      || open.status === RakpStatus.invalidIntegrityAlgorithm || open.status === RakpStatus.invalidConfidentialityAlgorithm) {
      throw new NoSuiteMatch(`suite ${suite.id}: ${rakpStatusText(open.status)}`);
    }
    if (open.status !== RakpStatus.ok) throw new DriverError(`BMC ${key} refused to open an RMCP+ session: ${rakpStatusText(open.status)}`);
    const rakp: RakpInputs = {
      consoleSessionId, bmcSessionId: open.bmcSessionId, consoleRandom: randomBytes(16), bmcRandom: Buffer.alloc(0), bmcGuid: Buffer.alloc(0),
      role: target.privilege, username: Buffer.from(target.username, 'utf8'),
    };
    const rakp2 = await this.exchange(target, 'RAKP 1',
      () => encodeV20({ payloadType: Payload.rakp1, sessionId: 0, sessionSeq: 0, payload: encodeRakp1({ tag, bmcSessionId: open.bmcSessionId, consoleRandom: rakp.consoleRandom, role: rakp.role, username: rakp.username }) }),
      (p) => {
        const r = p.payloadType === Payload.rakp2 ? decodeRakp2(p.payload) : null;
        return r && isOurs(r, consoleSessionId, tag) ? r : undefined;
      });
    if (rakp2.status === RakpStatus.unauthorizedName) throw new DriverError(`BMC ${key} does not know IPMI user "${target.username}" (RAKP 2: unauthorized name)`);
    if (rakp2.status !== RakpStatus.ok) throw new DriverError(`BMC ${key} refused the session for user "${target.username}": ${rakpStatusText(rakp2.status)}`);
    rakp.bmcRandom = rakp2.bmcRandom;
    rakp.bmcGuid = rakp2.bmcGuid;
    const kuid = userKey(target.password);
    const expected = rakp2AuthCode(suite, kuid, rakp);
    if (rakp2.authCode.length !== expected.length || !timingSafeEqual(rakp2.authCode, expected)) {
      throw new DriverError(`Authentication to BMC ${key} failed for user "${target.username}": wrong password (RAKP 2 HMAC is invalid)`);
    }
    const sik = sessionIntegrityKey(suite, kuid, rakp);
    const keys = deriveKeys(suite, sik);
    const rakp4 = await this.exchange(target, 'RAKP 3',
      () => encodeV20({ payloadType: Payload.rakp3, sessionId: 0, sessionSeq: 0, payload: encodeRakp3({ tag, status: 0, bmcSessionId: open.bmcSessionId, authCode: rakp3AuthCode(suite, kuid, rakp) }) }),
      (p) => {
        const r = p.payloadType === Payload.rakp4 ? decodeRakp4(p.payload) : null;
        return r && isOurs(r, consoleSessionId, tag) ? r : undefined;
      });
    if (rakp4.status !== RakpStatus.ok) throw new DriverError(`BMC ${key} rejected RAKP 3: ${rakpStatusText(rakp4.status)}`);
    const check = rakp4CheckValue(suite, sik, rakp);
    if (rakp4.checkValue.length < check.length || !timingSafeEqual(rakp4.checkValue.subarray(0, check.length), check)) {
      throw new DriverError(`BMC ${key} answered RAKP 4 with a wrong integrity check value (a BMC key (Kg) may be set)`);
    }
    const session: Session = { suite, keys, consoleSessionId, bmcSessionId: open.bmcSessionId, outboundSeq: 0, rqSeq: 0, lastUsed: Date.now(), identity, target };
    // Kept from here on so that the answer to Set Session Privilege Level can be decrypted.
    this.sessions.set(key, session);
    try {
      const res = await this.command(target, session, NetFn.app, Cmd.setSessionPrivilegeLevel, Buffer.from([target.privilege]));
      if (res.completion !== 0) throw new DriverError(`BMC ${key} refused privilege level ${target.privilege} for user "${target.username}" (completion code 0x${res.completion.toString(16)})`);
    } catch (err) {
      this.sessions.delete(key);
      throw err;
    }
    return session;
  }

  private async command(target: IpmiTarget, session: Session, netFn: number, cmd: number, data: Buffer): Promise<RawResponse> {
    session.rqSeq = (session.rqSeq + 1) & 0x3f;
    const rqSeq = session.rqSeq;
    const res = await this.exchange(target, `command netfn 0x${netFn.toString(16)} cmd 0x${cmd.toString(16)}`,
      () => {
        session.outboundSeq = (session.outboundSeq % 0xffffffff) + 1;
        return encodeV20({ payloadType: Payload.ipmi, sessionId: session.bmcSessionId, sessionSeq: session.outboundSeq, payload: encodeRequest({ netFn, cmd, data, rqSeq }) }, session.keys);
      },
      (p) => {
        if (p.payloadType !== Payload.ipmi || p.sessionId !== session.consoleSessionId) return undefined;
        const r = decodeResponse(p.payload);
        return r && r.rqSeq === rqSeq && r.cmd === cmd && r.netFn === (netFn | 1) ? r : undefined;
      });
    session.lastUsed = Date.now();
    return { completion: res.completion, data: res.data };
  }

  /** Best effort: tells the BMC to free the session, without waiting for its answer. */
  /** Sends Close Session (the answer is not awaited: the session is gone for us either way); resolves once sent. */
  private closeSession(target: IpmiTarget, session: Session): Promise<void> {
    this.sessions.delete(bmcLabel(target));
    const data = Buffer.alloc(4);
    data.writeUInt32LE(session.bmcSessionId);
    session.outboundSeq++;
    const packet = encodeV20({ payloadType: Payload.ipmi, sessionId: session.bmcSessionId, sessionSeq: session.outboundSeq, payload: encodeRequest({ netFn: NetFn.app, cmd: Cmd.closeSession, data, rqSeq: (session.rqSeq + 1) & 0x3f }) }, session.keys);
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.send(packet, target.port, this.destination(target.address), () => resolve()));
  }
}

class NoSuiteMatch extends Error {}

/**
 * Whether a RAKP answer is to this handshake: it names our console session, or it is an error for
 * a session the BMC does not know (then it cannot name ours: console session id 0) with our tag.
 */
function isOurs(r: { consoleSessionId: number; tag: number; status: number }, consoleSessionId: number, tag: number): boolean {
  return r.consoleSessionId === consoleSessionId || (r.consoleSessionId === 0 && r.tag === tag && r.status !== RakpStatus.ok);
}

/** One unreferenced socket for every BMC: dual-stack where the host has IPv6, IPv4 otherwise. */
function bindSocket(type: 'udp4' | 'udp6'): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = type === 'udp6' ? dgram.createSocket({ type, ipv6Only: false }) : dgram.createSocket(type);
    socket.once('error', reject);
    socket.bind(0, type === 'udp6' ? '::' : '0.0.0.0', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      socket.unref();
      resolve(socket);
    });
  });
}

async function resolve(target: IpmiTarget): Promise<string> {
  try {
    return (await lookup(target.address)).address;
  } catch (err) {
    throw new DriverError(`Cannot resolve BMC address "${target.address}": ${(err as Error).message}`);
  }
}
