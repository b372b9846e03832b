// LLDP bytes → the TLV list IPA reports per interface ([type, hex of the value]): a pcap stream
// (what tcpdump -w - writes) split into frames, an Ethernet frame into its LLDPDU's TLVs. Only
// parsing: deploy-agent/lldp-capture.ts runs the captures.

export const LLDP_ETHERTYPE = 0x88cc;
const VLAN_TAGS = new Set([0x8100, 0x88a8]);
const LINKTYPE_ETHERNET = 1;
const PCAP_HEADER = 24;
const RECORD_HEADER = 16;

/** The TLVs of an LLDP frame, up to the End TLV; a TLV running past the frame ends the list. Undefined when the frame is no LLDP. */
export function tlvsOfFrame(frame: Buffer): [number, string][] | undefined {
  if (frame.length < 14) return undefined;
  let at = 12;
  let type = frame.readUInt16BE(at);
  while (VLAN_TAGS.has(type) && frame.length >= at + 6) {
    at += 4;
    type = frame.readUInt16BE(at);
  }
  if (type !== LLDP_ETHERTYPE) return undefined;
  at += 2;
  const tlvs: [number, string][] = [];
  while (at + 2 <= frame.length) {
    const header = frame.readUInt16BE(at);
    const tlvType = header >> 9;
    const length = header & 0x1ff;
    if (tlvType === 0) break;
    if (at + 2 + length > frame.length) break;
    tlvs.push([tlvType, frame.subarray(at + 2, at + 2 + length).toString('hex')]);
    at += 2 + length;
  }
  return tlvs;
}

/**
 * Reads a pcap stream as it arrives: push() the bytes, get the whole Ethernet frames so far. A
 * stream that is not pcap of Ethernet is an error (thrown by push).
 */
export class PcapReader {
  private pending = Buffer.alloc(0);
  private littleEndian: boolean | undefined;

  push(chunk: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (this.littleEndian === undefined) {
      if (this.pending.length < PCAP_HEADER) return [];
      const magic = this.pending.readUInt32LE(0);
      // Microsecond (a1b2c3d4) or nanosecond (a1b23c4d) timestamps, in either byte order.
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.littleEndian = true;
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.littleEndian = false;
      else throw new Error(`not a pcap stream (magic ${magic.toString(16)})`);
      const linkType = this.u32(20);
      if (linkType !== LINKTYPE_ETHERNET) throw new Error(`pcap link type ${linkType}, not Ethernet`);
      this.pending = this.pending.subarray(PCAP_HEADER);
    }
    const frames: Buffer[] = [];
    while (this.pending.length >= RECORD_HEADER) {
      const length = this.u32(8);
      if (this.pending.length < RECORD_HEADER + length) break;
      frames.push(Buffer.from(this.pending.subarray(RECORD_HEADER, RECORD_HEADER + length)));
      this.pending = this.pending.subarray(RECORD_HEADER + length);
    }
    return frames;
  }

  private u32(offset: number): number {
    return this.littleEndian ? this.pending.readUInt32LE(offset) : this.pending.readUInt32BE(offset);
  }
}
