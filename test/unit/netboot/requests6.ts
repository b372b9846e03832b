// DHCPv6 messages as clients and relays send them, built with the codec under test's encoder.
import {
  Msg, Opt6, duidLl, iaAddrOption, iaNaOption, lengthPrefixed, u16, vendorClassOption,
  type ClientMessage, type Dhcp6Message, type MsgName, type Option6, type RelayMessage,
} from '../../../services/netboot/dhcp6/codec.ts';

export function client6(opts: {
  type: MsgName;
  mac?: string;
  /** Client Identifier bytes (default DUID-LL of `mac`). */
  duid?: Buffer;
  transactionId?: number;
  iaid?: number;
  /** Addresses in the IA_NA (REQUEST, RENEW...). */
  addresses?: string[];
  serverId?: Buffer;
  ipxe?: boolean;
  arch?: number;
  vendorClass?: string;
  oro?: number[];
  options?: Option6[];
}): ClientMessage {
  const options: Option6[] = [];
  const duid = opts.duid ?? (opts.mac ? duidLl(opts.mac) : undefined);
  if (duid) options.push([Opt6.CLIENTID, duid]);
  if (opts.serverId) options.push([Opt6.SERVERID, opts.serverId]);
  options.push([Opt6.ELAPSED_TIME, u16(0)]);
  if (opts.type !== 'INFORMATION_REQUEST') options.push(iaNaOption(opts.iaid ?? 7, 0, 0, (opts.addresses ?? []).map((a) => iaAddrOption(a, 0, 0))));
  options.push([Opt6.ORO, Buffer.concat((opts.oro ?? [Opt6.DNS_SERVERS, Opt6.BOOTFILE_URL, Opt6.BOOTFILE_PARAM]).map(u16))]);
  if (opts.ipxe) options.push([Opt6.USER_CLASS, lengthPrefixed(['iPXE'])]);
  if (opts.arch !== undefined) options.push([Opt6.CLIENT_ARCH_TYPE, u16(opts.arch)]);
  if (opts.vendorClass) options.push(vendorClassOption(343, [opts.vendorClass]));
  options.push(...(opts.options ?? []));
  return { type: Msg[opts.type], transactionId: opts.transactionId ?? 0xabcdef, options };
}

/** `inner` as a relay on the client's link forwards it. */
export function relayed(inner: Dhcp6Message, opts: { linkAddress: string; peerAddress: string; interfaceId?: string; hopCount?: number; options?: Option6[] }): RelayMessage {
  const options: Option6[] = [...(opts.options ?? [])];
  if (opts.interfaceId) options.push([Opt6.INTERFACE_ID, Buffer.from(opts.interfaceId)]);
  return { type: Msg.RELAY_FORW, hopCount: opts.hopCount ?? 0, linkAddress: opts.linkAddress, peerAddress: opts.peerAddress, options, message: inner };
}
