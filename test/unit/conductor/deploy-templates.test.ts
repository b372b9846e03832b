// The deploy-time rules of deploy templates: instance traits must be node traits, the user's
// deploy_steps win over a template's, two templates may not name the same step.
import { describe, expect, it } from 'vitest';
import type { DeployTemplateRecord } from '../../../db/deploy-templates.ts';
import { instanceTraits, withTemplateSteps } from '../../../services/conductor/deploy-templates.ts';

const template = (name: string, steps: DeployTemplateRecord['steps']): DeployTemplateRecord => ({ id: 1, uuid: 'u', name, steps, extra: {}, created_at: 0, updated_at: null });

describe('instanceTraits', () => {
  it('reads instance_info.traits, each one a node trait', () => {
    expect(instanceTraits({}, ['CUSTOM_A'])).toEqual([]);
    expect(instanceTraits({ traits: ['CUSTOM_A'] }, ['CUSTOM_A', 'CUSTOM_B'])).toEqual(['CUSTOM_A']);
    expect(() => instanceTraits({ traits: ['CUSTOM_A', 'CUSTOM_C'] }, ['CUSTOM_A'])).toThrow('Cannot specify instance traits that are not also node traits: CUSTOM_C');
    expect(() => instanceTraits({ traits: 'CUSTOM_A' }, ['CUSTOM_A'])).toThrow('instance_info.traits must be a list of strings');
    expect(() => instanceTraits({ traits: [1] }, [])).toThrow('instance_info.traits must be a list of strings');
  });
});

describe('withTemplateSteps', () => {
  const raid = { interface: 'raid', step: 'create_configuration', args: { x: 1 }, priority: 10 };
  const bios = { interface: 'bios', step: 'apply_configuration', args: {}, priority: 0 };

  it('appends the templates\' steps the user did not name, the user\'s first and winning', () => {
    const user = [{ interface: 'raid', step: 'create_configuration', priority: 5 }];
    expect(withTemplateSteps(user, [template('CUSTOM_A', [raid, bios])])).toEqual([user[0], bios]);
    expect(withTemplateSteps([], [template('CUSTOM_A', [raid]), template('CUSTOM_B', [bios])])).toEqual([raid, bios]);
  });

  it('refuses two templates that name the same step, naming the templates and the step', () => {
    expect(() => withTemplateSteps([], [template('CUSTOM_A', [raid]), template('CUSTOM_B', [{ ...raid, priority: 3 }])])).toThrow(
      "Matching deploy templates: CUSTOM_A,CUSTOM_B. Errors: deploy steps from all deploy templates matching this node's instance traits cannot have the same interface and step. Duplicate deploy steps for raid.create_configuration",
    );
  });
});
