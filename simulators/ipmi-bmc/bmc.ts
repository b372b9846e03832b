// One simulated BMC: an IPMI 2.0 LAN interface on one UDP port. It answers the pre-session commands
// (Get Channel Authentication Capabilities, Get Channel Cipher Suites), opens RMCP+ sessions with
// RAKP (cipher suites 3 and 17), checks integrity and sequence numbers, decrypts, and hands IPMI
// requests to the command handlers. Anything malformed is dropped without an answer. Serial over
// LAN: Activate Payload links a session to the machine's serial port (sol.ts), if it has one.
import dgram from 'node:dgram';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimulatedMachine } from '../machine.ts';
import { DriverError } from '../../common/errors.ts';
import { Cmd, Completion, NetFn, Payload, Privilege, RakpStatus } from '../../drivers/ipmi/protocol/constants.ts';
import {
  CIPHER_SUITES, deriveKeys, rakp2AuthCode, rakp3AuthCode, rakp4CheckValue, sessionIntegrityKey, suiteFor, userKey,
  type CipherSuite, type RakpInputs, type SessionKeys,
} from '../../drivers/ipmi/protocol/crypto.ts';
import { decodePacket, encodeV15, encodeV20, type Packet } from '../../drivers/ipmi/protocol/packet.ts';
import { decodeRequest, encodeResponse, type IpmiRequest } from '../../drivers/ipmi/protocol/message.ts';
import {
  decodeOpenSessionRequest, decodeRakp1, decodeRakp3, encodeOpenSessionResponse, encodeRakp2, encodeRakp4,
} from '../../drivers/ipmi/protocol/rakp.ts';
import { PayloadCompletion, SOL_PAYLOAD } from '../../drivers/ipmi/protocol/sol.ts';
import { BmcState, handleCommand, requiredPrivilege } from './commands.ts';
import { SolLink } from './sol.ts';

export interface BmcOptions {
  machine: SimulatedMachine;
  host: string;
  port: number;
  username: string;
  password: string;
  /** Sessions idle this long are closed (IPMI's default is 60 s). */
  sessionTimeoutMs?: number;
  /** Sessions open at once; more get "insufficient resources". */
  maxSessions?: number;
  /** Cipher suites offered (default 3 and 17); [17] plays a modern BMC that disabled suite 3. */
  cipherSuites?: readonly number[];
}

interface Session {
  bmcSessionId: number;
  consoleSessionId: number;
  suite: CipherSuite;
  maxPrivilege: number;
  privilege: number;
  peer: string;
  rakp?: RakpInputs;
  keys?: SessionKeys;
  inboundSeq: number;
  outboundSeq: number;
  lastActivity: number;
  /** Another session deactivated the SOL payload this one held. */
  solTakenOver?: boolean;
}

/** Cipher suite records of Get Channel Cipher Suites: 0xC0, id, auth, integrity (0x40|n), confidentiality (0x80|n). */
function cipherSuiteRecords(suites: readonly CipherSuite[]): Buffer {
  return Buffer.from(suites.flatMap((s) => [0xc0, s.id, s.auth, 0x40 | s.integrity, 0x80 | s.confidentiality]));
}

/** How long a handshake answer is kept to answer a retransmission of the same request. */
const RETRANSMIT_WINDOW_MS = 30_000;

export class SimulatedBmc {
  private socket?: dgram.Socket;
  private readonly sessions = new Map<number, Session>();
  /**
   * Answers to Open Session, RAKP 1 and RAKP 3 by peer and request bytes. A console that times out
   * sends the same request again; answering it anew (a second session, a new BMC random) would
   * void the first answer, which a console on a slow link takes, and its next message would fail
   * with "invalid session ID". A retransmission gets the answer the original got.
   */
  private readonly handshakeAnswers = new Map<string, { at: number; answer: Buffer | null }>();
  private readonly state: BmcState;
  private readonly kuid: Buffer;
  private readonly sessionTimeoutMs: number;
  private readonly maxSessions: number;
  private readonly suites: CipherSuite[];
  private readonly suiteRecords: Buffer;
  /** The activated SOL payload (one instance), and the session that holds it. */
  private sol?: { link: SolLink; sessionId: number };
  port: number;

  constructor(private readonly opts: BmcOptions) {
    this.port = opts.port;
    this.state = new BmcState(opts.machine, guidBytes(opts.machine.uuid));
    this.kuid = userKey(opts.password);
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 60_000;
    this.maxSessions = opts.maxSessions ?? 32;
    this.suites = (opts.cipherSuites ?? [3, 17]).map((id) => {
      const suite = CIPHER_SUITES[id];
      if (!suite) throw new Error(`The IPMI simulator offers cipher suites ${Object.keys(CIPHER_SUITES).join(' and ')}, not ${id}`);
      return suite;
    });
    this.suiteRecords = cipherSuiteRecords(this.suites);
  }

  /** Cold and warm resets asked of this controller. */
  get resets(): number {
    return this.state.resets;
  }

  get machine(): SimulatedMachine {
    return this.opts.machine;
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket(this.opts.host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      this.receive(msg, rinfo).catch(() => {});
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => reject(new DriverError(`IPMI simulator cannot listen on UDP ${this.opts.host}:${this.opts.port}: ${err.message}`)));
      socket.bind(this.opts.port, this.opts.host, () => {
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        resolve();
      });
    });
    this.port = socket.address().port;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.endSol(false);
    this.sessions.clear();
    this.handshakeAnswers.clear();
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Sessions currently open (for tests and the CLI's status). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private async receive(msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const peer = `${rinfo.address}:${rinfo.port}`;
    const packet = decodePacket(msg, (id) => {
      const s = this.sessions.get(id);
      return s && s.peer === peer ? s.keys : undefined;
    });
    if (!packet) return;
    const reply = await this.answer(packet, peer);
    if (reply && this.socket) this.socket.send(reply, rinfo.port, rinfo.address);
  }

  private async answer(packet: Packet, peer: string): Promise<Buffer | null> {
    if (packet.kind === 'v15') {
      if (packet.sessionId !== 0) return null;
      const req = decodeRequest(packet.payload);
      if (!req) return null;
      const res = this.presession(req);
      return encodeV15({ sessionSeq: 0, sessionId: 0, payload: res });
    }
    switch (packet.payloadType) {
      case Payload.openSessionRequest: return this.onceFor(peer, packet.payloadType, packet.payload, () => this.openSession(packet.payload, peer));
      case Payload.rakp1: return this.onceFor(peer, packet.payloadType, packet.payload, () => this.rakp1(packet.payload, peer));
      case Payload.rakp3: return this.onceFor(peer, packet.payloadType, packet.payload, () => this.rakp3(packet.payload, peer));
      case Payload.ipmi: case Payload.sol: break;
      default: return null;
    }
    if (packet.sessionId === 0) {
      if (packet.payloadType !== Payload.ipmi) return null;
      const req = decodeRequest(packet.payload);
      if (!req) return null;
      return encodeV20({ payloadType: Payload.ipmi, sessionId: 0, sessionSeq: 0, payload: this.presession(req) });
    }
    const session = this.sessions.get(packet.sessionId);
    if (!session || !session.keys || session.peer !== peer) return null;
    if (session.suite.integrity !== 0 && !packet.authenticated) return null;
    if (session.suite.confidentiality !== 0 && !packet.encrypted) return null;
    if (!this.acceptSequence(session, packet.sessionSeq)) return null;
    session.lastActivity = Date.now();
    if (packet.payloadType === Payload.sol) {
      const ack = this.sol?.sessionId === session.bmcSessionId ? this.sol.link.receive(packet.payload) : null;
      return ack && this.sessionPacket(session, Payload.sol, ack);
    }
    const req = decodeRequest(packet.payload);
    if (!req) return null;
    return this.sessionPacket(session, Payload.ipmi, await this.inSession(session, req));
  }

  /** A payload in the session's next outbound packet, encrypted and signed as its suite says. */
  private sessionPacket(session: Session, payloadType: number, payload: Buffer): Buffer {
    session.outboundSeq = (session.outboundSeq % 0xffffffff) + 1;
    return encodeV20({ payloadType, sessionId: session.consoleSessionId, sessionSeq: session.outboundSeq, payload }, session.keys);
  }

  /** Sends a packet the BMC starts (SOL characters) to the session's console. */
  private sendTo(session: Session, payloadType: number, payload: Buffer): void {
    if (!this.socket || !this.sessions.has(session.bmcSessionId)) return;
    const at = session.peer.lastIndexOf(':');
    this.socket.send(this.sessionPacket(session, payloadType, payload), Number(session.peer.slice(at + 1)), session.peer.slice(0, at));
  }

  /** Activate Payload (§24.1) of SOL instance 1: links the session to the machine's serial port. */
  private activateSol(session: Session, req: IpmiRequest): Buffer {
    if (req.data.length < 6) return encodeResponse(req, Completion.requestLengthInvalid);
    if ((req.data[0] & 0x3f) !== SOL_PAYLOAD || (req.data[1] & 0x0f) !== 1) return encodeResponse(req, Completion.invalidDataField);
    const machine = this.opts.machine;
    if (!machine.openSerial) return encodeResponse(req, PayloadCompletion.disabled);
    // A holder whose session is gone (closed, expired) no longer holds it.
    if (this.sol && this.sessions.has(this.sol.sessionId)) return encodeResponse(req, PayloadCompletion.alreadyActive);
    this.endSol(false);
    session.solTakenOver = false;
    const link = new SolLink({ openSerial: () => machine.openSerial!(), send: (payload) => this.sendTo(session, Payload.sol, payload) });
    this.sol = { link, sessionId: session.bmcSessionId };
    // No auxiliary data; inbound and outbound payloads of up to 255 bytes; SOL on this same port; no VLAN.
    const data = Buffer.alloc(12);
    data.writeUInt16LE(255, 4);
    data.writeUInt16LE(255, 6);
    data.writeUInt16LE(this.port, 8);
    data.writeUInt16LE(0xffff, 10);
    return encodeResponse(req, Completion.ok, data);
  }

  /** Deactivate Payload (§24.2): from any session, as `ipmitool sol deactivate` ends a session another client left. */
  private deactivateSol(session: Session, req: IpmiRequest): Buffer {
    if (req.data.length < 2) return encodeResponse(req, Completion.requestLengthInvalid);
    if ((req.data[0] & 0x3f) !== SOL_PAYLOAD || (req.data[1] & 0x0f) !== 1) return encodeResponse(req, Completion.invalidDataField);
    if (!this.opts.machine.openSerial) return encodeResponse(req, PayloadCompletion.disabled);
    // A session whose payload another one ended has nothing left to end: its ipmitool, exiting
    // late, must not end the payload of the console that came after it.
    if (!this.sol || session.solTakenOver) return encodeResponse(req, PayloadCompletion.alreadyDeactivated);
    const holder = this.sessions.get(this.sol.sessionId);
    // The holder is told only when another session ends its payload (the holder asking knows).
    if (holder && holder !== session) holder.solTakenOver = true;
    this.endSol(holder !== undefined && holder !== session);
    return encodeResponse(req, Completion.ok);
  }

  private endSol(tellConsole: boolean): void {
    this.sol?.link.close(tellConsole);
    this.sol = undefined;
  }

  /** Forgets a session, and the SOL payload it held. */
  private dropSession(id: number): void {
    this.sessions.delete(id);
    if (this.sol?.sessionId === id) this.endSol(false);
  }

  /** Answers a handshake request once; the same bytes from the same peer again get the same answer. */
  private onceFor(peer: string, type: number, payload: Buffer, answer: () => Buffer | null): Buffer | null {
    const now = Date.now();
    for (const [k, v] of this.handshakeAnswers) {
      if (now - v.at <= RETRANSMIT_WINDOW_MS) break;
      this.handshakeAnswers.delete(k);
    }
    const key = `${peer}|${type}|${payload.toString('hex')}`;
    const seen = this.handshakeAnswers.get(key);
    if (seen) return seen.answer;
    const fresh = answer();
    this.handshakeAnswers.set(key, { at: now, answer: fresh });
    return fresh;
  }

  /** A 32-entry window around the highest sequence number seen, as the spec allows (§6.12.13). */
  private acceptSequence(session: Session, seq: number): boolean {
    if (seq === 0) return false;
    const delta = seq - session.inboundSeq;
    if (delta > 32 || delta < -16) return false;
    if (delta > 0) session.inboundSeq = seq;
    return true;
  }

  /** Commands allowed outside a session. */
  private presession(req: IpmiRequest): Buffer {
    if (req.netFn === NetFn.app && req.cmd === Cmd.getChannelAuthCapabilities) {
      // channel 1; IPMI 2.0 extended data; non-null user names (and null ones when the user is unnamed);
      // IPMI 2.0 connections supported; no OEM.
      const login = this.opts.username === '' ? 0x02 : 0x04;
      return encodeResponse(req, Completion.ok, [0x01, 0x80, login, 0x02, 0, 0, 0, 0]);
    }
    if (req.netFn === NetFn.app && req.cmd === Cmd.getChannelCipherSuites) {
      if (req.data.length < 3) return encodeResponse(req, Completion.requestLengthInvalid);
      if ((req.data[1] & 0x3f) !== Payload.ipmi) return encodeResponse(req, Completion.invalidDataField);
      const index = req.data[2] & 0x3f;
      return encodeResponse(req, Completion.ok, Buffer.concat([Buffer.from([0x01]), this.suiteRecords.subarray(index * 16, index * 16 + 16)]));
    }
    if (req.netFn === NetFn.app && (req.cmd === Cmd.getDeviceGuid || req.cmd === 0x37)) return encodeResponse(req, Completion.ok, this.state.guid);
    return encodeResponse(req, Completion.insufficientPrivilege);
  }

  private expireSessions(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now - s.lastActivity > this.sessionTimeoutMs) this.dropSession(id);
  }

  private openSession(payload: Buffer, peer: string): Buffer | null {
    const req = decodeOpenSessionRequest(payload);
    if (!req) return null;
    const reply = (status: number, session?: Session) => encodeV20({
      payloadType: Payload.openSessionResponse, sessionId: 0, sessionSeq: 0,
      payload: encodeOpenSessionResponse({
        tag: req.tag, status, maxPrivilege: session?.maxPrivilege ?? 0, consoleSessionId: req.consoleSessionId,
        bmcSessionId: session?.bmcSessionId ?? 0, auth: req.auth, integrity: req.integrity, confidentiality: req.confidentiality,
      }),
    });
    const suite = suiteFor(req.auth, req.integrity, req.confidentiality);
    if (!suite || !this.suites.includes(suite)) return reply(RakpStatus.noCipherSuiteMatch);
    // Requested maximum privilege: 0 means "the highest allowed"; both forms are accepted.
    if (req.maxPrivilege > Privilege.oem) return reply(RakpStatus.invalidRole);
    if (req.consoleSessionId === 0) return reply(RakpStatus.invalidSessionId);
    this.expireSessions();
    // A console retrying its Open Session replaces its unfinished attempt.
    for (const [id, s] of this.sessions) if (s.peer === peer && s.consoleSessionId === req.consoleSessionId && !s.keys) this.sessions.delete(id);
    // When full, an unfinished handshake gives way (stray or hostile Open Sessions cannot lock consoles out).
    if (this.sessions.size >= this.maxSessions) {
      const stale = [...this.sessions.values()].filter((s) => !s.keys).sort((a, b) => a.lastActivity - b.lastActivity)[0];
      if (!stale) return reply(RakpStatus.insufficientResources);
      this.sessions.delete(stale.bmcSessionId);
    }
    const session: Session = {
      bmcSessionId: this.newSessionId(), consoleSessionId: req.consoleSessionId, suite,
      maxPrivilege: req.maxPrivilege === 0 ? Privilege.administrator : Math.min(req.maxPrivilege, Privilege.administrator),
      privilege: Privilege.user, peer, inboundSeq: 0, outboundSeq: 0, lastActivity: Date.now(),
    };
    this.sessions.set(session.bmcSessionId, session);
    return reply(RakpStatus.ok, session);
  }

  private newSessionId(): number {
    for (;;) {
      const id = randomBytes(4).readUInt32LE();
      if (id !== 0 && !this.sessions.has(id)) return id;
    }
  }

  private rakp1(payload: Buffer, peer: string): Buffer | null {
    const req = decodeRakp1(payload);
    if (!req) {
      // A name longer than 16 bytes is the one malformed RAKP 1 with an error of its own.
      if (payload.length >= 28 && payload[27] > 16) return this.rakp2Error(payload[0], payload.readUInt32LE(4), RakpStatus.invalidNameLength);
      return null;
    }
    const session = this.sessions.get(req.bmcSessionId);
    if (!session || session.peer !== peer || session.keys) return this.rakp2Error(req.tag, 0, RakpStatus.invalidSessionId);
    const fail = (status: number) => {
      this.sessions.delete(session.bmcSessionId);
      return this.rakp2Error(req.tag, session.consoleSessionId, status);
    };
    const requested = req.role & 0x0f;
    if (requested < Privilege.callback || requested > Privilege.oem) return fail(RakpStatus.invalidRole);
    if (requested > session.maxPrivilege) return fail(RakpStatus.unauthorizedRole);
    if (!req.username.equals(Buffer.from(this.opts.username, 'utf8'))) return fail(RakpStatus.unauthorizedName);
    session.rakp = {
      consoleSessionId: session.consoleSessionId, bmcSessionId: session.bmcSessionId, consoleRandom: req.consoleRandom,
      bmcRandom: randomBytes(16), bmcGuid: this.state.guid, role: req.role, username: req.username,
    };
    session.privilege = requested;
    session.lastActivity = Date.now();
    return encodeV20({
      payloadType: Payload.rakp2, sessionId: 0, sessionSeq: 0,
      payload: encodeRakp2({
        tag: req.tag, status: RakpStatus.ok, consoleSessionId: session.consoleSessionId, bmcRandom: session.rakp.bmcRandom,
        bmcGuid: session.rakp.bmcGuid, authCode: rakp2AuthCode(session.suite, this.kuid, session.rakp),
      }),
    });
  }

  private rakp2Error(tag: number, consoleSessionId: number, status: number): Buffer {
    return encodeV20({
      payloadType: Payload.rakp2, sessionId: 0, sessionSeq: 0,
      payload: encodeRakp2({ tag, status, consoleSessionId, bmcRandom: Buffer.alloc(0), bmcGuid: Buffer.alloc(0), authCode: Buffer.alloc(0) }),
    });
  }

  private rakp3(payload: Buffer, peer: string): Buffer | null {
    const req = decodeRakp3(payload);
    if (!req) return null;
    const session = this.sessions.get(req.bmcSessionId);
    if (!session || session.peer !== peer || !session.rakp || session.keys) return null;
    const reply = (status: number, checkValue: Buffer = Buffer.alloc(0)) => encodeV20({
      payloadType: Payload.rakp4, sessionId: 0, sessionSeq: 0,
      payload: encodeRakp4({ tag: req.tag, status, consoleSessionId: session.consoleSessionId, checkValue }),
    });
    // The console refused our RAKP 2 (wrong password on its side): the session is over.
    if (req.status !== RakpStatus.ok) {
      this.sessions.delete(session.bmcSessionId);
      return null;
    }
    const expected = rakp3AuthCode(session.suite, this.kuid, session.rakp);
    if (req.authCode.length !== expected.length || !timingSafeEqual(req.authCode, expected)) {
      this.sessions.delete(session.bmcSessionId);
      return reply(RakpStatus.invalidIntegrityCheck);
    }
    const sik = sessionIntegrityKey(session.suite, this.kuid, session.rakp);
    session.keys = deriveKeys(session.suite, sik);
    session.lastActivity = Date.now();
    return reply(RakpStatus.ok, rakp4CheckValue(session.suite, sik, session.rakp));
  }

  private async inSession(session: Session, req: IpmiRequest): Promise<Buffer> {
    if (req.netFn === NetFn.app && req.cmd === Cmd.setSessionPrivilegeLevel) {
      const wanted = req.data[0] ?? 0;
      if (wanted === 0) return encodeResponse(req, Completion.ok, [session.privilege]);
      if (wanted < Privilege.user || wanted > Privilege.oem) return encodeResponse(req, Completion.invalidDataField);
      // 0x81: requested level not available for this user
      if (wanted > session.maxPrivilege || wanted > (session.rakp!.role & 0x0f)) return encodeResponse(req, 0x81);
      session.privilege = wanted;
      return encodeResponse(req, Completion.ok, [wanted]);
    }
    if (req.netFn === NetFn.app && req.cmd === Cmd.closeSession) {
      if (req.data.length < 4) return encodeResponse(req, Completion.requestLengthInvalid);
      const id = req.data.readUInt32LE(0);
      if (id !== session.bmcSessionId && !this.sessions.has(id)) return encodeResponse(req, 0x87); // invalid session ID
      this.dropSession(id);
      return encodeResponse(req, Completion.ok);
    }
    if (req.netFn === NetFn.app && (req.cmd === Cmd.getChannelAuthCapabilities || req.cmd === Cmd.getChannelCipherSuites)) return this.presession(req);
    if (session.privilege < requiredPrivilege(req.netFn, req.cmd)) return encodeResponse(req, Completion.insufficientPrivilege);
    if (req.netFn === NetFn.app && req.cmd === Cmd.activatePayload) return this.activateSol(session, req);
    if (req.netFn === NetFn.app && req.cmd === Cmd.deactivatePayload) return this.deactivateSol(session, req);
    const result = await handleCommand(this.state, req.netFn, req.cmd, req.data);
    return encodeResponse(req, result.completion, result.data ?? []);
  }
}

/** The machine's UUID as the 16 bytes of the BMC GUID (least significant byte first, as IPMI sends GUIDs). */
function guidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  const bytes = /^[0-9a-f]{32}$/i.test(hex) ? Buffer.from(hex, 'hex') : randomBytes(16);
  return Buffer.from(Uint8Array.from(bytes).reverse());
}
