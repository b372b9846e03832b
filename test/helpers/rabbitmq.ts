// The RabbitMQ of the notification tests (scripts/setup-rabbitmq.sh), a consumer of what Anvil
// publishes, and a TCP relay to it that a test can cut and restore to take the bus away.
import amqp, { type ChannelModel } from 'amqplib';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const SETUP_URL_FILE = path.resolve(import.meta.dirname, '../../.cache/test-rabbitmq.url');
export const AMQP_URL = process.env.ANVIL_TEST_AMQP
  ?? (existsSync(SETUP_URL_FILE) ? readFileSync(SETUP_URL_FILE, 'utf8').trim() : 'amqp://guest:guest@127.0.0.1:5672/');

export interface Received {
  routingKey: string;
  raw: string;
  /** The oslo envelope's message, parsed. */
  message: any;
}

export interface Consumer {
  received: Received[];
  /** Waits until a message with this event type arrived; returns it. */
  until(eventType: string, ms?: number): Promise<Received>;
  close(): Promise<void>;
}

/** Consumes every <topic>.* message of the exchange, through a queue of its own; removes the named queues Anvil declared at close. */
export async function consume(exchange: string, topic: string): Promise<Consumer> {
  const connection: ChannelModel = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: false });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, `${topic}.*`);
  const received: Received[] = [];
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    const raw = msg.content.toString('utf8');
    const envelope = JSON.parse(raw);
    received.push({ routingKey: msg.fields.routingKey, raw, message: JSON.parse(envelope['oslo.message']) });
  }, { noAck: true });
  return {
    received,
    async until(eventType, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const hit = received.find((r) => r.message.event_type === eventType);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no ${eventType} notification; got ${received.map((r) => r.message.event_type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      for (const priority of ['debug', 'info', 'warning', 'error', 'critical']) await channel.deleteQueue(`${topic}.${priority}`).catch(() => undefined);
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close();
    },
  };
}

/** A TCP relay to the broker on a port of its own: cut() drops every connection and refuses new ones until restore(). */
export async function brokerRelay(): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const target = new URL(AMQP_URL);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () => new Promise<void>((resolve, reject) => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5672), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as net.AddressInfo).port;
      resolve();
    });
  });
  const cut = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  };
  await listen();
  const url = new URL(AMQP_URL);
  url.host = `127.0.0.1:${port}`;
  return { url: url.toString(), cut, restore: listen, close: cut };
}
