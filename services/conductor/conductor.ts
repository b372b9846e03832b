// The conductor role: registers and heart-beats in `conductors`, owns the nodes the hash ring of
// its group gives it, and works them in a bounded pool: woken by WORK_CHANNEL (LISTEN/NOTIFY on
// PostgreSQL, an in-process event on SQLite) and by a poll, so no request is lost. A notification
// that names a node is acted on by that node's owner alone, which queues that node without a scan;
// the poll's scan finds what a notification missed (an owner that died, rings that disagreed). Waiting
// allocations are processed on the same wake-ups, by any conductor. Periodic jobs: take-over of
// dead conductors' nodes, wait-state timeouts, power-state sync, consoles to serve again, pruning
// of the node change logs.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AnvilConfig } from '../../common/config.ts';
import { errorMessage } from '../../common/errors.ts';
import { reportConductor } from '../../common/metrics.ts';
import { acquireNotifications } from '../notifications/index.ts';
import type { Logger } from '../../common/logger.ts';
import { UNSTABLE_STATES, WORKING_STATES } from '../../common/states.ts';
import { aliveConductors, heartbeatConductor, listConductors, registerConductor, unregisterConductor } from '../../db/conductors.ts';
import type { Database } from '../../db/index.ts';
import { groupsWithWork, nodesForPowerSync, releaseAllReservations, reservationHolders } from '../../db/nodes.ts';
import { ALLOCATIONS_WAITING, hostsWithRunningTasks, nodeWorkOf, requeueTasksOf, WORK_CHANNEL, type NodeWork } from '../../db/tasks.ts';
import { checkInterfaceConfig, holdDriverFamilies, listHardwareTypes, unservedHardwareTypes } from '../../drivers/registry.ts';
import { processAllocations } from './allocations.ts';
import { claimBatch, findWork, type ClaimedNode, type WorkItem } from './claim.ts';
import { GroupRings } from '../../common/hash-ring.ts';
import { workNode } from './node-work.ts';
import { WorkerPool } from './pool.ts';
import { syncPowerState } from './power.ts';
import { readSensors } from './sensors.ts';
import { ConductorStopping, type Runtime } from './runtime.ts';
import { recoverLocksOf } from './takeover.ts';
import { checkTimeouts } from './timeouts.ts';
import { restoreConsoles } from './console.ts';
import { pruneChangeLogs } from './change-logs.ts';
import { networkConfig } from '../../drivers/switch/config.ts';

/** Payload of a WORK_CHANNEL notification that says the set of conductors changed. */
const MEMBERSHIP_CHANGED = 'conductors';

export class Conductor {
  private readonly db: Database;
  private readonly config: AnvilConfig;
  private readonly logger: Logger;
  private readonly host: string;
  private readonly group: string;
  private readonly pool: WorkerPool;
  private readonly stopController = new AbortController();
  private readonly rt: Runtime;
  private rings = new GroupRings([]);
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Nodes found with work, waiting for a free worker, in the order found. */
  private readonly queue = new Map<number, WorkItem>();
  /** Nodes named by a notification while they were worked: queued again once that work ends. */
  private readonly again = new Map<number, WorkItem>();
  private pumpTimer?: NodeJS.Timeout;
  private pumpSoon?: NodeJS.Immediate;
  private readonly timers: NodeJS.Timeout[] = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private unlisten?: () => Promise<void>;
  private releaseDrivers?: () => Promise<void>;
  private unreport?: () => void;
  private releaseNotifications?: () => Promise<void>;
  private scanTimer?: NodeJS.Timeout;
  private scanning = false;
  private rescan = false;
  private lastScanEnd = 0;
  /** Pause between scans, twice the last scan's duration: a busy database isn't flooded by wake-ups. */
  private scanGap = 0;
  /** Scans asked for by notifications that name no node; work finishing compares it to know if one skipped its node. */
  private wakeups = 0;
  private readonly busy = new Set<string>();
  private readonly powerFailures = new Map<number, number>();
  private readonly unservedGroups = new Set<string>();
  private allocateAgain = false;

  constructor(opts: { db: Database; config: AnvilConfig; logger: Logger }) {
    this.db = opts.db;
    this.config = opts.config;
    this.host = opts.config.conductor.hostname;
    this.group = opts.config.conductor.group.toLowerCase();
    this.logger = opts.logger.child({ conductor: this.host });
    this.pool = new WorkerPool(Math.max(1, opts.config.conductor.workers));
    const self = this;
    this.rt = {
      db: this.db,
      config: this.config,
      logger: this.logger,
      host: this.host,
      group: this.group,
      stopSignal: this.stopController.signal,
      owns: (node) => self.rings.ownerOf(node) === self.host,
      get stopping() {
        return self.state !== 'running';
      },
    };
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('a Conductor starts once');
    const c = this.config.conductor;
    checkInterfaceConfig(this.config.interfaces);
    // The network section, the trait-based networking file with it: a bad one stops the start, not a deploy.
    networkConfig(this.config);
    for (const { name, iface } of unservedHardwareTypes(this.config.interfaces)) this.logger.warn(`hardware type ${name} is not served: interfaces.enabled.${iface} enables none of its ${iface} interfaces`);
    await registerConductor(this.db.knex, this.host, this.group, listHardwareTypes(this.config.interfaces).map((h) => h.name));
    await this.refreshMembership();
    // Locks left by our own previous run (a crash): that run is over, its operations were interrupted.
    await recoverLocksOf(this.rt, [this.host], (h) => `Conductor ${h} restarted`, false);
    this.state = 'running';
    this.releaseDrivers = holdDriverFamilies();
    this.releaseNotifications = acquireNotifications(this.config, this.logger);
    this.unreport = reportConductor({ host: this.host, queued: () => this.queue.size, busy: () => this.pool.size, workers: this.pool.limit });
    this.unlisten = await this.db.listen(WORK_CHANNEL, (payload) => {
      if (payload === ALLOCATIONS_WAITING) this.allocate();
      else if (payload === MEMBERSHIP_CHANGED) {
        this.periodic('ring', () => this.refreshMembership());
        this.notified();
      }
      // A node's work brings no allocation (a new one says so; the poll makes a pass anyway): an
      // allocation pass per provision request was a query per request for nothing.
      else {
        const work = nodeWorkOf(payload);
        if (work) this.nodeNamed(work);
        // A payload that names no node (an older API process's) asks every conductor to scan.
        else this.nodeWork();
      }
    });
    // The heart-beat runs on its own so a slow take-over can never delay it.
    this.heartbeatTimer = setInterval(() => this.periodic('heartbeat', () => heartbeatConductor(this.db.knex, this.host), true), c.heartbeatInterval * 1000);
    this.timers.push(setInterval(() => this.periodic('membership', () => this.watchConductors()), c.heartbeatInterval * 1000));
    this.timers.push(setInterval(() => this.poll(), c.pollInterval * 1000));
    this.timers.push(setInterval(() => this.periodic('timeouts', () => checkTimeouts(this.rt)), c.timeoutCheckInterval * 1000));
    this.timers.push(setInterval(() => this.periodic('change log pruning', () => pruneChangeLogs(this.rt)), c.changeLogPruneInterval * 1000));
    if (this.config.metrics.sensors) this.timers.push(setInterval(() => this.periodic('sensors', () => readSensors(this.rt)), this.config.metrics.sensorInterval * 1000));
    // Consoles recorded enabled that this process does not serve (a restart, a take-over) start again.
    this.timers.push(setInterval(() => this.periodic('consoles', () => restoreConsoles(this.rt)), c.heartbeatInterval * 1000));
    this.periodic('consoles', () => restoreConsoles(this.rt));
    if (c.powerSyncInterval > 0) this.timers.push(setInterval(() => this.periodic('power sync', () => this.syncPower()), c.powerSyncInterval * 1000));
    await this.db.notify(WORK_CHANNEL, MEMBERSHIP_CHANGED);
    this.wake();
    // Allocations left waiting: new ones, our previous run's, those of conductors that died.
    this.allocate();
    this.logger.info({ group: this.group, workers: this.pool.limit }, `conductor ${this.host} started`);
  }

  /** Lets running work finish (up to conductor.shutdownTimeout), hands back the rest, and goes offline. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.scanTimer);
    clearTimeout(this.pumpTimer);
    if (this.pumpSoon) clearImmediate(this.pumpSoon);
    this.queue.clear();
    this.again.clear();
    await this.unlisten?.();
    const grace = this.config.conductor.shutdownTimeout * 1000;
    const finished = await Promise.race([this.pool.drain().then(() => true), sleep(grace, false)]);
    if (!finished) {
      this.logger.warn(`work still running after ${this.config.conductor.shutdownTimeout} s; handing it back`);
      this.stopController.abort(new ConductorStopping(this.host));
      await this.pool.drain();
    }
    clearInterval(this.heartbeatTimer);
    // Wait for periodic jobs that were mid-way (a take-over, a timeout check) so nothing writes after we are gone.
    while (this.busy.size > 0) await sleep(10);
    await releaseAllReservations(this.db.knex, this.host);
    await requeueTasksOf(this.db.knex, this.host);
    await unregisterConductor(this.db.knex, this.host);
    await this.db.notify(WORK_CHANNEL, MEMBERSHIP_CHANGED).catch(() => undefined);
    // The last conductor of the process closes the drivers' clients, BMC sessions, sockets and servers.
    await this.releaseDrivers?.().catch((err) => this.logger.warn({ err }, `closing the drivers failed: ${errorMessage(err)}`));
    this.unreport?.();
    await this.releaseNotifications?.();
    this.state = 'stopped';
    this.logger.info(`conductor ${this.host} stopped`);
  }

  /** Runs a periodic job unless its previous run is still going; errors are logged, the next run retries. */
  private periodic(name: string, job: () => Promise<unknown>, evenWhileStopping = false): void {
    if (this.busy.has(name) || (this.state !== 'running' && !evenWhileStopping)) return;
    this.busy.add(name);
    job()
      .catch((err) => this.logger.warn({ err }, `${name} failed: ${errorMessage(err)}`))
      .finally(() => this.busy.delete(name));
  }

  /** Follows who is alive: rebuilds the rings, takes over from dead conductors, reports unserved groups. */
  private async watchConductors(): Promise<void> {
    await this.refreshMembership();
    await this.takeOverDeadConductors();
    await this.reportUnservedGroups();
  }

  /** Rebuilds the hash rings from the conductors that heart-beat recently. */
  private async refreshMembership(): Promise<void> {
    const alive = await aliveConductors(this.db.knex, this.config.conductor.heartbeatTimeout * 1000);
    this.rings = new GroupRings(alive);
  }

  private async takeOverDeadConductors(): Promise<void> {
    const holders = new Set([...(await reservationHolders(this.db.knex)), ...(await hostsWithRunningTasks(this.db.knex))]);
    if (holders.size === 0) return;
    const timeoutMs = this.config.conductor.heartbeatTimeout * 1000;
    const alive = new Set((await aliveConductors(this.db.knex, timeoutMs)).map((c) => c.hostname));
    // Only hosts known as conductors: a lock held by a name with no conductors row is not ours to judge.
    const dead = (await listConductors(this.db.knex)).map((c) => c.hostname).filter((h) => holders.has(h) && !alive.has(h) && h !== this.host);
    if (dead.length === 0) return;
    const freed = await recoverLocksOf(this.rt, dead, (h) => `Conductor ${h} stopped heart-beating for over ${this.config.conductor.heartbeatTimeout} s`, true);
    if (freed > 0) this.wake();
  }

  /** A node whose group has no alive conductor is not worked; say so once per group. */
  private async reportUnservedGroups(): Promise<void> {
    for (const group of await groupsWithWork(this.db.knex, WORKING_STATES)) {
      if (this.rings.hasGroup(group)) {
        this.unservedGroups.delete(group);
      } else if (!this.unservedGroups.has(group)) {
        this.unservedGroups.add(group);
        this.logger.warn({ group }, `nodes of conductor group "${group}" wait for work but no conductor of that group is alive`);
      }
    }
  }

  private notified(): void {
    this.nodeWork();
    this.allocate();
  }

  /** The safety net: a scan and an allocation pass. A node it skips while worked is seen by the next poll. */
  private poll(): void {
    this.wake();
    this.allocate();
  }

  private nodeWork(): void {
    this.wakeups++;
    this.wake();
  }

  /** A notification named a node: its owner queues it (or queues it again after the work under way). */
  private nodeNamed(work: NodeWork): void {
    if (this.state !== 'running' || !this.rt.owns(work)) return;
    this.enqueue({ id: work.id, tasks: work.tasks }, this.pool.has(work.id) ? this.again : this.queue);
    // Notifications come in bursts (one socket read, one request each): one claim for the burst.
    this.pumpSoon ??= setImmediate(() => {
      this.pumpSoon = undefined;
      this.pump();
    });
  }

  /** Runs a pass over waiting allocations, or another one right after the pass under way (it may have missed the newest). */
  private allocate(): void {
    if (this.busy.has('allocations')) {
      this.allocateAgain = true;
      return;
    }
    this.periodic('allocations', async () => {
      do {
        this.allocateAgain = false;
        await processAllocations(this.rt);
      } while (this.allocateAgain && this.state === 'running');
    });
  }

  /** Adds a node to a queue, or merges it with its entry there (a task seen makes the entry run tasks). */
  private enqueue(item: WorkItem, queue = this.queue): void {
    const queued = queue.get(item.id);
    if (queued) queued.tasks ||= item.tasks;
    else queue.set(item.id, item);
  }

  /** Asks for a scan for work soon (coalesced, at most one running, paced by the last scan's duration). */
  private wake(): void {
    if (this.state !== 'running') return;
    this.rescan = true;
    if (this.scanning || this.scanTimer) return;
    const wait = Math.max(0, this.lastScanEnd + this.scanGap - Date.now());
    this.scanTimer = setTimeout(() => {
      this.scanTimer = undefined;
      void this.scan();
    }, wait);
  }

  private async scan(): Promise<void> {
    if (this.state !== 'running') return;
    this.scanning = true;
    this.rescan = false;
    const started = Date.now();
    try {
      for (const item of await findWork(this.rt)) if (!this.pool.has(item.id)) this.enqueue(item);
    } catch (err) {
      this.logger.warn({ err }, `looking for work failed: ${errorMessage(err)}`);
    } finally {
      this.scanning = false;
      this.lastScanEnd = Date.now();
      // While a backlog is queued, new requests can wait a little: rescanning a long list of
      // waiting nodes on every wake-up would take the database from the work itself.
      this.scanGap = Math.min(1000, Math.max(2 * (this.lastScanEnd - started), this.queue.size > this.pool.limit ? 250 : 0));
    }
    this.pump();
    if (this.rescan) this.wake();
  }

  /**
   * Starts queued nodes on free workers, claimed in batches: when few workers are free and more
   * work waits, it waits a moment for more to free up, so one statement locks many nodes.
   */
  private pump(): void {
    if (this.state !== 'running' || this.queue.size === 0 || this.pool.free() === 0) return;
    const batchMin = Math.min(this.queue.size, Math.max(1, Math.floor(this.pool.limit / 8)));
    if (this.pool.free() < batchMin) {
      this.pumpTimer ??= setTimeout(() => {
        this.pumpTimer = undefined;
        this.startBatch();
      }, 5);
      return;
    }
    this.startBatch();
  }

  private startBatch(): void {
    if (this.state !== 'running') return;
    const batch: WorkItem[] = [];
    for (const [id, item] of this.queue) {
      if (batch.length >= this.pool.free()) break;
      this.queue.delete(id);
      if (!this.pool.has(id)) batch.push(item);
    }
    if (batch.length === 0) return;
    const claimed: Promise<Map<number, ClaimedNode>> = claimBatch(this.rt, batch);
    claimed.catch((err) => this.logger.warn({ err }, `claiming nodes failed: ${errorMessage(err)}`));
    const wakeupsAtStart = this.wakeups;
    for (const item of batch) {
      this.pool.tryRun(item.id, async () => {
        // A node locked elsewhere (a take-over in progress, say) is left for a later scan.
        const mine = (await claimed).get(item.id);
        if (mine) await workNode(this.rt, mine);
      }, () => {
        // Work asked for this node while it was worked: a notification named it, or a scan it
        // asked for skipped it (busy nodes are not queued).
        const again = this.again.get(item.id);
        if (again) {
          this.again.delete(item.id);
          this.enqueue(again);
        }
        if (this.wakeups !== wakeupsAtStart) this.wake();
        this.pump();
      });
    }
  }

  /** Syncs power states of owned nodes, using at most half the workers so provisioning keeps going. */
  private async syncPower(): Promise<void> {
    const started = performance.now();
    const share = Math.max(1, Math.floor(this.pool.limit / 2));
    const candidates = await nodesForPowerSync(this.db.knex, this.group, UNSTABLE_STATES);
    const reads: Promise<void>[] = [];
    let owned = 0;
    let answered = 0;
    for (const node of candidates) {
      if (this.state !== 'running') return;
      if (!this.rt.owns(node)) continue;
      owned++;
      if (this.pool.has(node.id)) continue;
      while (this.pool.size >= share) await this.pool.slotFreed();
      reads.push(new Promise((done) => {
        const read = async () => { if (await syncPowerState(this.rt, node.id, this.powerFailures)) answered++; };
        if (!this.pool.tryRun(node.id, read, done)) done();
      }));
    }
    // The sweep's figures once its last read ended; the next sweep doesn't wait for a hung BMC's read.
    void Promise.all(reads).then(() => this.logger.info(
      { nodes: owned, read: answered, missed: owned - answered, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) },
      `power sync read ${answered} of ${owned} nodes`,
    ));
  }
}
