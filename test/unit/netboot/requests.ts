// DHCP requests as clients and relays send them, built with the codec under test's encoder.
import { BOOTREQUEST, MessageType, Opt, encodePacket, ips, u8, type DhcpPacket, type MessageTypeName } from '../../../services/netboot/dhcp/codec.ts';

export function request(opts: {
  mac: string;
  type: MessageTypeName;
  xid?: number;
  giaddr?: string;
  ciaddr?: string;
  requested?: string;
  serverId?: string;
  options?: Array<[number, Buffer]>;
}): DhcpPacket {
  const chaddr = Buffer.alloc(16);
  Buffer.from(opts.mac.replace(/:/g, ''), 'hex').copy(chaddr);
  const options = new Map<number, Buffer>([[Opt.MESSAGE_TYPE, u8(MessageType[opts.type])]]);
  if (opts.requested) options.set(Opt.REQUESTED_IP, ips([opts.requested]));
  if (opts.serverId) options.set(Opt.SERVER_ID, ips([opts.serverId]));
  for (const [code, value] of opts.options ?? []) options.set(code, value);
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: opts.giaddr ? 1 : 0, xid: opts.xid ?? 0x1234abcd, secs: 0, flags: 0,
    ciaddr: opts.ciaddr ?? '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: opts.giaddr ?? '0.0.0.0',
    chaddr, sname: '', file: '', options,
  };
}

export const requestBytes = (opts: Parameters<typeof request>[0]): Buffer => encodePacket(request(opts));
