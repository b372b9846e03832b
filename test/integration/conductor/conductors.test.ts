// Several conductors on one database: sharing nodes by the hash ring without ever acting on one
// node at once, taking over from a conductor that stopped heart-beating, recovering their own
// locks after a crash, conductor groups, and a graceful stop that hands work back.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GroupRings } from '../../../common/hash-ring.ts';
import { conductorClaims } from '../../../common/metrics.ts';
import { registerConductor, getConductor } from '../../../db/conductors.ts';
import { openDatabase, type Database } from '../../../db/index.ts';
import { getNodeById, updateNode } from '../../../db/nodes.ts';
import { enqueueTask, claimTask, waitForTask } from '../../../db/tasks.ts';
import { fakeDeploy, fakePower } from '../../../drivers/fake/index.ts';
import type { TaskContext } from '../../../drivers/interfaces.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { eventually, fakeNode, history, ONE_LIFECYCLE, requestProvision, runLifecycle, startConductor, untilState } from './helpers.ts';

describe.each(BACKENDS)('several conductors on %s', (backend) => {
  let t: TestDatabase;
  const extraDbs: Database[] = [];
  const running: Conductor[] = [];
  /** Another connection to the same database, as a second process would have (PostgreSQL); SQLite shares its one. */
  async function connection(): Promise<Database> {
    if (backend === 'sqlite') return t.db;
    const db = await openDatabase(t.url, { migrate: false });
    extraDbs.push(db);
    return db;
  }
  async function conductor(hostname: string, overrides: Parameters<typeof startConductor>[2] = {}): Promise<Conductor> {
    const c = await startConductor(await connection(), hostname, overrides);
    running.push(c);
    return c;
  }
  beforeAll(async () => { t = await createTestDatabase(backend); });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const c of running.splice(0)) await c.stop();
  });
  afterAll(async () => {
    for (const db of extraDbs) await db.close();
    await t.drop();
  });

  it('share the nodes and never act on the same node at once', async () => {
    const active = new Map<string, number>();
    let overlaps = 0;
    function guard<A extends [TaskContext, ...unknown[]], R>(obj: Record<string, unknown>, method: string): void {
      const original = obj[method] as (...a: A) => Promise<R>;
      vi.spyOn(obj as Record<string, (...a: A) => Promise<R>>, method).mockImplementation(async (...args: A) => {
        const uuid = args[0].node.uuid;
        if ((active.get(uuid) ?? 0) > 0) overlaps++;
        active.set(uuid, (active.get(uuid) ?? 0) + 1);
        try {
          return await original.apply(obj, args);
        } finally {
          active.set(uuid, active.get(uuid)! - 1);
        }
      });
    }
    guard(fakeDeploy as unknown as Record<string, unknown>, 'deploy');
    guard(fakeDeploy as unknown as Record<string, unknown>, 'clean');
    guard(fakePower as unknown as Record<string, unknown>, 'getPowerState');
    await conductor('ring-a', { workers: 8 });
    await conductor('ring-b', { workers: 8 });
    const nodes = await Promise.all(Array.from({ length: 40 }, () => fakeNode(t.db, { driver_info: { fake_delay: 0.02 } })));
    const { events, conductors } = await runLifecycle(t.db, nodes);
    expect(overlaps).toBe(0);
    for (const e of events) expect(e).toEqual(ONE_LIFECYCLE);
    expect(conductors).toEqual(['ring-a', 'ring-b']);
  });

  /** Claims each conductor has made so far. */
  async function claims(host: string): Promise<number> {
    return (await conductorClaims.get()).values.find((v) => v.labels.conductor === host)?.value ?? 0;
  }
  /** A new node of the default group that `owner` owns on the ring of `hosts`. */
  async function nodeOwnedBy(owner: string, hosts: string[]) {
    const ring = new GroupRings(hosts.map((hostname) => ({ hostname, conductor_group: '' })));
    for (;;) {
      const node = await fakeNode(t.db, { provision_state: 'manageable' });
      if (ring.ownerOf(node) === owner) return node;
      await t.db.knex('nodes').where({ id: node.id }).delete();
    }
  }

  it('act on a notification that names a node by its owner alone, with no scan', async () => {
    // No poll during the test: what happens is the notification's doing.
    await conductor('named-a', { pollInterval: 600 });
    await conductor('named-b', { pollInterval: 600 });
    await eventually(async () => (await t.db.knex('conductors').where({ online: true }).whereIn('hostname', ['named-a', 'named-b'])).length === 2, 10_000, 'both conductors');
    const forA = await nodeOwnedBy('named-a', ['named-a', 'named-b']);
    const forB = await nodeOwnedBy('named-b', ['named-a', 'named-b']);
    // The start-up scans (a conductor wakes itself, and wakes the others on joining) are over.
    await new Promise((r) => setTimeout(r, 500));
    const scans = vi.spyOn(Conductor.prototype as unknown as { scan(): Promise<void> }, 'scan');
    const before = { a: await claims('named-a'), b: await claims('named-b') };
    await requestProvision(t.db, forA, 'provide');
    await untilState(t.db, forA.id, 'available');
    expect(await claims('named-a')).toBeGreaterThan(before.a);
    expect(await claims('named-b')).toBe(before.b);
    await requestProvision(t.db, forB, 'provide');
    await untilState(t.db, forB.id, 'available');
    expect(await claims('named-b')).toBeGreaterThan(before.b);
    expect(scans).not.toHaveBeenCalled();
    expect((await history(t.db, forA.id)).at(-1)!.conductor).toBe('named-a');
    expect((await history(t.db, forB.id)).at(-1)!.conductor).toBe('named-b');
    // A task's notification says so: the owner runs the task.
    const task = await enqueueTask(t.db, forA, 'get_boot_device');
    expect((await waitForTask(t.db, task.id, 10_000)).claimed_by).toBe('named-a');
    expect(scans).not.toHaveBeenCalled();
  });

  it('work a notified node whose owner died once its heart-beats stop, as the poll finds it', async () => {
    // "ghost" heart-beats once, so the survivor's ring gives it nodes until it is declared dead.
    await registerConductor(t.db.knex, 'ghost-owner', '', ['fake-hardware']);
    await conductor('heir');
    const node = await nodeOwnedBy('ghost-owner', ['ghost-owner', 'heir']);
    await requestProvision(t.db, node, 'provide');
    await new Promise((r) => setTimeout(r, 300));
    expect((await getNodeById(t.db.knex, node.id))!.provision_state).toBe('cleaning');
    const n = await untilState(t.db, node.id, 'available', 15_000);
    expect((await history(t.db, n.id)).at(-1)!.conductor).toBe('heir');
  });

  it('take over the nodes and tasks of a conductor that stopped heart-beating', async () => {
    await registerConductor(t.db.knex, 'ghost', '', ['fake-hardware']);
    await t.db.knex('conductors').where({ hostname: 'ghost' }).update({ updated_at: Date.now() - 60_000 });
    const deploying = await fakeNode(t.db, { provision_state: 'deploying', target_provision_state: 'active', reservation: 'ghost' });
    const idle = await fakeNode(t.db, { provision_state: 'active', reservation: 'ghost' });
    const taskNode = await fakeNode(t.db, { provision_state: 'manageable' });
    const task = await enqueueTask(t.db, taskNode, 'get_boot_device');
    expect(await claimTask(t.db.knex, task.id, 'ghost')).toBeDefined();
    await conductor('survivor');
    const n = await untilState(t.db, deploying.id, 'deploy failed');
    expect(n.last_error).toBe('Conductor ghost stopped heart-beating for over 3 s while the node was "deploying"; that operation was interrupted');
    expect((await history(t.db, deploying.id)).at(-1)).toMatchObject({ severity: 'error', conductor: 'survivor', event_type: 'conductor' });
    await eventually(async () => (await getNodeById(t.db.knex, idle.id))!.reservation === null, 10_000, 'release');
    expect((await getNodeById(t.db.knex, idle.id))!.provision_state).toBe('active');
    expect((await waitForTask(t.db, task.id, 10_000)).status).toBe('done');
    // Nothing is stuck: the failed deploy can be asked again and finishes.
    await requestProvision(t.db, n, 'active');
    await untilState(t.db, deploying.id, 'active');
  });

  it('on start, a conductor fails what its own crashed run left mid-way and releases its other locks', async () => {
    const cleaning = await fakeNode(t.db, { provision_state: 'cleaning', target_provision_state: 'available', reservation: 'phoenix' });
    const held = await fakeNode(t.db, { provision_state: 'available', reservation: 'phoenix' });
    await conductor('phoenix');
    const n = await untilState(t.db, cleaning.id, 'clean failed');
    expect(n.last_error).toBe('Conductor phoenix restarted while the node was "cleaning"; that operation was interrupted');
    expect(n.fault).toBe('clean failure');
    expect((await getNodeById(t.db.knex, held.id))!.reservation).toBeNull();
  });

  it('work nodes of their own conductor group only', async () => {
    const node = await fakeNode(t.db, { provision_state: 'available', conductor_group: 'rack-b' });
    await conductor('group-default');
    await requestProvision(t.db, node, 'active');
    await new Promise((r) => setTimeout(r, 600));
    expect((await getNodeById(t.db.knex, node.id))!.provision_state).toBe('deploying');
    await conductor('group-b', { group: 'rack-b' });
    const n = await untilState(t.db, node.id, 'active');
    expect((await history(t.db, n.id)).at(-1)!.conductor).toBe('group-b');
  });

  it('let running work finish on stop, and hand back what overruns the grace period', async () => {
    const quick = await fakeNode(t.db, { provision_state: 'available', driver_info: { fake_delay: 0.5 } });
    const slow = await fakeNode(t.db, { provision_state: 'available', driver_info: { fake_delay: 30 } });
    const started = new Set<string>();
    const deploy = fakeDeploy.deploy;
    vi.spyOn(fakeDeploy, 'deploy').mockImplementation(async (ctx, args) => {
      started.add(ctx.node.uuid);
      return deploy.call(fakeDeploy, ctx, args);
    });
    const c = await conductor('leaving', { shutdownTimeout: 1.5 });
    await requestProvision(t.db, quick, 'active');
    await requestProvision(t.db, slow, 'active');
    await eventually(async () => started.has(slow.uuid) && started.has(quick.uuid), 10_000, 'both deploys to start');
    await c.stop();
    expect((await getNodeById(t.db.knex, quick.id))!.provision_state).toBe('active');
    const handed = (await getNodeById(t.db.knex, slow.id))!;
    expect(handed).toMatchObject({ provision_state: 'deploying', reservation: null, last_error: null });
    expect((await history(t.db, slow.id)).at(-1)!.event).toBe('Conductor leaving stopped while the node was "deploying"; the node is handed back to be worked again');
    expect((await getConductor(t.db.knex, 'leaving'))!.online).toBe(false);
    await updateNode(t.db.knex, slow.id, { driver_info: {} });
    await conductor('next');
    await untilState(t.db, slow.id, 'active');
  });
});
