// The DHCPv6 server's socket: one UDP socket on [::]:547 that joins All_DHCP_Relay_Agents_and_Servers
// (ff02::1:2) on each directly served interface. Clients on those links send from their link-local
// address, which Node reports with its interface (fe80::…%eth0): that is how the policy knows the link,
// and where the answer goes. Relays send RELAY-FORW by unicast and get RELAY-REPL back at the address
// and port they sent from. Whatever arrives, nothing escapes the handler: a message that does not
// decode is counted and logged with its reason.
import dgram from 'node:dgram';
import type { Logger } from '../../../common/logger.ts';
import { dhcp6Dropped, dhcp6Messages } from '../../../common/metrics.ts';
import type { NetbootConfig } from '../config.ts';
import { Dhcp6DecodeError, Opt6, decodeMessage, encodeMessage, first, isRelay, msgName, type Dhcp6Message } from './codec.ts';
import { decide6, type Policy6View } from './policy.ts';

/** All_DHCP_Relay_Agents_and_Servers (RFC 8415 7.1). */
export const ALL_DHCP_AGENTS = 'ff02::1:2';

export interface Dhcp6Stats {
  received: number;
  malformed: number;
  ignored: number;
  replied: number;
  errors: number;
}

export interface Dhcp6Server {
  readonly port: number;
  readonly stats: Dhcp6Stats;
  close(): Promise<void>;
}

function innermost(m: Dhcp6Message): Dhcp6Message {
  return isRelay(m) ? innermost(m.message) : m;
}

export async function startDhcp6Server(opts: { config: NetbootConfig; view: Omit<Policy6View, 'config'>; logger: Logger }): Promise<Dhcp6Server> {
  const { config, logger } = opts;
  const view: Policy6View = { ...opts.view, config };
  const stats: Dhcp6Stats = { received: 0, malformed: 0, ignored: 0, replied: 0, errors: 0 };
  const socket = dgram.createSocket({ type: 'udp6', reuseAddr: true, ipv6Only: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: config.dhcp6.host, port: config.dhcp6.port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    for (const ifname of config.dhcp6.interfaces) socket.addMembership(ALL_DHCP_AGENTS, `::%${ifname}`);
  } catch (err) {
    socket.close();
    throw new Error(`DHCPv6: cannot join ${ALL_DHCP_AGENTS} on interfaces ${config.dhcp6.interfaces.join(', ')} (netboot.subnets6 interface / netboot.dhcp6.interfaces): ${(err as Error).message}`);
  }
  const port = socket.address().port;

  async function handle(msg: Buffer, from: dgram.RemoteInfo): Promise<void> {
    stats.received++;
    let message: Dhcp6Message;
    try {
      message = decodeMessage(msg);
    } catch (err) {
      if (!(err instanceof Dhcp6DecodeError)) throw err;
      stats.malformed++;
      dhcp6Dropped.inc({ reason: 'malformed' });
      logger.debug({ from: from.address, bytes: msg.length, reason: err.message }, 'malformed DHCPv6 message dropped');
      return;
    }
    const relayed = String(isRelay(message));
    const type = msgName(innermost(message).type);
    dhcp6Messages.inc({ direction: 'in', type, relayed });
    const decision = await decide6(message, { address: from.address, port: from.port }, view);
    if ('ignored' in decision) {
      stats.ignored++;
      dhcp6Dropped.inc({ reason: 'ignored' });
      logger.debug({ mac: decision.mac, type, from: from.address, reason: decision.ignored }, 'DHCPv6 message not answered');
      return;
    }
    const bytes = encodeMessage(decision.reply);
    await new Promise<void>((resolve, reject) => socket.send(bytes, decision.to.port, decision.to.address, (err) => (err ? reject(err) : resolve())));
    stats.replied++;
    dhcp6Messages.inc({ direction: 'out', type: decision.type, relayed });
    const bootFile = first(innermost(decision.reply).options, Opt6.BOOTFILE_URL)?.toString();
    logger.debug({ mac: decision.mac, subnet: decision.subnet, type: decision.type, to: decision.to.address, relayed: decision.relayed, bootFile }, 'DHCPv6 reply sent');
  }

  socket.on('message', (msg, from) => {
    handle(msg, from).catch((err) => {
      stats.errors++;
      logger.error({ err, from: from.address }, 'DHCPv6 message failed');
    });
  });
  socket.on('error', (err) => logger.error({ err }, 'DHCPv6 socket error'));
  logger.info({ host: config.dhcp6.host, port, interfaces: config.dhcp6.interfaces, subnets: config.subnets6.map((s) => s.name) }, 'DHCPv6 server listening');
  return {
    port,
    stats,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
