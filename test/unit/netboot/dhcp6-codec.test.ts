import { describe, expect, it } from 'vitest';
import {
  Dhcp6DecodeError, Msg, Opt6, archTypes, decodeMessage, duidLl, encodeMessage, first, iaAddresses, iaNas, isRelay, macOfDuid,
  macOfLinkLayerOption, requestedOptions, statusOf, statusOption, userClasses, vendorClasses, type RelayMessage,
} from '../../../services/netboot/dhcp6/codec.ts';
import { bytesOf6, macOfEui64 } from '../../../services/netboot/net6.ts';
import { client6, relayed } from './requests6.ts';

const MAC = '52:54:00:12:34:56';

describe('DHCPv6 codec', () => {
  it('decodes a SOLICIT written out byte by byte', () => {
    const bytes = Buffer.from([
      '01abcdef',
      '0001000a' + '00030001' + '525400123456', // CLIENTID: DUID-LL, Ethernet
      '00080002' + '0000', // ELAPSED_TIME
      '0003000c' + '00000007' + '00000000' + '00000000', // IA_NA 7, no addresses
      '00060004' + '0017003b', // ORO: DNS, BOOTFILE_URL
      '000f0006' + '00046950' + '5845', // USER_CLASS "iPXE"
      '003d0002' + '0007', // CLIENT_ARCH_TYPE 7
    ].join(''), 'hex');
    const m = decodeMessage(bytes);
    if (isRelay(m)) throw new Error('not a relay');
    expect(m.type).toBe(Msg.SOLICIT);
    expect(m.transactionId).toBe(0xabcdef);
    expect(macOfDuid(first(m.options, Opt6.CLIENTID)!)).toBe(MAC);
    expect(iaNas(m.options)).toEqual([{ iaid: 7, t1: 0, t2: 0, options: [] }]);
    expect(requestedOptions(m.options)).toEqual([23, 59]);
    expect(userClasses(m.options)).toEqual(['iPXE']);
    expect(archTypes(m.options)).toEqual([7]);
    expect(encodeMessage(m)).toEqual(bytes);
  });

  it('round-trips a REQUEST with an address, vendor class and status', () => {
    const m = client6({ type: 'REQUEST', mac: MAC, addresses: ['2001:db8:1::1a'], vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', serverId: Buffer.from('0004' + 'ab'.repeat(16), 'hex'), options: [statusOption(0, 'fine')] });
    const back = decodeMessage(encodeMessage(m));
    expect(back).toEqual(m);
    if (isRelay(back)) throw new Error('not a relay');
    expect(iaAddresses(iaNas(back.options)[0].options).map((a) => a.address)).toEqual(['2001:db8:1::1a']);
    expect(vendorClasses(back.options)).toEqual(['HTTPClient:Arch:00016:UNDI:003001']);
    expect(statusOf(back.options)).toEqual({ code: 0, message: 'fine' });
  });

  it('round-trips relay messages nested two deep, with interface-id and link-address', () => {
    const inner = client6({ type: 'SOLICIT', mac: MAC });
    const m = relayed(relayed(inner, { linkAddress: '2001:db8:1::1', peerAddress: 'fe80::5054:ff:fe12:3456', interfaceId: 'swp7' }), { linkAddress: '::', peerAddress: '2001:db8:1::1', hopCount: 1 });
    const back = decodeMessage(encodeMessage(m)) as RelayMessage;
    expect(back).toEqual(m);
    expect(back.hopCount).toBe(1);
    const leaf = back.message as RelayMessage;
    expect(leaf.linkAddress).toBe('2001:db8:1::1');
    expect(first(leaf.options, Opt6.INTERFACE_ID)!.toString()).toBe('swp7');
    expect(leaf.message).toEqual(inner);
  });

  it('reads the MAC of DUID-LL, DUID-LLT, RFC 6939 option 79 and EUI-64 link-local addresses, and none of DUID-UUID', () => {
    expect(macOfDuid(duidLl(MAC))).toBe(MAC);
    expect(macOfDuid(Buffer.from('000100012a2b2c2d' + '525400123456', 'hex'))).toBe(MAC);
    expect(macOfDuid(Buffer.from('0004' + '11'.repeat(16), 'hex'))).toBeUndefined();
    expect(macOfLinkLayerOption(Buffer.from('0001525400123456', 'hex'))).toBe(MAC);
    expect(macOfEui64(bytesOf6('fe80::5054:ff:fe12:3456'))).toBe(MAC);
    expect(macOfEui64(bytesOf6('fe80::1'))).toBeUndefined();
  });

  it.each([
    ['a 3-byte message', '01abcd', /shorter than a DHCPv6 header/],
    ['an option header cut short', '01abcdef0001', /option header is cut short/],
    ['an option longer than the message', '01abcdef000100ff0003', /runs past the end/],
    ['an IA_NA of 11 bytes', '01abcdef0003000b' + '00'.repeat(11), /needs at least 12/],
    ['an IAADDR cut inside an IA_NA', '01abcdef00030014' + '00'.repeat(12) + '00050004' + '00'.repeat(4), /needs at least 24/],
    ['an odd ORO', '01abcdef00060003000100', /multiple of 2/],
    ['a DUID-UUID of the wrong length', '01abcdef00010004' + '00040102', /DUID/],
    ['a user class item past its end', '01abcdef000f0003' + '000569', /runs past the end/],
    ['an empty client architecture list', '01abcdef003d0000', /at least 2/],
    ['rapid commit with a value', '01abcdef000e000101', /needs 0/],
    ['a relay header cut short', '0c00' + '00'.repeat(20), /34-byte header/],
    ['a relay without RELAY_MSG', '0c00' + '00'.repeat(32), /holds 0 RELAY_MSG/],
    ['a relayed message cut short', '0c00' + '00'.repeat(32) + '00090002' + '01ab', /depth 1 of 2 bytes/],
  ])('refuses %s with a reason', (_what, hex, reason) => {
    expect(() => decodeMessage(Buffer.from(hex, 'hex'))).toThrow(Dhcp6DecodeError);
    expect(() => decodeMessage(Buffer.from(hex, 'hex'))).toThrow(reason);
  });

  it('refuses relay messages nested deeper than 32', () => {
    let m: ReturnType<typeof relayed> | ReturnType<typeof client6> = client6({ type: 'SOLICIT', mac: MAC });
    for (let i = 0; i < 33; i++) m = relayed(m, { linkAddress: '::', peerAddress: '::' });
    expect(() => decodeMessage(encodeMessage(m))).toThrow(/nested deeper than 32/);
  });
});
