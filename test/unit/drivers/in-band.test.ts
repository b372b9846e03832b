import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { directDeploy } from '../../../drivers/in-band/direct.ts';
import { agentOfferedSteps, withConfiguredPriorities } from '../../../drivers/in-band/steps.ts';
import { agentTuning } from '../../../drivers/in-band/settings.ts';

const node = (fields: Partial<NodeRecord> = {}) => ({ uuid: 'n1', provision_state: 'available', driver_internal_info: {}, instance_info: {}, ...fields }) as NodeRecord;

describe('agent steps', () => {
  it('reads what the agent offers, per hardware manager, with the clean priorities the configuration gives', () => {
    const offered = agentOfferedSteps({ clean_steps: { GenericHardwareManager: [{ step: 'erase_devices', priority: 10, interface: 'deploy' }, { step: 'erase_devices_metadata', priority: 99, interface: 'deploy' }] }, hardware_manager_version: { generic_hardware_manager: '1.2' } }, 'clean');
    expect(offered.version).toEqual({ generic_hardware_manager: '1.2' });
    const config = defaultConfig('/tmp');
    expect(withConfiguredPriorities(offered.steps, 'clean', config).map((s) => `${s.step}:${s.priority}`)).toEqual(['erase_devices:0', 'erase_devices_metadata:99']);
    Object.assign(config.agent, { eraseDevicesPriority: 100 });
    expect(withConfiguredPriorities(offered.steps, 'clean', config).map((s) => `${s.step}:${s.priority}`)).toEqual(['erase_devices:100', 'erase_devices_metadata:99']);
    expect(withConfiguredPriorities(offered.steps, 'deploy', config)).toBe(offered.steps);
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
    Object.assign(config.agent, { powerOffWait: 2, commandTimeout: -5, eraseDevicesPriority: 'x', fastTrackTimeout: 'soon' });
    expect(agentTuning(config)).toEqual({ powerOffWait: 2, powerOffPollInterval: 5, commandTimeout: 60, eraseDevicesPriority: 0, eraseDevicesMetadataPriority: 99, fastTrackTimeout: 300 });
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
