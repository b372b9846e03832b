// One reader of the database's change stream per API process (migration 007), shared by every
// console client: on PostgreSQL the triggers' NOTIFY wakes it, on SQLite it polls the change
// sequence (one indexed range read per interval, whatever the number of clients). Changes that
// arrive together are read back in one query and handed to the subscribers as fleet rows.
import type { Database } from '../../../db/index.ts';
import { changesAfter, fleetRows, lastChangeSeq, pruneChanges, pruneTransitions, type FleetRow } from '../../../db/console.ts';
import { errorMessage } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';

export interface FleetChange {
  nodes: FleetRow[];
  /** Nodes that no longer exist. */
  deleted: string[];
}

export type ChangeHandler = (change: FleetChange) => void;

const CHANNEL = 'anvil_node_changes';
const KEEP_CHANGES_MS = 10 * 60_000;
const KEEP_TRANSITIONS_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 60_000;

export class ChangeFeed {
  private readonly handlers = new Set<ChangeHandler>();
  private readonly pending = new Set<string>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private unlisten?: () => Promise<void>;
  private seq = 0;
  private lastPrune = 0;
  private starting?: Promise<void>;

  /** `intervalMs`: how often SQLite's sequence is read, and how long PostgreSQL's wake-ups are gathered. */
  constructor(private readonly db: Database, private readonly logger: Logger, private readonly intervalMs: number) {}

  /** Calls `handler` with every change from now on; returns the unsubscribe function. */
  async subscribe(handler: ChangeHandler): Promise<() => void> {
    this.handlers.add(handler);
    this.starting ??= this.start();
    await this.starting;
    return () => {
      this.handlers.delete(handler);
    };
  }

  private async start(): Promise<void> {
    if (this.db.kind === 'pg') {
      this.unlisten = await this.db.listen(CHANNEL, (uuid) => {
        this.pending.add(uuid);
        this.timer ??= setTimeout(() => this.tick(), this.intervalMs);
      });
    } else {
      this.seq = await lastChangeSeq(this.db.knex);
      this.timer = setInterval(() => this.tick(), this.intervalMs);
    }
  }

  private tick(): void {
    if (this.db.kind === 'pg') this.timer = undefined;
    if (this.flushing) return;
    this.flushing = this.flush()
      .catch((err) => this.logger.warn(`console change feed: ${errorMessage(err)}`))
      .finally(() => {
        this.flushing = undefined;
        // Wake-ups that came while reading are read at the next tick.
        if (this.db.kind === 'pg' && this.pending.size > 0) this.timer ??= setTimeout(() => this.tick(), this.intervalMs);
      });
  }

  private async flush(): Promise<void> {
    let uuids: string[];
    if (this.db.kind === 'pg') {
      uuids = [...this.pending];
      this.pending.clear();
    } else {
      const next = await changesAfter(this.db.knex, this.seq);
      this.seq = next.seq;
      uuids = next.uuids;
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) await this.prune();
    if (uuids.length === 0 || this.handlers.size === 0) return;
    const nodes = await fleetRows(this.db.knex, uuids);
    const found = new Set(nodes.map((n) => n.uuid));
    const change = { nodes, deleted: uuids.filter((u) => !found.has(u)) };
    for (const h of this.handlers) h(change);
  }

  private async prune(): Promise<void> {
    this.lastPrune = Date.now();
    if (this.db.kind === 'sqlite') await pruneChanges(this.db.knex, this.lastPrune - KEEP_CHANGES_MS);
    await pruneTransitions(this.db.knex, this.lastPrune - KEEP_TRANSITIONS_MS);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.unlisten?.();
    this.handlers.clear();
  }
}
