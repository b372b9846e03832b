import { describe, expect, it } from 'vitest';
import { PcapReader, tlvsOfFrame } from '../../../deploy-agent/lldp-frame.ts';
import { ETH, FRAME, LLDPDU, pcap } from '../../helpers/lldp-pcap.ts';

describe('LLDP frames from a pcap stream', () => {
  it('reads the TLVs of a frame up to the End TLV, as IPA reports them', () => {
    expect(tlvsOfFrame(FRAME)).toEqual([[1, '045254001eaf01'], [2, '0574617030'], [3, '0078'], [5, Buffer.from('leaf-1').toString('hex')]]);
  });

  it('skips 802.1Q tags and refuses other EtherTypes and runts', () => {
    const tagged = Buffer.concat([ETH.subarray(0, 12), Buffer.from('81000064', 'hex'), Buffer.from('88cc', 'hex'), LLDPDU]);
    expect(tlvsOfFrame(tagged)).toEqual(tlvsOfFrame(FRAME));
    expect(tlvsOfFrame(Buffer.concat([ETH.subarray(0, 12), Buffer.from('0800', 'hex'), LLDPDU]))).toBeUndefined();
    expect(tlvsOfFrame(Buffer.from('0180c2', 'hex'))).toBeUndefined();
  });

  it('a truncated TLV ends the list with the whole ones before it', () => {
    expect(tlvsOfFrame(FRAME.subarray(0, ETH.length + 9 + 7 + 2))).toEqual([[1, '045254001eaf01'], [2, '0574617030']]);
    expect(tlvsOfFrame(Buffer.concat([ETH, Buffer.from([0x02])]))).toEqual([]);
    // A length that runs past the frame.
    expect(tlvsOfFrame(Buffer.concat([ETH, Buffer.from([0x0b, 0xff, 1, 2, 3])]))).toEqual([]);
  });

  it('splits a pcap stream arriving in pieces, in either byte order', () => {
    for (const bigEndian of [false, true]) {
      const bytes = pcap([FRAME, FRAME.subarray(0, 20)], bigEndian);
      const reader = new PcapReader();
      const frames: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 7) frames.push(...reader.push(bytes.subarray(i, i + 7)));
      expect(frames).toEqual([FRAME, FRAME.subarray(0, 20)]);
    }
  });

  it('refuses a stream that is not pcap of Ethernet', () => {
    expect(() => new PcapReader().push(Buffer.alloc(24, 0x41))).toThrow('not a pcap stream');
    const linux = pcap([]);
    linux.writeUInt32LE(113, 20);
    expect(() => new PcapReader().push(linux)).toThrow('pcap link type 113, not Ethernet');
    expect(new PcapReader().push(pcap([]).subarray(0, 10))).toEqual([]);
  });
});
