// Ironic's versioned notifications, published when notifications.transportUrl and .level are set
// (Ironic: [DEFAULT]transport_url, notification_level): one bus per process, shared by the API and
// the conductor of an all-in-one, started by the first and closed by the last. emitNode() never
// waits: the payload's database reads and the publish happen after the caller's move is saved.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { AnvilConfig } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import { chassisUuidOf } from '../../db/chassis.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { traitsOfNode } from '../../db/traits.ts';
import { NotificationBus } from './bus.ts';
import { nodePayload, PRIORITIES, type PayloadName, type Priority } from './payloads.ts';

let bus: NotificationBus | undefined;
let users = 0;
let settings: { topics: readonly string[]; level: number } | undefined;

/** Starts (or joins) this process's notification bus; the returned function leaves it. */
export function acquireNotifications(config: AnvilConfig, logger: Logger): () => Promise<void> {
  const n = config.notifications;
  if (!n.transportUrl || !n.level) return async () => undefined;
  if (!PRIORITIES.includes(n.level)) throw new Error(`notifications.level must be one of ${PRIORITIES.join(', ')}, got "${n.level}"`);
  users++;
  if (!bus) {
    bus = new NotificationBus({ url: n.transportUrl.replace(/^rabbit:/, 'amqp:'), exchange: n.exchange, bufferSize: n.bufferSize, reconnectInterval: n.reconnectInterval }, logger.child({ component: 'notifications' }));
    settings = { topics: n.topics, level: PRIORITIES.indexOf(n.level) };
  }
  let left = false;
  return async () => {
    if (left) return;
    left = true;
    if (--users > 0) return;
    const b = bus;
    bus = undefined;
    settings = undefined;
    await b?.close();
  };
}

/** Messages of this process still waiting for the bus (tests, shutdown). */
export function pendingNotifications(): number {
  return bus?.pending ?? 0;
}

/** oslo's timestamp: str(utcnow()), "YYYY-MM-DD HH:MM:SS.ffffff". */
function osloTime(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace('Z', '')}000`;
}

/** Who emits: Ironic's publisher ids are ironic-api.<host> and ironic-conductor.<host>. */
export interface Emitter {
  service: 'api' | 'conductor';
  host?: string;
}

/** Publishes one notification whose payload `build` makes; nothing when off or below the level. */
export function emit(emitter: Emitter, eventType: string, priority: Priority, build: () => Promise<Record<string, unknown>>): void {
  if (!bus || !settings || PRIORITIES.indexOf(priority) < settings.level) return;
  const message = (async () => {
    const payload = await build();
    return {
      message_id: randomUUID(),
      publisher_id: `ironic-${emitter.service}.${emitter.host ?? os.hostname()}`,
      event_type: eventType,
      priority: priority.toUpperCase(),
      payload,
      timestamp: osloTime(new Date()),
      _unique_id: randomUUID().replace(/-/g, ''),
    };
  })();
  for (const topic of settings.topics) {
    const body = message.then((m) => Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(m) })));
    bus.publish(`${topic}.${priority}`, priority, body);
  }
}

/**
 * A baremetal.node.<action>.<status> notification about `node` as it is now. `traits` may be given
 * when the node is gone (a deletion); otherwise they are read, after the caller went on.
 */
export function emitNode(knex: Knex, emitter: Emitter, action: string, status: string, priority: Priority, payloadName: PayloadName, node: NodeRecord, extra: Record<string, unknown> = {}, traits?: readonly string[]): void {
  if (!bus) return;
  emit(emitter, `baremetal.node.${action}.${status}`, priority, async () => {
    const chassis_uuid = payloadName === 'NodeCRUDPayload' && node.chassis_id ? await chassisUuidOf(knex, node.chassis_id) : null;
    return nodePayload(payloadName, node, { traits: traits ?? (await traitsOfNode(knex, node.id)), chassis_uuid }, extra);
  });
}

/** Whether this process publishes notifications (a deletion reads the traits beforehand only then). */
export function notificationsOn(): boolean {
  return bus !== undefined;
}
