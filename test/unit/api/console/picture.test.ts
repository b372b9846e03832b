// The fleet picture from transitions: counts walked back from today's, deploy durations from
// deploying to active, failures grouped by state and by error text without what differs per node.
import { describe, expect, it } from 'vitest';
import type { Transition } from '../../../../db/console.ts';
import { failureReason, fleetPicture } from '../../../../services/api/console/picture.ts';

const H = 3600_000;
const t = (node: string, from: string | null, to: string, at: number, last_error: string | null = null): Transition => ({ node_uuid: node, from_state: from, to_state: to, last_error, at });

describe('fleet picture', () => {
  const now = 10 * H;
  const transitions = [
    t('a', 'available', 'deploying', 5 * H),
    t('a', 'deploying', 'wait call-back', 5 * H + 10_000),
    t('a', 'wait call-back', 'deploying', 5 * H + 50_000),
    t('a', 'deploying', 'active', 5 * H + 90_000),
    t('b', 'available', 'deploying', 6 * H),
    t('b', 'deploying', 'deploy failed', 6 * H + 5000, 'Image http://10.0.0.5:8080/x.qcow2 of node 0b8e5b63-2a7c-4f55-9f59-3f1f2a5e6c10: 404'),
    t('c', 'verifying', 'enroll', 7 * H, 'Cannot reach the BMC at 10.0.0.9:623 after 3 attempts'),
    t('d', 'verifying', 'enroll', 8 * H, 'Cannot reach the BMC at 10.0.0.7:623 after 3 attempts'),
  ];
  const p = fleetPicture({ active: 1, 'deploy failed': 1, enroll: 2 }, transitions, now, 0, 11);

  it('walks the counts back from now through the transitions', () => {
    expect(p.since).toBe(5 * H - 1000);
    expect(p.series.at(-1)!.counts).toEqual({ active: 1, 'deploy failed': 1, enroll: 2 });
    // Before any transition: a and b available, c and d verifying.
    expect(p.series[0].counts).toEqual({ available: 2, verifying: 2 });
  });

  it('measures a deploy from its first deploying to active, through wait call-back', () => {
    expect(p.deploys).toEqual([{ node: 'a', seconds: 90, at: 5 * H + 90_000 }]);
  });

  it('groups failures by state and by their text without addresses, uuids and numbers', () => {
    expect(p.failures).toEqual([
      { state: 'enroll', reason: 'Cannot reach the BMC at <address> after N attempts', count: 2 },
      { state: 'deploy failed', reason: 'Image http://<address>/x.qcow2 of node <uuid>: N', count: 1 },
    ]);
    expect(failureReason(null)).toBe('no error recorded');
  });
});
