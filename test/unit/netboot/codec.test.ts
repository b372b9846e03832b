import { describe, expect, it } from 'vitest';
import {
  DhcpDecodeError, Opt, clientArch, clientMac, decodePacket, encodePacket, messageType, optionIp, subOptions, u16, userClasses,
} from '../../../services/netboot/dhcp/codec.ts';
import { request, requestBytes } from './requests.ts';

describe('DHCP codec', () => {
  it('round-trips a relayed DISCOVER with option 82, arch and user class', () => {
    const agent = Buffer.from([1, 2, 0x6c, 0x31, 2, 3, 1, 2, 3]);
    const bytes = requestBytes({
      mac: '52:54:00:12:34:56', type: 'DISCOVER', giaddr: '10.1.2.1', requested: '10.1.2.50',
      options: [[Opt.RELAY_AGENT, agent], [Opt.CLIENT_ARCH, u16(7)], [Opt.USER_CLASS, Buffer.from('iPXE')]],
    });
    expect(bytes.length).toBeGreaterThanOrEqual(300);
    const p = decodePacket(bytes);
    expect(messageType(p)).toBe('DISCOVER');
    expect(clientMac(p)).toBe('52:54:00:12:34:56');
    expect(p.giaddr).toBe('10.1.2.1');
    expect(p.xid).toBe(0x1234abcd);
    expect(optionIp(p, Opt.REQUESTED_IP)).toBe('10.1.2.50');
    expect(clientArch(p)).toBe(7);
    expect(userClasses(p)).toContain('iPXE');
    expect(subOptions(p.options.get(Opt.RELAY_AGENT)!).get(1)!.toString()).toBe('l1');
  });

  it('reads RFC 3004 length-prefixed user classes', () => {
    const p = decodePacket(requestBytes({ mac: '52:54:00:00:00:01', type: 'DISCOVER', options: [[Opt.USER_CLASS, Buffer.from('\x04iPXE\x03foo', 'latin1')]] }));
    expect(userClasses(p)).toEqual(expect.arrayContaining(['iPXE', 'foo']));
  });

  it('splits options longer than 255 bytes and joins them again (RFC 3396)', () => {
    const long = Buffer.alloc(600, 0x41);
    const p = decodePacket(encodePacket(request({ mac: '52:54:00:00:00:02', type: 'REQUEST', options: [[Opt.VENDOR_SPECIFIC, long]] })));
    expect(p.options.get(Opt.VENDOR_SPECIFIC)).toEqual(long);
  });

  it('reads options carried in the file and sname fields (option 52 overload)', () => {
    const bytes = requestBytes({ mac: '52:54:00:00:00:03', type: 'DISCOVER', options: [[Opt.OVERLOAD, Buffer.from([3])]] });
    Buffer.from([Opt.HOSTNAME, 3, 0x61, 0x62, 0x63, Opt.END]).copy(bytes, 108);
    Buffer.from([Opt.CLIENT_ARCH, 2, 0, 9, Opt.END]).copy(bytes, 44);
    const p = decodePacket(bytes);
    expect(p.options.get(Opt.HOSTNAME)!.toString()).toBe('abc');
    expect(clientArch(p)).toBe(9);
    expect(p.file).toBe('');
  });

  it('rejects truncated and malformed packets with a DhcpDecodeError', () => {
    const good = requestBytes({ mac: '52:54:00:00:00:04', type: 'DISCOVER' });
    expect(() => decodePacket(good.subarray(0, 100))).toThrow(DhcpDecodeError);
    expect(() => decodePacket(good.subarray(0, 239))).toThrow(/shorter than a DHCP header/);
    const noCookie = Buffer.from(good);
    noCookie.writeUInt32BE(0, 236);
    expect(() => decodePacket(noCookie)).toThrow(/magic cookie/);
    const badOp = Buffer.from(good);
    badOp[0] = 7;
    expect(() => decodePacket(badOp)).toThrow(/op 7/);
    const overrun = Buffer.concat([good.subarray(0, 240), Buffer.from([Opt.MESSAGE_TYPE, 1, 1, Opt.HOSTNAME, 40, 0x61])]);
    expect(() => decodePacket(overrun)).toThrow(/runs past the end/);
    const noLength = Buffer.concat([good.subarray(0, 240), Buffer.from([Opt.HOSTNAME])]);
    expect(() => decodePacket(noLength)).toThrow(/no length byte/);
    const hlen = Buffer.from(good);
    hlen[2] = 17;
    expect(() => decodePacket(hlen)).toThrow(/hardware address length/);
  });

  it('gives no MAC for non-Ethernet hardware and no type for plain BOOTP', () => {
    const p = request({ mac: '52:54:00:00:00:05', type: 'DISCOVER' });
    p.htype = 6;
    expect(clientMac(decodePacket(encodePacket(p)))).toBeUndefined();
    p.options.clear();
    expect(messageType(decodePacket(encodePacket(p)))).toBeUndefined();
  });
});
