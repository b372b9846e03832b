// One reader of the database's change stream per API process (migrations 008 and 019), shared by
// every console client: it polls the change log the triggers write (one indexed range read per
// interval, whatever the number of clients). Changes read together are read back in one query
// and handed to the subscribers as fleet rows. The log is pruned by a conductor (change-logs.ts).
import type { Database } from '../../../db/index.ts';
import { changeCursorNow, changesAfter, fleetRows, type ChangeCursor, type FleetRow } from '../../../db/console.ts';
import { errorMessage } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';

export interface FleetChange {
  nodes: FleetRow[];
  /** Nodes that no longer exist. */
  deleted: string[];
}

export type ChangeHandler = (change: FleetChange) => void;

export class ChangeFeed {
  private readonly handlers = new Set<ChangeHandler>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private cursor: ChangeCursor = { xid: 0, seq: 0 };
  private starting?: Promise<void>;

  /** `intervalMs`: how often the change log is read. */
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
    this.cursor = await changeCursorNow(this.db.knex);
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  private tick(): void {
    if (this.flushing) return;
    this.flushing = this.flush()
      .catch((err) => this.logger.warn(`console change feed: ${errorMessage(err)}`))
      .finally(() => {
        this.flushing = undefined;
      });
  }

  private async flush(): Promise<void> {
    const next = await changesAfter(this.db.knex, this.cursor);
    this.cursor = next.cursor;
    const { uuids } = next;
    if (uuids.length === 0 || this.handlers.size === 0) return;
    const nodes = await fleetRows(this.db.knex, uuids);
    const found = new Set(nodes.map((n) => n.uuid));
    const change = { nodes, deleted: uuids.filter((u) => !found.has(u)) };
    for (const h of this.handlers) h(change);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    this.handlers.clear();
  }
}
