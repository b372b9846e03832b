import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { cleanPlan, deployPlan, directDeploy } from '../../../drivers/in-band/direct.ts';
import { agentOfferedSteps, validateUserSteps, type PlannedStep } from '../../../drivers/in-band/steps.ts';
import { agentTuning } from '../../../drivers/in-band/settings.ts';

const node = (fields: Partial<NodeRecord> = {}) => ({ uuid: 'n1', provision_state: 'available', driver_internal_info: {}, instance_info: {}, ...fields }) as NodeRecord;

// What IPA's GenericHardwareManager answers to get_*_steps.
const offeredDeploy = agentOfferedSteps({ deploy_steps: { GenericHardwareManager: [{ step: 'write_image', priority: 0, interface: 'deploy' }, { step: 'apply_configuration', priority: 0, interface: 'raid' }] } }, 'deploy').steps;
const offeredClean = agentOfferedSteps({ clean_steps: { GenericHardwareManager: [{ step: 'erase_devices', priority: 10, interface: 'deploy' }, { step: 'erase_devices_metadata', priority: 99, interface: 'deploy' }] }, hardware_manager_version: { generic_hardware_manager: '1.2' } }, 'clean').steps;
const names = (plan: PlannedStep[]) => plan.map((s) => `${s.step}:${s.priority}`);

describe('deploy plan', () => {
  it('runs Ironic\'s direct deploy steps by priority', () => {
    expect(names(deployPlan(node(), offeredDeploy))).toEqual(['write_image:80', 'prepare_instance_boot:60', 'tear_down_agent:40', 'switch_to_tenant_network:30', 'boot_instance:20']);
    expect(deployPlan(node(), offeredDeploy).map((s) => s.agent)).toEqual([true, false, false, false, false]);
  });

  it('takes user deploy_steps: priority overrides, agent steps added, unknown ones refused', () => {
    const plan = deployPlan(node(), offeredDeploy, [
      { interface: 'raid', step: 'apply_configuration', priority: 90, args: { raid_config: { logical_disks: [] } } },
      { interface: 'deploy', step: 'boot_instance', priority: 70 },
    ]);
    expect(names(plan)).toEqual(['apply_configuration:90', 'write_image:80', 'boot_instance:70', 'prepare_instance_boot:60', 'tear_down_agent:40', 'switch_to_tenant_network:30']);
    expect(plan[0].args).toEqual({ raid_config: { logical_disks: [] } });
    expect(() => deployPlan(node(), offeredDeploy, [{ interface: 'bios', step: 'apply_settings' }]))
      .toThrow('Deploy step bios.apply_settings is not supported by node n1 (its agent offers write_image, apply_configuration)');
  });
});

describe('clean plan', () => {
  it('erases disk metadata by default, the full erase only when its priority is raised', () => {
    const config = defaultConfig('/tmp');
    expect(names(cleanPlan(node(), config, offeredClean))).toEqual(['erase_devices_metadata:99']);
    Object.assign(config.agent, { eraseDevicesPriority: 100 });
    expect(names(cleanPlan(node(), config, offeredClean))).toEqual(['erase_devices:100', 'erase_devices_metadata:99']);
  });

  it('runs manual steps in the order given and refuses those the agent lacks', () => {
    const manual = [{ interface: 'deploy', step: 'erase_devices', args: { x: 1 } }, { interface: 'deploy', step: 'erase_devices_metadata' }];
    const plan = cleanPlan(node(), defaultConfig('/tmp'), offeredClean, manual);
    expect(plan.map((s) => [s.step, s.args])).toEqual([['erase_devices', { x: 1 }], ['erase_devices_metadata', {}]]);
    expect(() => cleanPlan(node(), defaultConfig('/tmp'), offeredClean, [{ interface: 'raid', step: 'delete_configuration' }]))
      .toThrow('Clean step raid.delete_configuration is not supported by node n1 (its agent offers deploy.erase_devices, deploy.erase_devices_metadata)');
  });

  it('checks user steps\' shape', () => {
    expect(() => validateUserSteps('x', 'clean_steps')).toThrow('clean_steps must be a list of steps');
    expect(() => validateUserSteps([{ step: 'a' }], 'clean_steps')).toThrow('clean_steps[0] needs string "interface" and "step"');
    expect(() => validateUserSteps([{ interface: 'deploy', step: 'a', args: [] }], 'clean_steps')).toThrow('clean_steps[0].args must be an object');
    expect(() => validateUserSteps([{ interface: 'deploy', step: 'a', priority: -1 }], 'deploy_steps')).toThrow('deploy_steps[0].priority must be a non-negative integer');
  });
});

describe('direct deploy validation and tuning', () => {
  it('needs an image source and, for http, a checksum', () => {
    expect(() => directDeploy.validate(node({ provision_state: 'deploying' }), [])).toThrow('Node n1 has no instance_info.image_source');
    expect(() => directDeploy.validate(node({ instance_info: { image_source: 'http://x/a.qcow2' } }), [])).toThrow('Node n1 needs instance_info.image_checksum or image_os_hash_algo and image_os_hash_value for http://x/a.qcow2');
    expect(() => directDeploy.validate(node({ instance_info: { image_source: 'glance://abc' } }), [])).toThrow(/must be an http\(s\):\/\/ or file:\/\/ URL/);
    expect(() => directDeploy.validate(node({ instance_info: { image_source: 'file:///a.img', image_disk_format: 'vmdk' } }), [])).toThrow('instance_info.image_disk_format vmdk is not supported: use raw or qcow2');
    expect(() => directDeploy.validate(node({ instance_info: { image_source: 'file:///a.img' } }), [])).not.toThrow();
    expect(() => directDeploy.validate(node({ provision_state: 'manageable' }), [])).not.toThrow();
  });

  it('reads tunables from the agent section, ignoring bad values', () => {
    const config = defaultConfig('/tmp');
    Object.assign(config.agent, { powerOffWait: 2, commandTimeout: -5, eraseDevicesPriority: 'x' });
    expect(agentTuning(config)).toEqual({ powerOffWait: 2, powerOffPollInterval: 5, commandTimeout: 60, eraseDevicesPriority: 0, eraseDevicesMetadataPriority: 99 });
  });
});

describe('agent tunables in the configuration file', () => {
  it('are read from the agent section of the YAML file', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { loadConfig } = await import('../../../common/config.ts');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'anvil-cfg-')), 'anvil.yaml');
    writeFileSync(file, 'agent:\n  powerOffWait: 12\n  eraseDevicesPriority: 5\n');
    const config = loadConfig({ file, env: {} });
    expect(agentTuning(config)).toMatchObject({ powerOffWait: 12, eraseDevicesPriority: 5, eraseDevicesMetadataPriority: 99 });
  });
});
