import { describe, expect, it } from 'vitest';
import { linkFromLldp, linkFromParsed, parseLldp } from '../../../drivers/in-band/lldp.ts';

const hex = (...parts: (string | number[])[]) => parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)).toString('hex')).join('');
const u16 = (n: number) => [n >> 8, n & 0xff];

/** What a Debian lldpd on a VLAN-aware, bonded port with jumbo frames announces. */
const FULL: [number, string][] = [
  [1, hex([4, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56])],
  [2, hex([5], 'swp7')],
  [3, hex(u16(120))],
  [4, hex('uplink of rack 3')],
  [5, hex('leaf-3')],
  [6, hex('Debian GNU/Linux 12')],
  [7, hex(u16(0x0014), u16(0x0010))],
  [8, hex([5, 1, 192, 0, 2, 7, 2, 0, 0, 0, 3, 0])],
  [8, hex([17, 2, 0x20, 0x01, 0x0d, 0xb8], Array(11).fill(0), [7, 2, 0, 0, 0, 3, 0])],
  [127, hex([0x00, 0x80, 0xc2, 1], u16(100))],
  [127, hex([0x00, 0x80, 0xc2, 3], u16(100), [8], 'provisio')],
  [127, hex([0x00, 0x80, 0xc2, 3], u16(200), [6], 'tenant')],
  [127, hex([0x00, 0x80, 0xc2, 7, 3, 0, 0, 0, 42])],
  [127, hex([0x00, 0x12, 0x0f, 1, 3, 0x6c, 0x01, 0x00, 0x1e])],
  [127, hex([0x00, 0x12, 0x0f, 4], u16(9216))],
  [0, ''],
];

describe('LLDP TLVs → parsed_lldp (Ironic parse-lldp)', () => {
  it('reads chassis, port, names, capabilities, management addresses, 802.1 VLANs/PVID/LAG and 802.3 MTU', () => {
    expect(parseLldp(FULL)).toEqual({
      switch_chassis_id: '52:54:00:12:34:56',
      switch_port_id: 'swp7',
      switch_port_description: 'uplink of rack 3',
      switch_system_name: 'leaf-3',
      switch_system_description: 'Debian GNU/Linux 12',
      switch_capabilities_support: ['Bridge', 'Router'],
      switch_capabilities_enabled: ['Router'],
      switch_mgmt_addresses: ['192.0.2.7', '2001:db8::7'],
      switch_port_untagged_vlan_id: 100,
      switch_port_vlans: [{ id: 100, name: 'provisio' }, { id: 200, name: 'tenant' }],
      switch_port_link_aggregation_support: true,
      switch_port_link_aggregation_enabled: true,
      switch_port_link_aggregation_id: 42,
      switch_port_autonegotiation_support: true,
      switch_port_autonegotiation_enabled: true,
      switch_port_mau_type: 30,
      switch_port_mtu: 9216,
    });
    expect(linkFromLldp(FULL)).toEqual({ switch_id: '52:54:00:12:34:56', port_id: 'swp7', switch_info: 'leaf-3' });
  });

  it('reads a MAC port id (subtype 3) as a MAC, and the older 802.3 link aggregation TLV', () => {
    expect(parseLldp([[2, hex([3, 0, 0x1c, 0x73, 0, 0, 1])], [127, hex([0x00, 0x12, 0x0f, 3, 1, 0, 0, 0, 9])]])).toEqual({
      switch_port_id: '00:1c:73:00:00:01',
      switch_port_link_aggregation_support: true,
      switch_port_link_aggregation_enabled: false,
      switch_port_link_aggregation_id: 9,
    });
  });

  it('leaves out truncated TLVs and keeps the good ones', () => {
    const truncated: [number, string][] = [
      [1, hex([4, 0x52, 0x54, 0x00])], // a MAC chassis id of 3 bytes
      [2, hex([5])], // a port id subtype with no id
      [7, hex([0, 4])], // capabilities need 4 bytes
      [8, hex([5, 1, 192, 0])], // the address is shorter than its length byte says
      [8, hex([3, 1, 192, 0])], // an IPv4 address of 2 bytes
      [127, hex([0x00, 0x80])], // no OUI and subtype
      [127, hex([0x00, 0x80, 0xc2, 1, 0])], // PVID of one byte
      [127, hex([0x00, 0x80, 0xc2, 3], u16(5), [20], 'short')], // VLAN name longer than the TLV
      [127, hex([0x00, 0x80, 0xc2, 7, 1, 0])], // LAG without its id
      [127, hex([0x00, 0x12, 0x0f, 4, 9])], // MTU of one byte
      [5, hex('leaf-9')],
    ];
    expect(parseLldp(truncated)).toEqual({ switch_system_name: 'leaf-9' });
  });

  it('drops entries that are not [type, hex] and ignores unknown TLVs and subtypes', () => {
    expect(parseLldp([[1, 'zz'], ['2', '05aa'], [5], 'junk', null, [5, 12], [5, 'abc'], [9, hex('x')], [127, hex([0x00, 0x80, 0xc2, 99, 1])], [127, hex([0xaa, 0xbb, 0xcc, 1, 1])]])).toBeUndefined();
    expect(parseLldp(null)).toBeUndefined();
    expect(parseLldp({ 1: 'x' })).toBeUndefined();
    expect(parseLldp([])).toBeUndefined();
  });

  it('a PVID of 0 is no VLAN; binary names are given in hex; trailing NULs are cut', () => {
    expect(parseLldp([[127, hex([0x00, 0x80, 0xc2, 1], u16(0))], [5, hex([0xff, 0xfe, 0x01])], [4, hex('eth0', [0, 0])]])).toEqual({ switch_system_name: 'fffe01', switch_port_description: 'eth0' });
  });

  it('local_link_connection takes switch_id only from a MAC chassis id', () => {
    expect(linkFromParsed(parseLldp([[1, hex([7], 'chassis-a')], [2, hex([7], '17')]]))).toEqual({ port_id: '17' });
    expect(parseLldp([[1, hex([7], 'chassis-a')]])).toEqual({ switch_chassis_id: 'chassis-a' });
    expect(linkFromParsed(undefined)).toBeUndefined();
  });
});
