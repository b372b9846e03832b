import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import type { AgentSteps, PlannedStep, ResolvedDriver, StepDefinition, TaskContext } from '../../../drivers/interfaces.ts';
import { agentOfferedSteps } from '../../../drivers/in-band/steps.ts';
import { resolveDriver } from '../../../drivers/registry.ts';
import { automatedPlan, byPriority, declaredSteps, manualPlan, stepRunner, validateUserSteps } from '../../../services/conductor/steps.ts';

const node = { uuid: 'n1' };
const direct = resolveDriver({ driver: 'fake-hardware', deploy_interface: 'direct' });
// What IPA's GenericHardwareManager answers to get_*_steps.
const offeredDeploy = agentOfferedSteps({ deploy_steps: { GenericHardwareManager: [{ step: 'write_image', priority: 0, interface: 'deploy' }, { step: 'apply_configuration', priority: 0, interface: 'raid' }] } }, 'deploy').steps;
const offeredClean = agentOfferedSteps({ clean_steps: { GenericHardwareManager: [{ step: 'erase_devices', priority: 0, interface: 'deploy' }, { step: 'erase_devices_metadata', priority: 99, interface: 'deploy' }] } }, 'clean').steps;
const names = (plan: PlannedStep[]) => plan.map((s) => `${s.step}:${s.priority}`);

describe('steps collected across the node\'s interfaces', () => {
  it('finds the deploy interface\'s steps and the network interface\'s, each under its interface', () => {
    expect(declaredSteps(direct, 'deploy').map((s) => `${s.interface}.${s.step}`).sort()).toEqual(['deploy.boot_instance', 'deploy.prepare_instance_boot', 'deploy.tear_down_agent', 'deploy.write_image', 'network.switch_to_tenant_network']);
    expect(declaredSteps(resolveDriver({ driver: 'fake-hardware' }), 'deploy').map((s) => s.step)).toEqual(['switch_to_tenant_network']);
    expect(declaredSteps(direct, 'clean')).toEqual([]);
  });

  it('runs Ironic\'s direct deploy steps by priority, write_image on the agent', () => {
    const plan = automatedPlan(node, 'deploy', declaredSteps(direct, 'deploy'), offeredDeploy);
    expect(names(plan)).toEqual(['write_image:80', 'prepare_instance_boot:60', 'tear_down_agent:40', 'switch_to_tenant_network:30', 'boot_instance:20']);
    expect(plan.map((s) => s.agent)).toEqual([true, false, false, false, false]);
  });

  it('takes user deploy_steps: priority overrides, agent steps added, unknown ones refused', () => {
    const plan = automatedPlan(node, 'deploy', declaredSteps(direct, 'deploy'), offeredDeploy, [
      { interface: 'raid', step: 'apply_configuration', priority: 90, args: { raid_config: { logical_disks: [] } } },
      { interface: 'deploy', step: 'boot_instance', priority: 70 },
    ]);
    expect(names(plan)).toEqual(['apply_configuration:90', 'write_image:80', 'boot_instance:70', 'prepare_instance_boot:60', 'tear_down_agent:40', 'switch_to_tenant_network:30']);
    expect(plan[0].args).toEqual({ raid_config: { logical_disks: [] } });
    expect(() => automatedPlan(node, 'deploy', declaredSteps(direct, 'deploy'), offeredDeploy, [{ interface: 'bios', step: 'apply_settings' }]))
      .toThrow('Deploy step bios.apply_settings is not supported by node n1 (its agent offers write_image, apply_configuration)');
  });

  it('breaks priority ties by Ironic\'s interface order, interfaces it does not rank last', () => {
    const at = (iface: string, step: string): PlannedStep => ({ interface: iface, step, priority: 50, args: {}, agent: false });
    expect([at('network', 'a'), at('raid', 'b'), at('power', 'c'), at('deploy', 'd'), at('bios', 'e')].sort(byPriority).map((s) => s.interface)).toEqual(['power', 'deploy', 'bios', 'raid', 'network']);
  });

  it('runs manual steps in the order given, by name, and refuses those nothing offers', () => {
    const manual = [{ interface: 'deploy', step: 'erase_devices', args: { x: 1 } }, { interface: 'deploy', step: 'erase_devices_metadata' }];
    const plan = manualPlan(node, 'clean', [], offeredClean, manual);
    expect(plan.map((s) => [s.step, s.args, s.priority])).toEqual([['erase_devices', { x: 1 }, 0], ['erase_devices_metadata', {}, 0]]);
    expect(() => manualPlan(node, 'clean', [], offeredClean, [{ interface: 'raid', step: 'delete_configuration' }]))
      .toThrow('Clean step raid.delete_configuration is not supported by node n1 (its agent offers deploy.erase_devices, deploy.erase_devices_metadata)');
  });

  it('checks user steps\' shape', () => {
    expect(() => validateUserSteps('x', 'clean_steps')).toThrow('clean_steps must be a list of steps');
    expect(() => validateUserSteps([{ step: 'a' }], 'clean_steps')).toThrow('clean_steps[0] needs string "interface" and "step"');
    expect(() => validateUserSteps([{ interface: 'deploy', step: 'a', args: [] }], 'clean_steps')).toThrow('clean_steps[0].args must be an object');
    expect(() => validateUserSteps([{ interface: 'deploy', step: 'a', priority: -1 }], 'deploy_steps')).toThrow('deploy_steps[0].priority must be a non-negative integer');
  });
});

describe('the step engine', () => {
  /** A node whose raid interface declares a conductor step with argsinfo, and an agent that runs erase_devices_metadata. */
  function rig() {
    const ran: string[] = [];
    const raidStep: StepDefinition = {
      kind: 'clean', step: 'delete_configuration', priority: 0, requiresRamdisk: false, abortable: true,
      argsinfo: { keep: { description: 'volumes to keep', required: true } },
      async run(_ctx, args) { ran.push(`raid.delete_configuration ${JSON.stringify(args)}`); },
    };
    const driver = { ...direct, raid: { name: 'test-raid', validate() {}, steps: [raidStep] } } as unknown as ResolvedDriver;
    let status: 'running' | 'done' = 'running';
    const agent: AgentSteps = {
      offered: async () => offeredClean,
      async start(_ctx, _kind, step) { ran.push(`agent ${step.step}`); return true; },
      status: async () => status,
    };
    const notes: string[] = [];
    const ctx = {
      node: { uuid: 'n1', driver_internal_info: {} } as unknown as NodeRecord,
      driver,
      async save(fields: Partial<NodeRecord>) { ctx.node = { ...ctx.node, ...fields }; },
      async note(message: string) { notes.push(message); },
    };
    return { ctx: ctx as unknown as TaskContext & { node: NodeRecord }, agent, ran, notes, finish: () => { status = 'done'; } };
  }

  it('plans once, runs conductor steps at once and waits for the agent\'s until a heart-beat finds them done', async () => {
    const { ctx, agent, ran, notes, finish } = rig();
    const runner = stepRunner(ctx, [{ interface: 'raid', step: 'delete_configuration', args: { keep: [] } }, { interface: 'deploy', step: 'erase_devices_metadata' }]);
    expect(await runner.run('clean', agent)).toBe('wait');
    expect(ran).toEqual(['raid.delete_configuration {"keep":[]}', 'agent erase_devices_metadata']);
    expect(ctx.node.clean_step).toMatchObject({ interface: 'deploy', step: 'erase_devices_metadata' });
    expect(await runner.run('clean', agent)).toBe('wait');
    finish();
    expect(await runner.run('clean', agent)).toBe('done');
    expect(ran).toHaveLength(2);
    expect(notes).toEqual([
      'Clean steps: delete_configuration(0), erase_devices_metadata(0)',
      'Running clean step raid.delete_configuration',
      'Agent started clean step deploy.erase_devices_metadata',
      'Agent finished clean step deploy.erase_devices_metadata',
    ]);
  });

  it('checks a user\'s args against the declared argsinfo', async () => {
    const { ctx, agent } = rig();
    await expect(stepRunner(ctx, [{ interface: 'raid', step: 'delete_configuration' }]).run('clean', agent)).rejects.toThrow('The clean step raid.delete_configuration needs argument "keep": volumes to keep');
    await expect(stepRunner(ctx, [{ interface: 'raid', step: 'delete_configuration', args: { keep: [], colour: 1 } }]).run('clean', agent)).rejects.toThrow('does not take argument "colour"; it takes keep');
  });
});
