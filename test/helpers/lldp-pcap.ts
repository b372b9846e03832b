// An LLDP frame as a switch sends it (chassis 52:54:00:1e:af:01, port "tap0", system "leaf-1") and a
// pcap stream of frames as tcpdump -w writes it: what the agent's LLDP readers are tested with.
const tlv = (type: number, value: Buffer) => Buffer.concat([Buffer.from([(type << 1) | (value.length >> 8), value.length & 0xff]), value]);
export const ETH = Buffer.from('0180c200000e5254001eaf0188cc', 'hex');
export const LLDPDU = Buffer.concat([
  tlv(1, Buffer.from('045254001eaf01', 'hex')),
  tlv(2, Buffer.from('0574617030', 'hex')),
  tlv(3, Buffer.from('0078', 'hex')),
  tlv(5, Buffer.from('leaf-1')),
  tlv(0, Buffer.alloc(0)),
]);
export const FRAME = Buffer.concat([ETH, LLDPDU]);

export function pcap(frames: Buffer[], bigEndian = false): Buffer {
  const u32 = (n: number) => { const b = Buffer.alloc(4); if (bigEndian) b.writeUInt32BE(n); else b.writeUInt32LE(n); return b; };
  const u16 = (n: number) => { const b = Buffer.alloc(2); if (bigEndian) b.writeUInt16BE(n); else b.writeUInt16LE(n); return b; };
  const header = Buffer.concat([u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(262144), u32(1)]);
  return Buffer.concat([header, ...frames.flatMap((f) => [u32(1), u32(2), u32(f.length), u32(f.length), f])]);
}
