// DHCP load generator, run inside the client namespace of bench/netboot/run.ts: many clients (one
// MAC each) do DISCOVER -> OFFER -> REQUEST -> ACK with the broadcast flag, so the relay hands the
// answers back by broadcast to this socket. Prints one JSON line: exchanges completed and seconds.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { BOOTREQUEST, MessageType, Opt, decodePacket, encodePacket, ips, messageType, u8 } from '../../services/netboot/dhcp/codec.ts';
import { answers, runExchanges } from './load.ts';

const [macPrefix, clientsText, roundsText, windowText] = process.argv.slice(2);
const clients = Number(clientsText);
const rounds = Number(roundsText);
const window = Number(windowText);

function packet(mac: Buffer, xid: number, type: 'DISCOVER' | 'REQUEST', requested?: string, server?: string): Buffer {
  const chaddr = Buffer.alloc(16);
  mac.copy(chaddr);
  const options = new Map<number, Buffer>([[Opt.MESSAGE_TYPE, u8(MessageType[type])]]);
  if (requested) options.set(Opt.REQUESTED_IP, ips([requested]));
  if (server) options.set(Opt.SERVER_ID, ips([server]));
  return encodePacket({
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0x8000, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr, sname: '', file: '', options,
  });
}

const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
socket.bind(68);
await once(socket, 'listening');
socket.setBroadcast(true);

// A lost datagram is sent again after 4 s, as RFC 2131 4.1 has clients do.
const replies = answers<ReturnType<typeof decodePacket>>(4000);
socket.on('message', (msg) => {
  try {
    const p = decodePacket(msg);
    replies.deliver(p.xid, p);
  } catch { /* not ours */ }
});

let xidSeq = 1;
const ask = (bytes: Buffer, xid: number): Promise<ReturnType<typeof decodePacket>> => replies.ask(xid, () => socket.send(bytes, 67, '255.255.255.255'));

async function exchange(index: number): Promise<void> {
  const mac = Buffer.from(`${macPrefix}${index.toString(16).padStart(4, '0')}`, 'hex');
  const xid1 = xidSeq++;
  const offer = await ask(packet(mac, xid1, 'DISCOVER'), xid1);
  const xid2 = xidSeq++;
  const ack = await ask(packet(mac, xid2, 'REQUEST', offer.yiaddr, offer.siaddr === '0.0.0.0' ? undefined : decodeServer(offer)), xid2);
  if (messageType(ack) !== 'ACK') throw new Error(`client ${index} got ${messageType(ack)}`);
}

function decodeServer(p: ReturnType<typeof decodePacket>): string {
  const v = p.options.get(Opt.SERVER_ID)!;
  return [...v].join('.');
}

console.log(JSON.stringify(await runExchanges(clients, rounds, window, exchange)));
socket.close();
