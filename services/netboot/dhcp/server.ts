// The DHCP server's sockets. Relayed requests arrive by unicast and are answered to the relay's
// giaddr; direct clients are answered by broadcast from a socket bound to the server's address on
// that link, so the kernel sends the broadcast out of that interface (no raw sockets needed).
// In proxy mode a third socket, on the PXE port (4011), hears clients that already have an address.
import dgram from 'node:dgram';
import type { Logger } from '../../../common/logger.ts';
import { dhcpIgnored, dhcpMessages } from '../../../common/metrics.ts';
import type { NetbootConfig, SubnetConfig } from '../config.ts';
import { DhcpDecodeError, Opt, decodePacket, encodePacket, messageType, subOptions } from './codec.ts';
import { decide, serverIdOf, type PolicyView } from './policy.ts';
import { decideProxy, type Arrival } from './proxy.ts';

export interface DhcpStats {
  received: number;
  malformed: number;
  ignored: number;
  replied: number;
  errors: number;
}

export interface DhcpServer {
  readonly port: number;
  /** The PXE port bound in proxy mode. */
  readonly pxePort?: number;
  readonly stats: DhcpStats;
  close(): Promise<void>;
}

function bind(socket: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** `subnets`, when given, supplies the current subnets (the config's plus those added through the API). */
export async function startDhcpServer(opts: { config: NetbootConfig; view: Omit<PolicyView, 'config'>; logger: Logger; subnets?: () => SubnetConfig[] }): Promise<DhcpServer> {
  const { config, logger } = opts;
  const view: PolicyView = { ...opts.view, config };
  const stats: DhcpStats = { received: 0, malformed: 0, ignored: 0, replied: 0, errors: 0 };
  const main = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await bind(main, config.dhcp.host, config.dhcp.port);
  main.setBroadcast(true);
  const port = main.address().port;
  let pxeSocket: dgram.Socket | undefined;
  if (config.dhcp.mode === 'proxy') {
    pxeSocket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await bind(pxeSocket, config.dhcp.host, config.dhcp.pxePort);
    } catch (err) {
      main.close();
      pxeSocket.close();
      throw new Error(`ProxyDHCP cannot listen on the PXE port ${config.dhcp.host}:${config.dhcp.pxePort}: ${(err as Error).message}`);
    }
  }
  const effective: NetbootConfig = { ...config, dhcp: { ...config.dhcp, port, pxePort: pxeSocket?.address().port ?? config.dhcp.pxePort } };

  // A socket on the server's own address of the direct link, for broadcasts out of that link.
  let linkSocket: dgram.Socket | undefined;
  const direct = config.subnets.find((s) => s.direct);
  if (direct && config.dhcp.host === '0.0.0.0') {
    const candidate = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await bind(candidate, serverIdOf(config, direct), port);
      candidate.setBroadcast(true);
      linkSocket = candidate;
    } catch (err) {
      candidate.close();
      logger.warn({ err: (err as Error).message, address: serverIdOf(config, direct) }, 'cannot bind the direct link address; broadcasts follow the routing table');
    }
  }

  async function handle(msg: Buffer, from: dgram.RemoteInfo, arrival: Arrival): Promise<void> {
    stats.received++;
    let req;
    try {
      req = decodePacket(msg);
    } catch (err) {
      if (!(err instanceof DhcpDecodeError)) throw err;
      stats.malformed++;
      logger.debug({ from: from.address, bytes: msg.length, reason: err.message }, 'malformed DHCP packet dropped');
      return;
    }
    const relayed = String(req.giaddr !== '0.0.0.0');
    dhcpMessages.inc({ direction: 'in', type: messageType(req) ?? 'none', relayed });
    let decision;
    try {
      const current: PolicyView = { ...view, config: opts.subnets ? { ...effective, subnets: opts.subnets() } : effective };
      decision = effective.dhcp.mode === 'proxy' ? await decideProxy(req, current, arrival) : await decide(req, current);
    } catch (err) {
      if (!(err instanceof DhcpDecodeError)) throw err;
      stats.malformed++;
      logger.debug({ from: from.address, reason: err.message }, 'malformed DHCP option dropped');
      return;
    }
    if ('ignored' in decision) {
      stats.ignored++;
      dhcpIgnored.inc();
      logger.debug({ mac: decision.mac, type: messageType(req), reason: decision.ignored }, 'DHCP request not answered');
      return;
    }
    const bytes = encodePacket(decision.reply);
    // PXE-port answers leave from that port, where the client waits for them.
    const socket = arrival.port === 'pxe' ? pxeSocket! : decision.broadcast && linkSocket ? linkSocket : main;
    await new Promise<void>((resolve, reject) => socket.send(bytes, decision.to.port, decision.to.address, (err) => (err ? reject(err) : resolve())));
    stats.replied++;
    dhcpMessages.inc({ direction: 'out', type: messageType(decision.reply) ?? 'none', relayed });
    const agent = decision.reply.options.get(Opt.RELAY_AGENT);
    const circuitId = agent ? subOptions(agent).get(1)?.toString('latin1') : undefined;
    logger.debug({ mac: decision.mac, subnet: decision.subnet, type: messageType(decision.reply), yiaddr: decision.reply.yiaddr, to: decision.to.address, circuitId }, 'DHCP reply sent');
  }

  const onMessage = (arrival: (from: dgram.RemoteInfo) => Arrival) => (msg: Buffer, from: dgram.RemoteInfo): void => {
    handle(msg, from, arrival(from)).catch((err) => {
      stats.errors++;
      logger.error({ err }, 'DHCP request failed');
    });
  };
  const onDhcpPort = onMessage(() => ({ port: 'dhcp' }));
  main.on('message', onDhcpPort);
  linkSocket?.on('message', onDhcpPort);
  pxeSocket?.on('message', onMessage((from) => ({ port: 'pxe', from: { address: from.address, port: from.port } })));
  for (const s of [main, pxeSocket]) s?.on('error', (err) => logger.error({ err }, 'DHCP socket error'));
  logger.info({ host: config.dhcp.host, port, mode: config.dhcp.mode, pxePort: pxeSocket ? effective.dhcp.pxePort : undefined, subnets: config.subnets.map((s) => s.name) }, 'DHCP server listening');

  return {
    port,
    pxePort: pxeSocket ? effective.dhcp.pxePort : undefined,
    stats,
    async close() {
      await Promise.all([main, linkSocket, pxeSocket].filter((s): s is dgram.Socket => !!s).map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
