// The ramdisk's /anvil-agent.cjs: runs the agent bundle (usr/lib/anvil-agent/agent.cjs beside it)
// compiled from the V8 code cache the ramdisk build made for it (agent.cjs.cache), so that Node does
// not parse and compile the 1.3 MB bundle again at every boot: in a TCG VM that was 0.5–0.9 s of the
// agent's start. A cache V8 rejects (made by another Node) costs nothing but that compile.
// ANVIL_AGENT_CODE_CACHE=write (the ramdisk build, on the machine whose node the ramdisk gets) starts
// the agent against nothing, then writes the cache of what starting it compiled, and exits.
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { AGENT_BUNDLE } from './layout.ts';

type AgentModule = { main(argv?: string[], importModule?: (url: string) => Promise<unknown>): Promise<{ stop(): Promise<void> }> };

// The plugins are ES modules, imported from here: code from a V8 code cache loses its own import()
// (Node 20: "A dynamic import callback was not specified").
const importModule = (url: string): Promise<unknown> => import(url);

function load(bundle: string): { agent: AgentModule; script: Script } {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${bundle}.cache`);
  } catch {
    // no cache: V8 compiles the bundle
  }
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  if (cachedData && script.cachedDataRejected) process.stderr.write(`anvil-agent: V8 rejected the code cache ${bundle}.cache (made by another Node?); the bundle was compiled instead\n`);
  const module = { exports: {} as AgentModule };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return { agent: module.exports, script };
}

/** Starts the agent as a ramdisk would but against an API that is not there, then writes the code cache. */
async function writeCache(bundle: string): Promise<void> {
  const { agent, script } = load(bundle);
  const running = await agent.main(['--api-url', 'http://127.0.0.1:9', '--listen-host', '127.0.0.1', '--listen-port', '0', '--cmdline', '/dev/null', '--plugin-dirs', join(dirname(bundle), 'plugins')], importModule);
  writeFileSync(`${bundle}.cache`, script.createCachedData());
  await running.stop();
  process.exit(0);
}

const bundle = join(__dirname, AGENT_BUNDLE);
if (process.env.ANVIL_AGENT_CODE_CACHE === 'write') {
  void writeCache(bundle);
} else {
  load(bundle).agent.main(undefined, importModule).catch((err: Error) => {
    process.stderr.write(`anvil-agent: ${err.message}\n`);
    process.exit(1);
  });
}
