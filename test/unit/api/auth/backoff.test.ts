// The back-off of repeated failed authentication, on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { AuthBackoff } from '../../../../services/api/auth/backoff.ts';

describe('authentication back-off', () => {
  it('blocks a client after N failures in a row, doubling the wait up to the bound; a success clears it', () => {
    let now = 1_000_000;
    const b = new AuthBackoff({ failures: 3, baseSeconds: 1, maxSeconds: 8 }, () => now);
    b.failed('a');
    b.failed('a');
    expect(b.waitSeconds('a')).toBe(0);
    b.failed('a');
    expect(b.waitSeconds('a')).toBe(1);
    expect(b.waitSeconds('b')).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      b.failed('a');
      waits.push(b.waitSeconds('a'));
    }
    expect(waits).toEqual([2, 4, 8, 8, 8]);
    b.succeeded('a');
    expect(b.waitSeconds('a')).toBe(0);
    b.failed('a');
    expect(b.waitSeconds('a')).toBe(0);
  });

  it('forgets a client quiet for 15 minutes, and keeps a bounded number of clients', () => {
    let now = 0;
    const b = new AuthBackoff({ failures: 1, baseSeconds: 60, maxSeconds: 60 }, () => now, 2);
    b.failed('a');
    expect(b.waitSeconds('a')).toBe(60);
    now += 16 * 60_000;
    expect(b.waitSeconds('a')).toBe(0);
    b.failed('x');
    b.failed('y');
    b.failed('z');
    expect(b.waitSeconds('x')).toBe(0);
    expect(b.waitSeconds('z')).toBe(60);
  });
});
