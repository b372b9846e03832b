// The agent's plugin folders (IPA's hardware managers, as ES modules): every .mjs/.js (and .ts
// where the agent runs from source) file of each folder, in name order, whose default export is an
// AgentPlugin (plugin-api.ts). A file that does not load or is not a plugin is left out with an
// error naming it; the agent runs with the others. The ramdisk's agent has deploy-agent/plugins/
// compiled in (builtin-plugins.ts) and reads /usr/lib/anvil-agent/plugins for the extra plugins its
// build was given; simulated agents load deploy-agent/plugins/ from source.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AgentPlugin, PluginStep } from './plugin-api.ts';

/** The plugins shipped with the agent, as sources (simulated agents; the ramdisk's agent has them built in). */
export const BUILTIN_PLUGIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'plugins');

/** Where the ramdisk's agent looks by default for plugins beyond its built-in ones (anvil.agent_plugins overrides). */
export const RAMDISK_PLUGIN_DIR = '/usr/lib/anvil-agent/plugins';

const KINDS = new Set(['deploy', 'clean', 'service']);

export interface LoadedPlugins {
  plugins: (AgentPlugin & { file: string })[];
  /** One line per file left out, naming it and why. */
  problems: string[];
}

function checkStep(s: unknown, i: number): PluginStep {
  const step = s as PluginStep;
  const what = `steps[${i}]`;
  if (typeof step !== 'object' || step === null) throw new Error(`${what} is not an object`);
  if (typeof step.step !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(step.step)) throw new Error(`${what}.step must be a step name (letters, digits, _)`);
  if (!KINDS.has(step.kind)) throw new Error(`${what} (${step.step}).kind must be deploy, clean or service`);
  if (typeof step.run !== 'function') throw new Error(`${what} (${step.step}).run must be a function`);
  if (step.interface !== undefined && typeof step.interface !== 'string') throw new Error(`${what} (${step.step}).interface must be a string`);
  if (step.priority !== undefined && !(Number.isInteger(step.priority) && step.priority >= 0)) throw new Error(`${what} (${step.step}).priority must be a non-negative integer`);
  return step;
}

/** The plugin a module exports, checked. */
export function pluginOf(mod: Record<string, unknown>): AgentPlugin {
  const p = mod.default as AgentPlugin | undefined;
  if (typeof p !== 'object' || p === null) throw new Error('it has no default export (an AgentPlugin: { name, version, steps })');
  if (typeof p.name !== 'string' || !p.name) throw new Error('its plugin has no name');
  if (typeof p.version !== 'string') throw new Error(`plugin ${p.name} has no version string`);
  if (!Array.isArray(p.steps)) throw new Error(`plugin ${p.name} has no steps list`);
  return { name: p.name, version: p.version, steps: p.steps.map(checkStep) };
}

/** Imports an ES module by URL: Node's import(), or the ramdisk launcher's (ramdisk/agent-launcher.ts). */
export type ModuleImporter = (url: string) => Promise<unknown>;

const nodeImport: ModuleImporter = (url) => import(url);

async function loadDir(dir: string, importModule: ModuleImporter): Promise<LoadedPlugins> {
  const out: LoadedPlugins = { plugins: [], problems: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    out.problems.push(`plugin folder ${dir} cannot be read: ${(err as Error).message}`);
    return out;
  }
  for (const name of names.filter((n) => /\.(mjs|js|ts)$/.test(n) && !/\.d\.ts$|\.test\.ts$/.test(n)).sort()) {
    const file = path.join(dir, name);
    try {
      out.plugins.push({ ...pluginOf((await importModule(pathToFileURL(file).href)) as Record<string, unknown>), file });
    } catch (err) {
      out.problems.push(`plugin ${file} left out: ${(err as Error).message}`);
    }
  }
  return out;
}

// Many simulated agents in one process share one folder: each folder is read and imported once.
const loaded = new Map<string, Promise<LoadedPlugins>>();

export async function loadPlugins(dirs: readonly string[], importModule: ModuleImporter = nodeImport): Promise<LoadedPlugins> {
  const out: LoadedPlugins = { plugins: [], problems: [] };
  for (const dir of dirs) {
    const key = path.resolve(dir);
    let p = loaded.get(key);
    if (!p) loaded.set(key, (p = loadDir(key, importModule)));
    const r = await p;
    out.plugins.push(...r.plugins);
    out.problems.push(...r.problems);
  }
  return out;
}
