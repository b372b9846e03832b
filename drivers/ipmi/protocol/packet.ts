// RMCP framing with the IPMI 1.5 session header (pre-session commands) and the IPMI 2.0 / RMCP+
// session header (IPMI 2.0 §13.6, §13.8), with integrity and confidentiality when a session has keys.
import { decryptPayload, encryptPayload, integrityCode, type SessionKeys } from './crypto.ts';
import { timingSafeEqual } from 'node:crypto';

const RMCP_HEADER = Buffer.from([0x06, 0x00, 0xff, 0x07]);
const AUTH_RMCP_PLUS = 0x06;

export interface V15Packet {
  kind: 'v15';
  authType: number;
  sessionSeq: number;
  sessionId: number;
  payload: Buffer;
}

export interface V20Packet {
  kind: 'v20';
  payloadType: number;
  encrypted: boolean;
  authenticated: boolean;
  sessionId: number;
  sessionSeq: number;
  payload: Buffer;
}

export type Packet = V15Packet | V20Packet;

/** Keys of an established session, by the session ID the receiver sees in the header. */
export type KeyLookup = (sessionId: number) => SessionKeys | undefined;

/** Parses a datagram; null for anything malformed, truncated, unauthenticated where it must be, or forged. */
export function decodePacket(buf: Buffer, keysFor: KeyLookup): Packet | null {
  if (buf.length < 5 || buf[0] !== 0x06 || buf[3] !== 0x07) return null;
  const authType = buf[4];
  if (authType === AUTH_RMCP_PLUS) return decodeV20(buf, keysFor);
  // IPMI 1.5: only authentication type "none" is used (pre-session commands).
  if (authType !== 0 || buf.length < 14) return null;
  const length = buf[13];
  if (buf.length < 14 + length) return null;
  return { kind: 'v15', authType, sessionSeq: buf.readUInt32LE(5), sessionId: buf.readUInt32LE(9), payload: Buffer.from(buf.subarray(14, 14 + length)) };
}

function decodeV20(buf: Buffer, keysFor: KeyLookup): V20Packet | null {
  if (buf.length < 16) return null;
  const typeByte = buf[5];
  const payloadType = typeByte & 0x3f;
  if (payloadType === 0x02) return null; // OEM explicit payloads are not spoken here
  const encrypted = (typeByte & 0x80) !== 0;
  const authenticated = (typeByte & 0x40) !== 0;
  const sessionId = buf.readUInt32LE(6);
  const sessionSeq = buf.readUInt32LE(10);
  const length = buf.readUInt16LE(14);
  if (buf.length < 16 + length) return null;
  let payload = buf.subarray(16, 16 + length);
  const keys = sessionId !== 0 ? keysFor(sessionId) : undefined;
  if (authenticated) {
    if (!keys) return null;
    const icv = keys.suite.icvLength;
    const trailer = buf.subarray(16 + length);
    // trailer: pad (0-3 bytes of 0xff), pad length, next header (0x07), auth code
    if (trailer.length < 2 + icv) return null;
    const signedEnd = buf.length - icv;
    const padLength = buf[signedEnd - 2];
    if (buf[signedEnd - 1] !== 0x07 || padLength > 3 || 16 + length + padLength + 2 !== signedEnd) return null;
    const expected = integrityCode(keys, buf.subarray(4, signedEnd));
    if (!timingSafeEqual(expected, buf.subarray(signedEnd))) return null;
  } else if (sessionId !== 0 && keys && keys.suite.integrity !== 0) {
    return null; // a session with integrity must not take unauthenticated packets
  }
  if (encrypted) {
    if (!keys) return null;
    const plain = decryptPayload(keys, payload);
    if (!plain) return null;
    payload = plain;
  }
  return { kind: 'v20', payloadType, encrypted, authenticated, sessionId, sessionSeq, payload: Buffer.from(payload) };
}

export function encodeV15(p: Omit<V15Packet, 'kind' | 'authType'>): Buffer {
  const header = Buffer.alloc(14);
  RMCP_HEADER.copy(header, 0);
  header[4] = 0;
  header.writeUInt32LE(p.sessionSeq >>> 0, 5);
  header.writeUInt32LE(p.sessionId >>> 0, 9);
  header[13] = p.payload.length;
  return Buffer.concat([header, p.payload]);
}

/** An RMCP+ packet; with keys it is encrypted and authenticated as the session's suite says. */
export function encodeV20(p: { payloadType: number; sessionId: number; sessionSeq: number; payload: Buffer }, keys?: SessionKeys): Buffer {
  const encrypt = Boolean(keys && keys.suite.confidentiality !== 0);
  const authenticate = Boolean(keys && keys.suite.integrity !== 0);
  const body = encrypt ? encryptPayload(keys!, p.payload) : p.payload;
  const header = Buffer.alloc(16);
  RMCP_HEADER.copy(header, 0);
  header[4] = AUTH_RMCP_PLUS;
  header[5] = (encrypt ? 0x80 : 0) | (authenticate ? 0x40 : 0) | p.payloadType;
  header.writeUInt32LE(p.sessionId >>> 0, 6);
  header.writeUInt32LE(p.sessionSeq >>> 0, 10);
  header.writeUInt16LE(body.length, 14);
  if (!authenticate) return Buffer.concat([header, body]);
  // Pad so that everything from the auth type byte through the next header is a multiple of 4.
  const padLength = (4 - ((12 + body.length + 2) % 4)) % 4;
  const signed = Buffer.concat([header, body, Buffer.alloc(padLength, 0xff), Buffer.from([padLength, 0x07])]);
  return Buffer.concat([signed, integrityCode(keys!, signed.subarray(4))]);
}
