// A scripted DHCP client, run inside a network namespace (node --import tsx dhcp-probe.ts JSON): it
// broadcasts one DISCOVER with the broadcast flag set (as a client without an address asks), prints
// every answer heard within listenMs, and with `pxeRequest` then asks that server's PXE port (4011)
// from the client's own address, as iPXE asks a ProxyDHCP server. Output: one JSON array on stdout.
import dgram from 'node:dgram';
import { Opt, decodePacket, encodePacket, messageType, optionIp, optionString } from '../../../services/netboot/dhcp/codec.ts';
import { request } from '../../unit/netboot/requests.ts';

interface ProbeArgs {
  mac: string;
  /** [code, value as hex] */
  options: Array<[number, string]>;
  listenMs: number;
  pxeRequest?: { server: string; port: number; ciaddr: string };
}

const args = JSON.parse(process.argv[2]!) as ProbeArgs;
const options = args.options.map(([code, hex]): [number, Buffer] => [code, Buffer.from(hex, 'hex')]);
const heard: Array<Record<string, unknown>> = [];
const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
let phase = 'discover';
socket.on('message', (msg, from) => {
  const p = decodePacket(msg);
  if (p.op !== 2) return;
  heard.push({
    phase, from: `${from.address}:${from.port}`, type: messageType(p), yiaddr: p.yiaddr, siaddr: p.siaddr, file: p.file,
    serverId: optionIp(p, Opt.SERVER_ID), vendorClass: optionString(p, Opt.VENDOR_CLASS) ?? null, router: optionIp(p, Opt.ROUTER) ?? null,
  });
});
const send = (bytes: Buffer, port: number, address: string): Promise<void> => new Promise((resolve, reject) => socket.send(bytes, port, address, (err) => (err ? reject(err) : resolve())));
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

await new Promise<void>((resolve) => socket.bind(68, '0.0.0.0', resolve));
socket.setBroadcast(true);
const discover = request({ mac: args.mac, type: 'DISCOVER', xid: 0x5eed0001, options });
discover.flags = 0x8000;
await send(encodePacket(discover), 67, '255.255.255.255');
await wait(args.listenMs);
if (args.pxeRequest) {
  phase = 'pxe';
  const { server, port, ciaddr } = args.pxeRequest;
  await send(encodePacket(request({ mac: args.mac, type: 'REQUEST', xid: 0x5eed0002, ciaddr, serverId: server, options })), port, server);
  await wait(args.listenMs);
}
socket.close();
process.stdout.write(JSON.stringify(heard));
