// DHCP load generator, run inside the client namespace of bench/netboot/run.ts: many clients (one
// MAC each) do DISCOVER -> OFFER -> REQUEST -> ACK with the broadcast flag, so the relay hands the
// answers back by broadcast to this socket. Prints one JSON line: exchanges completed and seconds.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { BOOTREQUEST, MessageType, Opt, decodePacket, encodePacket, ips, messageType, u8 } from '../../services/netboot/dhcp/codec.ts';

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

const waiting = new Map<number, (p: ReturnType<typeof decodePacket>) => void>();
socket.on('message', (msg) => {
  try {
    const p = decodePacket(msg);
    waiting.get(p.xid)?.(p);
  } catch { /* not ours */ }
});

let xidSeq = 1;
function ask(bytes: Buffer, xid: number): Promise<ReturnType<typeof decodePacket>> {
  return new Promise((resolve, reject) => {
    // A lost datagram is sent again after 4 s, as RFC 2131 4.1 has clients do.
    let tries = 0;
    const send = (): void => { socket.send(bytes, 67, '255.255.255.255'); };
    const timer = setInterval(() => { if (++tries > 4) { clearInterval(timer); waiting.delete(xid); reject(new Error(`no answer to xid ${xid}`)); } else send(); }, 4000);
    waiting.set(xid, (p) => { clearInterval(timer); waiting.delete(xid); resolve(p); });
    send();
  });
}

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

const jobs: number[] = [];
for (let r = 0; r < rounds; r++) for (let i = 0; i < clients; i++) jobs.push(i);
const started = process.hrtime.bigint();
let done = 0;
await Promise.all(Array.from({ length: window }, async () => {
  for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
    await exchange(job);
    done++;
  }
}));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ exchanges: done, seconds }));
socket.close();
