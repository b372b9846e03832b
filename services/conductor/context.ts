// The TaskContext a driver gets (drivers/interfaces.ts): the node as locked by this conductor.
// Every save is a compare-and-set on `reservation`, so a conductor that lost its lock (it was
// declared dead and its nodes taken over) cannot overwrite what the new owner does.
import type { TaskContext } from '../../drivers/interfaces.ts';
import type { ResolvedDriver } from '../../drivers/interfaces.ts';
import { resolveDriver } from '../../drivers/registry.ts';
import { recordHistory, type Severity } from '../../db/history.ts';
import { updateNode, type NodeRecord } from '../../db/nodes.ts';
import { portsOfNode, type PortRecord } from '../../db/ports.ts';
import type { Logger } from '../../common/logger.ts';
import type { Knex } from 'knex';
import type { AnvilConfig } from '../../common/config.ts';
import type { Runtime } from './runtime.ts';

/** The node lock was lost under running work; whatever it was doing must stop without writing. */
export class LockLost extends Error {
  constructor(node: string, host: string) {
    super(`conductor ${host} no longer holds the lock of node ${node}`);
    this.name = 'LockLost';
  }
}

export class NodeTask implements TaskContext {
  node: NodeRecord;
  readonly ports: readonly PortRecord[];
  readonly driver: ResolvedDriver;
  readonly logger: Logger;
  readonly config: AnvilConfig;
  signal: AbortSignal;
  /** event_type of the history lines note() writes (deploy, cleaning, power, ...). */
  eventType = 'provisioning';
  private closed = false;

  constructor(private readonly rt: Runtime, node: NodeRecord, ports: readonly PortRecord[], driver: ResolvedDriver, signal: AbortSignal, private readonly readOnly = false) {
    this.node = node;
    this.ports = ports;
    this.driver = driver;
    this.signal = signal;
    this.config = rt.config;
    this.logger = rt.logger.child({ node: node.uuid });
  }

  async save(fields: Partial<NodeRecord>): Promise<void> {
    if (this.readOnly) throw new Error(`node ${this.node.uuid} is not locked by this conductor: a read-only operation tried to save`);
    if (this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    const updated = await updateNode(this.rt.db.knex, this.node.id, fields, { reservation: this.rt.host });
    if (!updated) throw new LockLost(this.node.uuid, this.rt.host);
    this.node = updated;
  }

  /** Saves fields and writes the history line that says why, in one transaction (a reader never sees one without the other). */
  async saveAndNote(fields: Partial<NodeRecord>, message: (node: NodeRecord) => string, severity: Severity = 'info'): Promise<void> {
    if (this.closed) throw new LockLost(this.node.uuid, this.rt.host);
    this.node = await this.rt.db.knex.transaction(async (trx) => {
      const updated = await updateNode(trx, this.node.id, fields, { reservation: this.rt.host });
      if (!updated) throw new LockLost(this.node.uuid, this.rt.host);
      await recordHistory(trx, this.node.id, { event: message(updated), severity, event_type: this.eventType, conductor: this.rt.host });
      return updated;
    });
  }

  async note(message: string, severity: Severity = 'info'): Promise<void> {
    await recordHistory(this.rt.db.knex, this.node.id, { event: message, severity, event_type: this.eventType, conductor: this.rt.host });
  }

  /** The database, for what the conductor stores beside the node row (inventory, ports). */
  get knex(): Knex {
    return this.rt.db.knex;
  }

  /** After the work is over nothing may save through this context any more (a driver call left running in the background). */
  close(): void {
    this.closed = true;
  }
}

/** Builds the context of a node this conductor has locked. Throws when the node's driver can't be composed. */
export async function openTask(rt: Runtime, node: NodeRecord, signal: AbortSignal): Promise<NodeTask> {
  const driver = resolveDriver(node);
  return new NodeTask(rt, node, await portsOfNode(rt.db.knex, node.id), driver, signal);
}

/** A context for reads without the lock (Ironic's shared lock), as the power-state sync uses. */
export async function openReadOnlyTask(rt: Runtime, node: NodeRecord, signal: AbortSignal): Promise<NodeTask> {
  const driver = resolveDriver(node);
  return new NodeTask(rt, node, await portsOfNode(rt.db.knex, node.id), driver, signal, true);
}
