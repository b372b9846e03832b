// The agent's plugin folders: what loads, what is left out (and why), and how plugin steps join
// and override the agent's own in get_<kind>_steps.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PLUGIN_DIR, loadPlugins, pluginOf } from '../../../deploy-agent/plugins.ts';
import { BUILTIN_PLUGINS } from '../../../deploy-agent/builtin-plugins.ts';
import { GENERIC_HARDWARE_MANAGER, StepCatalog } from '../../../deploy-agent/steps.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-plugins-'));
  await writeFile(path.join(dir, 'a-good.mjs'), `export default { name: 'GoodManager', version: '2', steps: [
    { kind: 'service', step: 'tune', interface: 'bios', priority: 5, argsinfo: { level: { description: 'how much' } }, run: async (args) => ({ tuned: args.level }) },
    { kind: 'clean', step: 'erase_devices', priority: 20, run: async () => 'replaced' },
  ] };\n`);
  await writeFile(path.join(dir, 'b-broken.mjs'), 'export default {{ not javascript\n');
  await writeFile(path.join(dir, 'c-nodefault.mjs'), 'export const steps = [];\n');
  await writeFile(path.join(dir, 'd-badstep.mjs'), `export default { name: 'Bad', version: '1', steps: [{ kind: 'rescue', step: 'x', run: async () => null }] };\n`);
  await writeFile(path.join(dir, 'README.txt'), 'not a plugin\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('agent plugins', () => {
  it('loads the good plugins of a folder in name order and names each file left out', async () => {
    const { plugins, problems } = await loadPlugins([dir, path.join(dir, 'missing')]);
    expect(plugins.map((p) => [p.name, p.version, p.file])).toEqual([['GoodManager', '2', path.join(dir, 'a-good.mjs')]]);
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^plugin ${dir}/b-broken\\.mjs left out: `)),
      `plugin ${dir}/c-nodefault.mjs left out: it has no default export (an AgentPlugin: { name, version, steps })`,
      `plugin ${dir}/d-badstep.mjs left out: steps[0] (x).kind must be deploy, clean or service`,
    ]);
  });

  it('checks what a plugin declares', () => {
    const run = async () => null;
    expect(() => pluginOf({ default: { name: 'P', version: '1', steps: [{ kind: 'deploy', step: 'bad name', run }] } })).toThrow('steps[0].step must be a step name');
    expect(() => pluginOf({ default: { name: 'P', version: '1', steps: [{ kind: 'deploy', step: 's' }] } })).toThrow('steps[0] (s).run must be a function');
    expect(() => pluginOf({ default: { name: 'P', version: '1', steps: [{ kind: 'deploy', step: 's', priority: -1, run }] } })).toThrow('priority must be a non-negative integer');
    expect(() => pluginOf({ default: { name: 'P', steps: [] } })).toThrow('plugin P has no version string');
  });

  it('lists plugin steps beside the agent\'s own, IPA-shaped; a plugin step replaces one of the same kind and name', async () => {
    const { plugins } = await loadPlugins([dir]);
    const catalog = new StepCatalog([GENERIC_HARDWARE_MANAGER, ...plugins]);
    expect(catalog.describe('service')).toEqual({
      steps: { GoodManager: [{ step: 'tune', priority: 5, interface: 'bios', reboot_requested: false, abortable: false, argsinfo: { level: { description: 'how much' } } }] },
      versions: { generic_hardware_manager: '1.2', GoodManager: '2' },
    });
    const clean = catalog.describe('clean').steps;
    expect(clean.GenericHardwareManager.map((s) => s.step)).toEqual(['erase_devices_metadata']);
    expect(clean.GoodManager).toEqual([expect.objectContaining({ step: 'erase_devices', priority: 20 })]);
    expect(catalog.describe('deploy').steps).toEqual({ GenericHardwareManager: [expect.objectContaining({ step: 'write_image', priority: 0 })] });
  });

  it('ships install_coreos as a built-in plugin', async () => {
    const { plugins, problems } = await loadPlugins([BUILTIN_PLUGIN_DIR]);
    expect(problems).toEqual([]);
    expect(new StepCatalog(plugins).describe('deploy').steps).toEqual({
      CoreOSInstallHardwareManager: [{ step: 'install_coreos', priority: 0, interface: 'deploy', reboot_requested: false, abortable: false, argsinfo: {} }],
    });
  });

  it('builds into the ramdisk agent the same plugins the folder holds', async () => {
    const { plugins } = await loadPlugins([BUILTIN_PLUGIN_DIR]);
    expect(BUILTIN_PLUGINS.map((p) => pluginOf({ default: p }))).toEqual(plugins.map(({ file: _, ...p }) => p));
  });
});
