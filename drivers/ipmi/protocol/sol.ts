// The Serial over LAN payload (IPMI 2.0 §15.9, payload type 1): a 4-byte header (packet sequence
// number, the sequence number it acknowledges, how many characters of it were accepted, and
// operation/status bits) followed by the characters. Sequence number 0 is an acknowledgement only.

export interface SolPacket {
  /** 1-15 for a packet carrying characters, 0 for an ACK-only packet. */
  seq: number;
  /** The sequence number acknowledged (0: none). */
  ack: number;
  /** Characters of the acknowledged packet accepted. */
  accepted: number;
  /** Operation (console to BMC) or status (BMC to console) bits. */
  flags: number;
  data: Buffer;
}

/** Status bits of a BMC-to-console packet (§15.9, table 15-2). */
export const SolStatus = { nack: 0x40, characterTransferUnavailable: 0x20, deactivating: 0x10, transmitOverrun: 0x08, breakDetected: 0x04 } as const;

/** Operation bits of a console-to-BMC packet (§15.9, table 15-2). */
export const SolOperation = { nack: 0x40, ringWor: 0x20, generateBreak: 0x10, ctsPause: 0x08, dropDcdDsr: 0x04, flushInbound: 0x02, flushOutbound: 0x01 } as const;

/** Activate and Deactivate Payload completion codes (§24.1, §24.2). */
export const PayloadCompletion = { alreadyActive: 0x80, disabled: 0x81, activationLimit: 0x82, alreadyDeactivated: 0x80 } as const;

/** The payload type number of SOL in Activate/Deactivate Payload and in the RMCP+ header. */
export const SOL_PAYLOAD = 0x01;

/** Most characters one packet carries (the accepted count is one byte). */
export const SOL_MAX_CHARACTERS = 255;

export function decodeSol(buf: Buffer): SolPacket | null {
  if (buf.length < 4) return null;
  return { seq: buf[0] & 0x0f, ack: buf[1] & 0x0f, accepted: buf[2], flags: buf[3], data: Buffer.from(buf.subarray(4)) };
}

export function encodeSol(p: SolPacket): Buffer {
  return Buffer.concat([Buffer.from([p.seq & 0x0f, p.ack & 0x0f, p.accepted & 0xff, p.flags & 0xff]), p.data]);
}
