// Consistent hashing of node UUIDs over the alive conductors of one conductor group, so that
// every conductor agrees, from the same conductors table, on who owns which node, and a
// conductor joining or leaving moves only its share of the nodes. Pure: the conductor claims
// by it and the API shows a node's `conductor` by it, from the same rows.
import { createHash } from 'node:crypto';
import { BoundedMemo } from './bounded-memo.ts';

/** Points each host puts on the ring; more points spread nodes more evenly. */
const POINTS_PER_HOST = 64;

/**
 * Owners a ring remembers (about 100 bytes each): a conductor asks about every node with work on
 * every scan and every node-work notification, and each answer otherwise costs an MD5 hash
 * object. Past this many keys the memo starts over (BoundedMemo) instead of growing.
 */
const REMEMBERED_OWNERS = 100_000;

function hash32(text: string): number {
  return createHash('md5').update(text).digest().readUInt32BE(0);
}

export class HashRing {
  private readonly points: number[] = [];
  private readonly owners: string[] = [];
  private readonly ownerMemo = new BoundedMemo<string>(REMEMBERED_OWNERS);
  readonly hosts: readonly string[];

  constructor(hosts: Iterable<string>) {
    this.hosts = [...new Set(hosts)].sort();
    const all: [number, string][] = [];
    for (const host of this.hosts) {
      for (let i = 0; i < POINTS_PER_HOST; i++) all.push([hash32(`${host}/${i}`), host]);
    }
    // Ties (vanishingly rare) break by host name so every conductor builds the same ring.
    all.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
    for (const [point, host] of all) {
      this.points.push(point);
      this.owners.push(host);
    }
  }

  /** The host that owns `key`, or undefined on an empty ring. */
  ownerOf(key: string): string | undefined {
    if (this.points.length === 0) return undefined;
    // One host owns every key: no hash needed (all-in-one, and every group of one conductor).
    if (this.hosts.length === 1) return this.hosts[0];
    return this.ownerMemo.get(key, () => this.lookUp(key));
  }

  /** The host of the first point at or after the key's hash, going round past the last point. */
  private lookUp(key: string): string {
    const h = hash32(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.points.length ? 0 : lo];
  }
}

/**
 * Rings by their hosts, reused: the API builds the rings for every answer that shows a node's
 * conductor, and the set of alive conductors rarely changes.
 */
const builtRings = new BoundedMemo<HashRing>(32);

function ringOf(hosts: readonly string[]): HashRing {
  return builtRings.get([...new Set(hosts)].sort().join('\n'), () => new HashRing(hosts));
}

/** One ring per conductor group, built from the alive conductors. */
export class GroupRings {
  private readonly rings = new Map<string, HashRing>();

  constructor(conductors: Iterable<{ hostname: string; conductor_group: string }>) {
    const byGroup = new Map<string, string[]>();
    for (const c of conductors) {
      const group = c.conductor_group.toLowerCase();
      byGroup.set(group, [...(byGroup.get(group) ?? []), c.hostname]);
    }
    for (const [group, hosts] of byGroup) this.rings.set(group, ringOf(hosts));
  }

  /** The conductor that owns the node, or undefined when its group has no alive conductor. */
  ownerOf(node: { uuid: string; conductor_group: string }): string | undefined {
    return this.rings.get(node.conductor_group.toLowerCase())?.ownerOf(node.uuid);
  }

  hasGroup(group: string): boolean {
    return this.rings.has(group.toLowerCase());
  }
}
