import { describe, expect, it } from 'vitest';
import { ALL_PROVISION_STATES, failureState, nextState, targetFor, transitionFields, VERBS, WAIT_STATES, WORKING_STATES } from '../../../common/states.ts';

describe('provision state machine', () => {
  it('follows the happy path from enroll to active and back to available', () => {
    let s: string = 'enroll';
    for (const [event, expected] of [
      ['manage', 'verifying'], ['done', 'manageable'], ['inspect', 'inspecting'], ['wait', 'inspect wait'], ['done', 'manageable'],
      ['provide', 'cleaning'], ['wait', 'clean wait'], ['resume', 'cleaning'], ['done', 'available'],
      ['deploy', 'deploying'], ['wait', 'wait call-back'], ['resume', 'deploying'], ['done', 'active'],
      ['delete', 'deleting'], ['clean', 'cleaning'], ['done', 'available'],
    ] as const) {
      const next = nextState(s, event);
      expect(next, `${s} --${event}-->`).toBe(expected);
      s = next!;
    }
  });

  it('refuses events a state does not take', () => {
    expect(nextState('enroll', 'deploy')).toBeUndefined();
    expect(nextState('active', 'provide')).toBeUndefined();
    expect(nextState('clean failed', 'provide')).toBeUndefined();
    expect(nextState('available', 'abort')).toBeUndefined();
  });

  it('gives every working and wait state a failure state', () => {
    for (const s of [...WORKING_STATES, ...WAIT_STATES]) {
      expect(failureState(s), s).toBeDefined();
      expect(ALL_PROVISION_STATES).toContain(failureState(s));
    }
    expect(failureState('wait call-back')).toBe('deploy failed');
    expect(failureState('verifying')).toBe('enroll');
    expect(failureState('deleting')).toBe('error');
  });

  it('maps API verbs to events with their microversions', () => {
    expect(VERBS.active.event).toBe('deploy');
    expect(VERBS.undeploy).toEqual({ event: 'delete', minVersion: 73 });
    expect(VERBS.manage.minVersion).toBe(4);
  });

  it('shows Ironic target states, keeping manageable for manual cleaning', () => {
    expect(targetFor('deploying')).toBe('active');
    expect(targetFor('deploy failed')).toBe('active');
    expect(targetFor('active')).toBeNull();
    expect(targetFor('cleaning')).toBe('available');
    expect(targetFor('clean wait', 'manageable')).toBe('manageable');
    expect(targetFor('inspect wait')).toBe('manageable');
  });

  it('gives the API and the conductor the same transition fields, carrying a manual clean\'s target', () => {
    const at = (provision_state: string, target_provision_state: string | null = null) => ({ provision_state, target_provision_state });
    expect(transitionFields(at('manageable'), 'clean')).toMatchObject({ provision_state: 'cleaning', target_provision_state: 'manageable' });
    expect(transitionFields(at('manageable'), 'provide')).toMatchObject({ provision_state: 'cleaning', target_provision_state: 'available' });
    expect(transitionFields(at('deleting', 'available'), 'clean')).toMatchObject({ provision_state: 'cleaning', target_provision_state: 'available' });
    expect(transitionFields(at('clean hold', 'manageable'), 'unhold')).toMatchObject({ provision_state: 'clean wait', target_provision_state: 'manageable' });
    expect(transitionFields(at('clean wait', 'manageable'), 'abort')).toMatchObject({ provision_state: 'clean failed', target_provision_state: 'manageable' });
    expect(transitionFields(at('cleaning', 'available'), 'done')).toMatchObject({ provision_state: 'available', target_provision_state: null });
    expect(typeof transitionFields(at('available'), 'deploy')!.provision_updated_at).toBe('number');
    expect(transitionFields(at('enroll'), 'deploy')).toBeUndefined();
  });
});
