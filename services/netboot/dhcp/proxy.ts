// ProxyDHCP (PXE 2.1 spec, netboot.dhcp.mode: proxy): the site's DHCP server leases the addresses;
// Anvil tells the PXE, UEFI HTTP boot and iPXE clients it knows what to boot. On port 67 it answers a
// DISCOVER with an offer that carries no address (yiaddr 0.0.0.0, no lease, no network settings),
// only next-server, the boot file and option 60; on the PXE port (4011) it answers the REQUEST a client
// sends it once it has its address (iPXE does, to fetch the proxy's settings) with the same as an ACK.
// Bytes in codec.ts, sockets in server.ts, as for the server-mode policy.
import { Opt, type DhcpPacket } from './codec.ts';
import { BROADCAST_FLAG, ZERO, baseReply, clientKind, destination, fillBoot, identify, selectSubnet, serverIdOf, type Decision, type PolicyView } from './policy.ts';

/** Where a request arrived: the DHCP port (broadcast or relayed), or the PXE port, from the client's own address. */
export type Arrival = { port: 'dhcp' } | { port: 'pxe'; from: { address: string; port: number } };

export async function decideProxy(req: DhcpPacket, view: PolicyView, arrival: Arrival): Promise<Decision> {
  const { config } = view;
  const client = identify(req);
  if ('ignored' in client) return client;
  const { mac, type } = client;
  const kind = clientKind(req);
  if (!kind.pxe && !kind.httpClient && !kind.ipxe) return { ignored: 'not a PXE, UEFI HTTP boot or iPXE client (its address is the site DHCP server\'s business)', mac };
  const wanted = arrival.port === 'dhcp' ? 'DISCOVER' : 'REQUEST';
  if (type !== wanted && !(arrival.port === 'pxe' && type === 'INFORM')) {
    return { ignored: `proxy mode answers ${wanted} on the ${arrival.port === 'dhcp' ? 'DHCP' : 'PXE'} port, not ${type}`, mac };
  }
  const target = await view.targets.lookup(mac);
  if (!target) return { ignored: 'MAC is not being provisioned', mac };

  // A configured subnet only names this server's address on that link: the pool is the site server's.
  const subnet = selectSubnet(config, req);
  const server = subnet ? serverIdOf(config, subnet) : config.serverAddress;
  const reply = baseReply(req, arrival.port === 'dhcp' ? 'OFFER' : 'ACK', server);
  fillBoot(config, server, req, reply, target);
  // PXE spec 2.2.5: the client's UUID comes back in the proxy's answers.
  const uuid = req.options.get(Opt.UUID_GUID);
  if (uuid) reply.options.set(Opt.UUID_GUID, uuid);
  const label = subnet?.name ?? (req.giaddr !== ZERO ? `relay ${req.giaddr}` : 'direct link');

  if (arrival.port === 'pxe') {
    reply.ciaddr = req.ciaddr;
    return { reply, to: arrival.from, broadcast: false, subnet: label, mac };
  }
  // An offer without an address cannot be unicast to the client (it has none yet): through a relay, ask it to broadcast.
  if (req.giaddr !== ZERO) reply.flags |= BROADCAST_FLAG;
  const to = destination(config, req, false);
  return { reply, to: { address: to.address, port: to.port }, broadcast: to.broadcast, subnet: label, mac };
}
