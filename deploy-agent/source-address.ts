// The address the conductor calls the agent back at: the one this machine sends from towards the
// API (the kernel's own route choice, IPv4 or IPv6 alike), as IPA picks its advertise address.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { bareHost } from '../common/url-host.ts';

/** The local address of a route to `apiUrl`'s host, or undefined when there is none; no packet is sent (a connected UDP socket). */
export async function sourceAddressTowards(apiUrl: string): Promise<string | undefined> {
  const url = new URL(apiUrl);
  const target = await lookup(bareHost(url.hostname)).catch(() => undefined);
  if (!target) return undefined;
  const socket = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(Number(url.port) || 80, target.address, () => resolve());
    });
    return socket.address().address;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}
