// DHCPv6 load generator, run inside the client namespace of bench/netboot/run.ts: many clients (one
// DUID-LL each) do SOLICIT -> ADVERTISE -> REQUEST -> REPLY to ff02::1:2 on the leaf, where dhcrelay -6
// relays them and hands the answers back to this socket. Prints one JSON line: exchanges and seconds.
import dgram from 'node:dgram';
import { once } from 'node:events';
import {
  Msg, Opt6, decodeMessage, duidLl, encodeMessage, first, iaAddresses, iaNas, iaNaOption, iaAddrOption, isRelay, u16, type ClientMessage, type Option6,
} from '../../services/netboot/dhcp6/codec.ts';
import { answers, runExchanges } from './load.ts';

const [macPrefix, clientsText, roundsText, windowText, ifname] = process.argv.slice(2);
const clients = Number(clientsText);

const socket = dgram.createSocket({ type: 'udp6', reuseAddr: true });
socket.bind(546);
await once(socket, 'listening');

// SOL_TIMEOUT is 1 s (RFC 8415 7.6); on a loaded machine 2 s avoids counting retransmissions as load.
const replies = answers<ClientMessage>(2000);
socket.on('message', (msg) => {
  try {
    const m = decodeMessage(msg);
    if (!isRelay(m)) replies.deliver(m.transactionId, m);
  } catch { /* not ours */ }
});

let tid = 1;
function ask(type: number, mac: string, extra: Option6[]): Promise<ClientMessage> {
  const id = tid++ & 0xffffff;
  const bytes = encodeMessage({ type, transactionId: id, options: [[Opt6.CLIENTID, duidLl(mac)], [Opt6.ELAPSED_TIME, u16(0)], ...extra, [Opt6.ORO, u16(Opt6.BOOTFILE_URL)]] });
  return replies.ask(id, () => socket.send(bytes, 547, `ff02::1:2%${ifname}`));
}

async function exchange(index: number): Promise<void> {
  const mac = `${macPrefix}${index.toString(16).padStart(4, '0')}`.match(/../g)!.join(':');
  const advertise = await ask(Msg.SOLICIT, mac, [iaNaOption(1, 0, 0, [])]);
  const address = iaAddresses(iaNas(advertise.options)[0]?.options ?? [])[0]?.address;
  if (!address) throw new Error(`client ${index} was advertised no address`);
  const reply = await ask(Msg.REQUEST, mac, [[Opt6.SERVERID, first(advertise.options, Opt6.SERVERID)!], iaNaOption(1, 0, 0, [iaAddrOption(address, 0, 0)])]);
  if (reply.type !== Msg.REPLY || !first(reply.options, Opt6.BOOTFILE_URL)) throw new Error(`client ${index} got no REPLY with a boot file URL`);
}

console.log(JSON.stringify(await runExchanges(clients, Number(roundsText), Number(windowText), exchange)));
socket.close();
