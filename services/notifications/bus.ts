// The message bus side of notifications: AMQP 0-9-1 (RabbitMQ) with amqplib, as oslo.messaging's
// rabbit driver publishes them: a topic exchange (notifications.exchange, Ironic's "ironic"), one
// routing key and queue per topic and priority ("ironic_versioned_notifications.info"), each body
// oslo's version-2 envelope. Publishing never blocks the caller: messages wait in a bounded buffer
// while the bus is away (the oldest dropped, and counted, once it is full), the connection is
// retried with back-off, and a message leaves the buffer only when the broker confirmed it.
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { maskUrlPasswords } from '../../common/secrets.ts';
import { notificationsBuffered, notificationsDropped, notificationsPublished } from '../../common/metrics.ts';

export interface BusOptions {
  url: string;
  exchange: string;
  bufferSize: number;
  /** Seconds before the first reconnection attempt (doubled up to 30 s). */
  reconnectInterval: number;
}

interface Pending {
  routingKey: string;
  priority: string;
  /** The body, built after the caller went on (its database reads must not hold up the move). */
  body: Promise<Buffer>;
}

export class NotificationBus {
  private readonly buffer: Pending[] = [];
  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private readonly declared = new Set<string>();
  private connecting = false;
  private flushing = false;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private delay: number;

  constructor(private readonly opts: BusOptions, private readonly logger: Logger) {
    this.delay = opts.reconnectInterval;
  }

  /** Queues one message and returns at once. */
  publish(routingKey: string, priority: string, body: Promise<Buffer>): void {
    if (this.closed) return;
    body.catch(() => undefined); // a failed build is dropped at its turn, never an unhandled rejection
    if (this.buffer.length >= this.opts.bufferSize) {
      this.buffer.shift();
      notificationsDropped.inc({ reason: 'buffer full' });
    }
    this.buffer.push({ routingKey, priority, body });
    notificationsBuffered.set(this.buffer.length);
    if (this.channel) void this.flush();
    else this.connect();
  }

  /** Messages waiting for the bus. */
  get pending(): number {
    return this.buffer.length;
  }

  private connect(): void {
    if (this.connecting || this.channel || this.closed || this.retryTimer) return;
    this.connecting = true;
    void (async () => {
      try {
        // Loaded by the first connection: a deployment without a notification bus never loads it.
        const amqp = await import('amqplib');
        const connection = await amqp.connect(this.opts.url, { timeout: 5000 });
        connection.on('error', (err) => this.logger.warn(`notification bus error: ${errorMessage(err)}`));
        connection.on('close', () => this.lost('the connection closed'));
        const channel = await connection.createConfirmChannel();
        channel.on('error', (err) => this.logger.warn(`notification channel error: ${errorMessage(err)}`));
        await channel.assertExchange(this.opts.exchange, 'topic', { durable: false });
        this.connection = connection;
        this.channel = channel;
        this.declared.clear();
        this.delay = this.opts.reconnectInterval;
        this.logger.info(`notifications go to ${maskUrlPasswords(this.opts.url)} (exchange ${this.opts.exchange})`);
        void this.flush();
      } catch (err) {
        this.logger.warn(`cannot reach the notification bus at ${maskUrlPasswords(this.opts.url)}: ${errorMessage(err)}; retrying in ${this.delay} s`);
        this.retryLater();
      } finally {
        this.connecting = false;
      }
    })();
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.buffer.length > 0) this.connect();
    }, this.delay * 1000);
    this.retryTimer.unref();
    this.delay = Math.min(30, this.delay * 2);
  }

  private lost(why: string): void {
    if (!this.channel && !this.connection) return;
    this.channel = undefined;
    this.connection = undefined;
    if (this.closed) return;
    this.logger.warn(`notification bus lost (${why}); ${this.buffer.length} waiting`);
    this.retryLater();
  }

  /** Sends the buffer in order, one confirmed message at a time. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.buffer.length > 0 && this.channel) {
        const next = this.buffer[0];
        let body: Buffer;
        try {
          body = await next.body;
        } catch (err) {
          this.buffer.shift();
          notificationsDropped.inc({ reason: 'payload failed' });
          this.logger.warn(`a notification could not be built: ${errorMessage(err)}`);
          continue;
        }
        const channel = this.channel;
        try {
          if (!this.declared.has(next.routingKey)) {
            // As oslo's rabbit driver: the queue named after the routing key, so nothing is lost before a consumer comes.
            await channel.assertQueue(next.routingKey, { durable: false });
            await channel.bindQueue(next.routingKey, this.opts.exchange, next.routingKey);
            this.declared.add(next.routingKey);
          }
          await new Promise<void>((resolve, reject) => {
            channel.publish(this.opts.exchange, next.routingKey, body, { contentType: 'application/json', contentEncoding: 'utf-8' }, (err) => (err ? reject(err) : resolve()));
          });
        } catch (err) {
          // Not confirmed: it stays first in the buffer for the next connection.
          this.lost(errorMessage(err));
          break;
        }
        if (this.buffer[0] === next) this.buffer.shift();
        notificationsPublished.inc({ priority: next.priority });
      }
    } finally {
      notificationsBuffered.set(this.buffer.length);
      this.flushing = false;
    }
    if (this.buffer.length > 0 && this.channel) void this.flush();
  }

  /** Waits up to `ms` for the buffer to empty (a stopping process sends what it can), then disconnects. */
  async close(ms = 2000): Promise<void> {
    const end = Date.now() + ms;
    while (this.buffer.length > 0 && this.channel && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection;
    this.channel = undefined;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }
}
