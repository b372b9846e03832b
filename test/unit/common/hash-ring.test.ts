import { describe, expect, it } from 'vitest';
import { GroupRings, HashRing } from '../../../common/hash-ring.ts';

const keys = Array.from({ length: 3000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

describe('HashRing', () => {
  it('gives every key to one host, the same whatever the order hosts are given in', () => {
    const a = new HashRing(['c1', 'c2', 'c3']);
    const b = new HashRing(['c3', 'c1', 'c2', 'c1']);
    expect(b.hosts).toEqual(['c1', 'c2', 'c3']);
    for (const k of keys) expect(a.ownerOf(k)).toBe(b.ownerOf(k));
  });

  it('spreads keys over the hosts', () => {
    const ring = new HashRing(['c1', 'c2', 'c3']);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ring.ownerOf(k)!, (counts.get(ring.ownerOf(k)!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['c1', 'c2', 'c3']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(keys.length / 3 / 2);
  });

  it('moves only the leaving host\'s keys when a host leaves', () => {
    const before = new HashRing(['c1', 'c2', 'c3']);
    const after = new HashRing(['c1', 'c3']);
    for (const k of keys) {
      const owner = before.ownerOf(k);
      if (owner !== 'c2') expect(after.ownerOf(k)).toBe(owner);
      else expect(['c1', 'c3']).toContain(after.ownerOf(k));
    }
  });

  it('answers a key it remembers as a ring that never saw it does, before and after its memo starts over', () => {
    const hosts = ['c1', 'c2', 'c3'];
    const ring = new HashRing(hosts);
    const sample = keys.slice(0, 200);
    const fresh = sample.map((k) => new HashRing(hosts).ownerOf(k));
    expect(sample.map((k) => ring.ownerOf(k))).toEqual(fresh);
    expect(sample.map((k) => ring.ownerOf(k))).toEqual(fresh);
    // More keys than the memo holds (100,000): it starts over and answers the same.
    for (let i = 0; i < 100_001; i++) ring.ownerOf(`key-${i}`);
    expect(sample.map((k) => ring.ownerOf(k))).toEqual(fresh);
  });

  it('has no owner on an empty ring', () => {
    expect(new HashRing([]).ownerOf(keys[0])).toBeUndefined();
  });
});

describe('GroupRings', () => {
  it('keeps each group to its own conductors and knows groups with none', () => {
    const rings = new GroupRings([
      { hostname: 'a1', conductor_group: '' },
      { hostname: 'b1', conductor_group: 'Rack-B' },
      { hostname: 'b2', conductor_group: 'rack-b' },
    ]);
    for (const k of keys.slice(0, 200)) {
      expect(rings.ownerOf({ uuid: k, conductor_group: '' })).toBe('a1');
      expect(['b1', 'b2']).toContain(rings.ownerOf({ uuid: k, conductor_group: 'RACK-B' }));
      expect(rings.ownerOf({ uuid: k, conductor_group: 'rack-c' })).toBeUndefined();
    }
    expect(rings.hasGroup('rack-b')).toBe(true);
    expect(rings.hasGroup('rack-c')).toBe(false);
  });
});
