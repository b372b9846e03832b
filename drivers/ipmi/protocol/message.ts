// The IPMI LAN message inside a session payload (IPMI 2.0 §13.8): addresses, netFn/LUN, sequence,
// command and data, with the two 2's-complement checksums.

export const BMC_ADDRESS = 0x20;
export const CONSOLE_ADDRESS = 0x81;

export interface IpmiRequest {
  netFn: number;
  cmd: number;
  data: Buffer;
  rqSeq: number;
  rqAddr: number;
  rsAddr: number;
  rqLun: number;
  rsLun: number;
}

export interface IpmiResponse {
  netFn: number;
  cmd: number;
  rqSeq: number;
  completion: number;
  data: Buffer;
}

export function checksum(bytes: Buffer | number[]): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

function frame(first: number, netFnLun: number, second: number, seqLun: number, cmd: number, body: Buffer): Buffer {
  const head = [first, netFnLun];
  const tail = Buffer.concat([Buffer.from([second, seqLun, cmd]), body]);
  return Buffer.concat([Buffer.from([...head, checksum(head)]), tail, Buffer.from([checksum(tail)])]);
}

function checked(buf: Buffer): boolean {
  return buf.length >= 7 && checksum(buf.subarray(0, 2)) === buf[2] && checksum(buf.subarray(3, buf.length - 1)) === buf[buf.length - 1];
}

export function encodeRequest(r: Pick<IpmiRequest, 'netFn' | 'cmd' | 'data' | 'rqSeq'> & Partial<IpmiRequest>): Buffer {
  return frame(r.rsAddr ?? BMC_ADDRESS, (r.netFn << 2) | (r.rsLun ?? 0), r.rqAddr ?? CONSOLE_ADDRESS, ((r.rqSeq & 0x3f) << 2) | (r.rqLun ?? 0), r.cmd, r.data);
}

export function decodeRequest(buf: Buffer): IpmiRequest | null {
  if (!checked(buf)) return null;
  return {
    rsAddr: buf[0], netFn: buf[1] >> 2, rsLun: buf[1] & 3, rqAddr: buf[3], rqSeq: buf[4] >> 2, rqLun: buf[4] & 3,
    cmd: buf[5], data: Buffer.from(buf.subarray(6, buf.length - 1)),
  };
}

/** The response to `req`, addressed back to its requester. */
export function encodeResponse(req: IpmiRequest, completion: number, data: Buffer | number[] = []): Buffer {
  return frame(req.rqAddr, ((req.netFn | 1) << 2) | req.rqLun, req.rsAddr, (req.rqSeq << 2) | req.rsLun, req.cmd,
    Buffer.concat([Buffer.from([completion]), Buffer.from(data)]));
}

export function decodeResponse(buf: Buffer): IpmiResponse | null {
  if (!checked(buf) || buf.length < 8) return null;
  return { netFn: buf[1] >> 2, rqSeq: buf[4] >> 2, cmd: buf[5], completion: buf[6], data: Buffer.from(buf.subarray(7, buf.length - 1)) };
}
