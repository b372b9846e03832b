// The cipher suites Anvil speaks (3 and 17) and the RMCP+ key arithmetic: RAKP auth codes, SIK,
// K1/K2, the integrity auth code and AES-CBC-128 with IPMI's own padding (IPMI 2.0 §13.28–13.29).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export interface CipherSuite {
  id: number;
  /** Authentication algorithm number (1 RAKP-HMAC-SHA1, 3 RAKP-HMAC-SHA256). */
  auth: number;
  /** Integrity algorithm number (1 HMAC-SHA1-96, 4 HMAC-SHA256-128). */
  integrity: number;
  /** Confidentiality algorithm number (1 AES-CBC-128). */
  confidentiality: number;
  hash: 'sha1' | 'sha256';
  /** Bytes of the integrity auth code on each packet, and of the RAKP 4 check value. */
  icvLength: number;
}

export const CIPHER_SUITES: Readonly<Record<number, CipherSuite>> = {
  3: { id: 3, auth: 1, integrity: 1, confidentiality: 1, hash: 'sha1', icvLength: 12 },
  17: { id: 17, auth: 3, integrity: 4, confidentiality: 1, hash: 'sha256', icvLength: 16 },
};

export function suiteFor(auth: number, integrity: number, confidentiality: number): CipherSuite | undefined {
  return Object.values(CIPHER_SUITES).find((s) => s.auth === auth && s.integrity === integrity && s.confidentiality === confidentiality);
}

export function hmac(hash: CipherSuite['hash'], key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac(hash, key);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Kuid: the user's password, at most 20 bytes (HMAC pads the key with zeros as IPMI does). */
export function userKey(password: string): Buffer {
  return Buffer.from(password, 'utf8').subarray(0, 20);
}

export interface RakpInputs {
  consoleSessionId: number;
  bmcSessionId: number;
  consoleRandom: Buffer;
  bmcRandom: Buffer;
  bmcGuid: Buffer;
  /** The whole requested-role byte of RAKP 1 (privilege and name-only-lookup bit). */
  role: number;
  username: Buffer;
}

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const roleAndName = (i: RakpInputs) => Buffer.concat([Buffer.from([i.role, i.username.length]), i.username]);

/** RAKP 2 key exchange auth code, sent by the BMC and checked by the console. */
export function rakp2AuthCode(suite: CipherSuite, kuid: Buffer, i: RakpInputs): Buffer {
  return hmac(suite.hash, kuid, u32(i.consoleSessionId), u32(i.bmcSessionId), i.consoleRandom, i.bmcRandom, i.bmcGuid, roleAndName(i));
}

/** RAKP 3 key exchange auth code, sent by the console and checked by the BMC. */
export function rakp3AuthCode(suite: CipherSuite, kuid: Buffer, i: RakpInputs): Buffer {
  return hmac(suite.hash, kuid, i.bmcRandom, u32(i.consoleSessionId), roleAndName(i));
}

/** The session integrity key; Kg (the BMC key) defaults to Kuid. */
export function sessionIntegrityKey(suite: CipherSuite, kg: Buffer, i: RakpInputs): Buffer {
  return hmac(suite.hash, kg, i.consoleRandom, i.bmcRandom, roleAndName(i));
}

/** RAKP 4 integrity check value, truncated to the suite's length. */
export function rakp4CheckValue(suite: CipherSuite, sik: Buffer, i: RakpInputs): Buffer {
  return hmac(suite.hash, sik, i.consoleRandom, u32(i.bmcSessionId), i.bmcGuid).subarray(0, suite.icvLength);
}

export interface SessionKeys {
  suite: CipherSuite;
  /** Integrity key. */
  k1: Buffer;
  /** First 16 bytes are the AES-128 key. */
  k2: Buffer;
}

/** K1 and K2: the SIK over the 20-byte constants 0x01… and 0x02…, whatever the hash (ipmitool does so for SHA-256 too). */
export function deriveKeys(suite: CipherSuite, sik: Buffer): SessionKeys {
  return { suite, k1: hmac(suite.hash, sik, Buffer.alloc(20, 1)), k2: hmac(suite.hash, sik, Buffer.alloc(20, 2)) };
}

export function integrityCode(keys: SessionKeys, data: Buffer): Buffer {
  return hmac(keys.suite.hash, keys.k1, data).subarray(0, keys.suite.icvLength);
}

/** AES-CBC-128: IV, then the payload followed by pad bytes 1,2,3… and the pad length, encrypted. */
export function encryptPayload(keys: SessionKeys, payload: Buffer): Buffer {
  const padLength = (16 - ((payload.length + 1) % 16)) % 16;
  const pad = Buffer.from(Array.from({ length: padLength }, (_, n) => n + 1));
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', keys.k2.subarray(0, 16), iv).setAutoPadding(false);
  return Buffer.concat([iv, cipher.update(Buffer.concat([payload, pad, Buffer.from([padLength])])), cipher.final()]);
}

/** The plain payload, or null when the data cannot be an AES-CBC-128 payload. */
export function decryptPayload(keys: SessionKeys, data: Buffer): Buffer | null {
  if (data.length < 32 || data.length % 16 !== 0) return null;
  const decipher = createDecipheriv('aes-128-cbc', keys.k2.subarray(0, 16), data.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
  const padLength = plain[plain.length - 1];
  if (padLength > 15 || padLength + 1 > plain.length) return null;
  return plain.subarray(0, plain.length - 1 - padLength);
}
