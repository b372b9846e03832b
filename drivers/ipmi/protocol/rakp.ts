// RMCP+ Open Session and RAKP 1–4 payloads (IPMI 2.0 §13.17–13.23).

export interface OpenSessionRequest {
  tag: number;
  /** 0 asks for the highest level the proposed algorithms allow. */
  maxPrivilege: number;
  consoleSessionId: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

export interface OpenSessionResponse {
  tag: number;
  status: number;
  maxPrivilege: number;
  consoleSessionId: number;
  bmcSessionId: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

export interface Rakp1 { tag: number; bmcSessionId: number; consoleRandom: Buffer; role: number; username: Buffer }
export interface Rakp2 { tag: number; status: number; consoleSessionId: number; bmcRandom: Buffer; bmcGuid: Buffer; authCode: Buffer }
export interface Rakp3 { tag: number; status: number; bmcSessionId: number; authCode: Buffer }
export interface Rakp4 { tag: number; status: number; consoleSessionId: number; checkValue: Buffer }

function algorithm(type: number, alg: number): Buffer {
  return Buffer.from([type, 0, 0, 8, alg, 0, 0, 0]);
}

/** Reads the three algorithm records (type 0 auth, 1 integrity, 2 confidentiality). */
function readAlgorithms(buf: Buffer, at: number): { auth: number; integrity: number; confidentiality: number } | null {
  if (buf.length < at + 24) return null;
  const out = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const rec = buf.subarray(at + i * 8, at + i * 8 + 8);
    if (rec[0] !== i || rec[3] !== 8) return null;
    out[i] = rec[4] & 0x3f;
  }
  return { auth: out[0], integrity: out[1], confidentiality: out[2] };
}

export function encodeOpenSessionRequest(r: OpenSessionRequest): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.maxPrivilege;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  return Buffer.concat([head, algorithm(0, r.auth), algorithm(1, r.integrity), algorithm(2, r.confidentiality)]);
}

export function decodeOpenSessionRequest(buf: Buffer): OpenSessionRequest | null {
  const algs = readAlgorithms(buf, 8);
  if (!algs) return null;
  return { tag: buf[0], maxPrivilege: buf[1] & 0x0f, consoleSessionId: buf.readUInt32LE(4), ...algs };
}

export function encodeOpenSessionResponse(r: OpenSessionResponse): Buffer {
  const head = Buffer.alloc(12);
  head[0] = r.tag;
  head[1] = r.status;
  head[2] = r.maxPrivilege;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  head.writeUInt32LE(r.bmcSessionId >>> 0, 8);
  if (r.status !== 0) return head.subarray(0, 8);
  return Buffer.concat([head, algorithm(0, r.auth), algorithm(1, r.integrity), algorithm(2, r.confidentiality)]);
}

export function decodeOpenSessionResponse(buf: Buffer): OpenSessionResponse | null {
  if (buf.length < 8) return null;
  const base = { tag: buf[0], status: buf[1], maxPrivilege: buf[2], consoleSessionId: buf.readUInt32LE(4) };
  if (base.status !== 0) return { ...base, bmcSessionId: 0, auth: 0, integrity: 0, confidentiality: 0 };
  const algs = readAlgorithms(buf, 12);
  if (!algs) return null;
  return { ...base, bmcSessionId: buf.readUInt32LE(8), ...algs };
}

export function encodeRakp1(r: Rakp1): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head.writeUInt32LE(r.bmcSessionId >>> 0, 4);
  return Buffer.concat([head, r.consoleRandom, Buffer.from([r.role, 0, 0, r.username.length]), r.username]);
}

export function decodeRakp1(buf: Buffer): Rakp1 | null {
  if (buf.length < 28) return null;
  const nameLength = buf[27];
  if (nameLength > 16 || buf.length < 28 + nameLength) return null;
  return { tag: buf[0], bmcSessionId: buf.readUInt32LE(4), consoleRandom: Buffer.from(buf.subarray(8, 24)), role: buf[24], username: Buffer.from(buf.subarray(28, 28 + nameLength)) };
}

export function encodeRakp2(r: Rakp2): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.status;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  if (r.status !== 0) return head;
  return Buffer.concat([head, r.bmcRandom, r.bmcGuid, r.authCode]);
}

export function decodeRakp2(buf: Buffer): Rakp2 | null {
  if (buf.length < 8) return null;
  const base = { tag: buf[0], status: buf[1], consoleSessionId: buf.readUInt32LE(4) };
  if (base.status !== 0) return { ...base, bmcRandom: Buffer.alloc(0), bmcGuid: Buffer.alloc(0), authCode: Buffer.alloc(0) };
  if (buf.length < 40) return null;
  return { ...base, bmcRandom: Buffer.from(buf.subarray(8, 24)), bmcGuid: Buffer.from(buf.subarray(24, 40)), authCode: Buffer.from(buf.subarray(40)) };
}

export function encodeRakp3(r: Rakp3): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.status;
  head.writeUInt32LE(r.bmcSessionId >>> 0, 4);
  return Buffer.concat([head, r.authCode]);
}

export function decodeRakp3(buf: Buffer): Rakp3 | null {
  if (buf.length < 8) return null;
  return { tag: buf[0], status: buf[1], bmcSessionId: buf.readUInt32LE(4), authCode: Buffer.from(buf.subarray(8)) };
}

export function encodeRakp4(r: Rakp4): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.status;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  return r.status !== 0 ? head : Buffer.concat([head, r.checkValue]);
}

export function decodeRakp4(buf: Buffer): Rakp4 | null {
  if (buf.length < 8) return null;
  return { tag: buf[0], status: buf[1], consoleSessionId: buf.readUInt32LE(4), checkValue: Buffer.from(buf.subarray(8)) };
}
