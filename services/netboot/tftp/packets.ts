// TFTP packets (RFC 1350) with the option extension (RFC 2347): parsing of what clients send and
// building of what a read-only server sends.

export const Op = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

export const ErrorCode = {
  NOT_DEFINED: 0, FILE_NOT_FOUND: 1, ACCESS_VIOLATION: 2, DISK_FULL: 3, ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5, FILE_EXISTS: 6, NO_SUCH_USER: 7, OPTION_REFUSED: 8,
} as const;

export class TftpDecodeError extends Error {}

export interface Request {
  op: typeof Op.RRQ | typeof Op.WRQ;
  filename: string;
  mode: string;
  /** Option names lower-cased. */
  options: Map<string, string>;
}

export type ClientPacket =
  | Request
  | { op: typeof Op.ACK; block: number }
  | { op: typeof Op.ERROR; code: number; message: string }
  | { op: typeof Op.DATA | typeof Op.OACK };

export function parsePacket(buf: Buffer): ClientPacket {
  if (buf.length < 4) throw new TftpDecodeError(`packet of ${buf.length} bytes is too short`);
  const op = buf.readUInt16BE(0);
  switch (op) {
    case Op.RRQ:
    case Op.WRQ: {
      // Zero-terminated strings: filename, mode, then option name/value pairs.
      const strings: string[] = [];
      let start = 2;
      while (start < buf.length) {
        const end = buf.indexOf(0, start);
        if (end < 0) throw new TftpDecodeError('request string is not zero-terminated');
        strings.push(buf.subarray(start, end).toString('latin1'));
        start = end + 1;
      }
      if (strings.length < 2) throw new TftpDecodeError('request lacks a filename or mode');
      if (strings.length % 2 !== 0) throw new TftpDecodeError('option without a value');
      const options = new Map<string, string>();
      for (let i = 2; i < strings.length; i += 2) options.set(strings[i].toLowerCase(), strings[i + 1]);
      return { op, filename: strings[0], mode: strings[1].toLowerCase(), options };
    }
    case Op.ACK:
      return { op, block: buf.readUInt16BE(2) };
    case Op.ERROR: {
      const end = buf.indexOf(0, 4);
      return { op, code: buf.readUInt16BE(2), message: buf.subarray(4, end < 0 ? buf.length : end).toString('latin1') };
    }
    case Op.DATA:
    case Op.OACK:
      return { op };
    default:
      throw new TftpDecodeError(`unknown opcode ${op}`);
  }
}

export function dataPacket(block: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(Op.DATA, 0);
  head.writeUInt16BE(block & 0xffff, 2);
  return Buffer.concat([head, payload]);
}

export function errorPacket(code: number, message: string): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(Op.ERROR, 0);
  head.writeUInt16BE(code, 2);
  return Buffer.concat([head, Buffer.from(message, 'latin1'), Buffer.from([0])]);
}

export function oackPacket(options: Map<string, string>): Buffer {
  const parts = [Buffer.from([0, Op.OACK])];
  for (const [k, v] of options) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}

/** netascii (RFC 764): LF becomes CR LF, a bare CR becomes CR NUL. */
export function toNetascii(data: Buffer): Buffer {
  const out: number[] = [];
  for (const b of data) {
    if (b === 0x0a) out.push(0x0d, 0x0a);
    else if (b === 0x0d) out.push(0x0d, 0x00);
    else out.push(b);
  }
  return Buffer.from(out);
}
