import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import { askProvision, verbOf } from '../../../services/api/provision-verbs.ts';

const node = (fields: Partial<NodeRecord> = {}) =>
  ({ uuid: 'n1', provision_state: 'available', target_provision_state: null, maintenance: false, protected: false, driver_internal_info: {}, instance_info: {}, ...fields }) as NodeRecord;

describe('provision verb table', () => {
  it('finds the event of a target at the request\'s version', () => {
    expect(verbOf('active', 1)).toBe('deploy');
    expect(() => verbOf('deploy', 72)).toThrow('The "deploy" provision action requires API version 1.73 or later.');
    expect(() => verbOf('fly', 89)).toThrow('Invalid target "fly"');
  });

  it('writes the move, the arguments, and a plain history line', () => {
    const write = askProvision('deploy', { target: 'active', configdrive: 'aGk=' }, node(), 89)!;
    expect(write.fields).toMatchObject({ provision_state: 'deploying', target_provision_state: 'active', last_error: null, provision_request: { configdrive: 'aGk=' } });
    expect(write.history).toEqual({ event: '"active" requested: "available" -> "deploying"', severity: 'info' });
    expect(write.task).toBeUndefined();
  });

  it('refuses arguments a verb does not take, and verbs the node\'s maintenance or protection forbid', () => {
    expect(() => askProvision('manage', { target: 'manage', deploy_steps: [] }, node({ provision_state: 'enroll' }), 89)).toThrow('"deploy_steps" is only valid');
    expect(() => askProvision('deploy', { target: 'active', deploy_steps: [] }, node(), 68)).toThrow('deploy_steps requires API version 1.69');
    expect(() => askProvision('deploy', { target: 'active' }, node({ maintenance: true }), 89)).toThrow("because it's in maintenance mode");
    expect(() => askProvision('rebuild', { target: 'rebuild' }, node({ provision_state: 'active', protected: true }), 89)).toThrow('is protected');
    expect(() => askProvision('clean', { target: 'clean' }, node({ provision_state: 'manageable' }), 89)).toThrow('"clean_steps" is required');
  });

  it('answers undefined where the state does not take the verb; abort only where Ironic honours it', () => {
    expect(askProvision('deploy', { target: 'active' }, node({ provision_state: 'enroll' }), 89)).toBeUndefined();
    expect(askProvision('abort', { target: 'abort' }, node({ provision_state: 'service failed' }), 89)).toBeDefined();
    expect(() => askProvision('abort', { target: 'abort' }, node({ provision_state: 'inspect wait' }), 40)).toThrow('Aborting inspection requires API version 1.41');
  });

  it('has abort fail the node, say so as a warning, and hand the conductor an abort task', () => {
    const write = askProvision('abort', { target: 'abort' }, node({ provision_state: 'clean wait', target_provision_state: 'manageable' }), 89)!;
    expect(write.fields).toMatchObject({ provision_state: 'clean failed', target_provision_state: 'manageable', last_error: 'Aborted by user in state "clean wait"' });
    expect(write.history).toEqual({ event: 'Aborted by user in state "clean wait"; now "clean failed"', severity: 'warning' });
    expect(write.task).toEqual({ kind: 'abort', args: { from_state: 'clean wait' } });
  });
});
