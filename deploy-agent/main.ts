// Entry point of the real deploy agent (bundled into one file for the ramdisk: no tsx there).
// Settings come from the kernel command line (as IPA's: ipa-api-url, ipa-node-uuid, BOOTIF,
// ipa-inspection-callback-url, ipa-listen-port, ipa-advertise-host, ipa-root-device, ipa-collect-lldp,
// ipa-lldp-timeout, and Anvil's anvil.api_ca: api-ca.ts, anvil.agent_plugins: plugins.ts, anvil.lldp_link_wait) and CLI flags of the same names without "ipa-" (--api-url ...,
// --api-ca), flags winning.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { canonicalMac } from '../common/mac.ts';
import { createLogger } from '../common/logger.ts';
import { Agent } from './agent.ts';
import { apiCaFrom } from './api-ca.ts';
import { BUILTIN_PLUGINS } from './builtin-plugins.ts';
import { LinuxHardware } from './hardware.ts';
import { RAMDISK_PLUGIN_DIR, type ModuleImporter } from './plugins.ts';

/** key=value words of a kernel command line (quotes allowed). */
export function parseCmdline(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([^\s=]+)(?:=("[^"]*"|\S*))?/g)) out[m[1]] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
  return out;
}

/** BOOTIF=01-aa-bb-cc-dd-ee-ff (pxelinux/iPXE form) or a plain MAC, as aa:bb:cc:dd:ee:ff. */
export function parseBootif(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return canonicalMac(value.replace(/^01-(?=([0-9a-fA-F]{2}-){5}[0-9a-fA-F]{2}$)/, ''));
}

export interface AgentSettings {
  apiUrl: string;
  nodeUuid?: string;
  bootif?: string;
  inspectionCallbackUrl?: string;
  /** Unset: every address of both families. */
  listenHost?: string;
  listenPort: number;
  advertiseHost?: string;
  rootDevice?: string;
  /** PEM of the CA the API's certificate is verified with. */
  apiCa?: string;
  /** Plugin folders beside the built-in plugins (anvil.agent_plugins, comma-separated; default the ramdisk's, of the extra plugins). */
  pluginDirs: string[];
  /**
   * ipa-collect-lldp=1: listen for LLDP on each NIC at most timeoutMs (ipa-lldp-timeout, seconds), and
   * linkWaitMs with its link up and nothing heard (anvil.lldp_link_wait, seconds); absent: no LLDP.
   */
  lldp?: { timeoutMs: number; linkWaitMs: number };
}

/** IPA's default wait for LLDP frames, in seconds. */
const LLDP_TIMEOUT_SEC = 10;
/**
 * Seconds a NIC with its link up listens before it is taken to have no LLDP neighbour: switches send
 * on link up and at their tx-interval (30 s by default: set anvil.lldp_link_wait to it to wait one out).
 */
const LLDP_LINK_WAIT_SEC = 2;

function lldpSeconds(name: string, value: string | undefined, fallback: number): number {
  const seconds = Number(value ?? fallback);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`Invalid ${name} "${value}": a number of seconds above 0 is expected`);
  return seconds * 1000;
}

function lldpListening(collect: string | undefined, timeout: string | undefined, linkWait: string | undefined): AgentSettings['lldp'] {
  if (!collect || !/^(1|true|yes|on)$/i.test(collect)) return undefined;
  return { timeoutMs: lldpSeconds('LLDP timeout', timeout, LLDP_TIMEOUT_SEC), linkWaitMs: lldpSeconds('LLDP link wait', linkWait, LLDP_LINK_WAIT_SEC) };
}

export function settingsFrom(argv: string[], cmdline: string): AgentSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      'api-url': { type: 'string' }, 'node-uuid': { type: 'string' }, bootif: { type: 'string' },
      'inspection-callback-url': { type: 'string' }, 'listen-host': { type: 'string' }, 'listen-port': { type: 'string' },
      'advertise-host': { type: 'string' }, 'root-device': { type: 'string' }, 'api-ca': { type: 'string' }, 'plugin-dirs': { type: 'string' }, cmdline: { type: 'string' },
      'collect-lldp': { type: 'string' }, 'lldp-timeout': { type: 'string' }, 'lldp-link-wait': { type: 'string' },
    },
    strict: true,
  });
  const k = parseCmdline(cmdline);
  const apiUrl = values['api-url'] ?? k['ipa-api-url'];
  if (!apiUrl) throw new Error('No API URL: pass --api-url or ipa-api-url= on the kernel command line');
  const port = Number(values['listen-port'] ?? k['ipa-listen-port'] ?? 9999);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid listen port ${values['listen-port'] ?? k['ipa-listen-port']}`);
  const apiCa = values['api-ca'] ?? k['anvil.api_ca'];
  return {
    apiUrl,
    nodeUuid: values['node-uuid'] ?? k['ipa-node-uuid'],
    bootif: parseBootif(values.bootif ?? k.BOOTIF),
    inspectionCallbackUrl: values['inspection-callback-url'] ?? k['ipa-inspection-callback-url'],
    listenHost: values['listen-host'] ?? k['ipa-listen-host'],
    listenPort: port,
    advertiseHost: values['advertise-host'] ?? k['ipa-advertise-host'],
    rootDevice: values['root-device'] ?? k['ipa-root-device'],
    apiCa: apiCa ? apiCaFrom(apiCa) : undefined,
    pluginDirs: (values['plugin-dirs'] ?? k['anvil.agent_plugins'] ?? RAMDISK_PLUGIN_DIR).split(',').filter(Boolean),
    lldp: lldpListening(values['collect-lldp'] ?? k['ipa-collect-lldp'], values['lldp-timeout'] ?? k['ipa-lldp-timeout'], values['lldp-link-wait'] ?? k['anvil.lldp_link_wait']),
  };
}

/** `importModule`: how plugin files are imported (the ramdisk launcher's, whose compiled code cache has no import() of its own). */
export async function main(argv = process.argv.slice(2), importModule?: ModuleImporter): Promise<Agent> {
  const cmdlineFile = argv.includes('--cmdline') ? argv[argv.indexOf('--cmdline') + 1] : '/proc/cmdline';
  let cmdline = '';
  try {
    cmdline = readFileSync(cmdlineFile, 'utf8');
  } catch {
    // no kernel command line (running outside a ramdisk): flags only
  }
  const s = settingsFrom(argv, cmdline);
  const logger = createLogger({ name: 'anvil-agent' });
  const agent = new Agent({
    apiUrl: s.apiUrl,
    apiCa: s.apiCa,
    hardware: new LinuxHardware({ rootDevice: s.rootDevice, bootif: s.bootif, lldp: s.lldp, logger }),
    logger,
    listenHost: s.listenHost,
    listenPort: s.listenPort,
    advertiseHost: s.advertiseHost,
    nodeUuid: s.nodeUuid,
    inspectionCallbackUrl: s.inspectionCallbackUrl,
    plugins: BUILTIN_PLUGINS,
    pluginDirs: s.pluginDirs,
    importModule,
    onEnded: () => process.exit(0),
  });
  await agent.start();
  // How long Node took from its process start to here: most of it, in a slow VM, is loading the bundle.
  logger.info({ api: s.apiUrl, callback: agent.callbackUrl, startupMs: Math.round(process.uptime() * 1000) }, 'agent started');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void agent.stop().then(() => process.exit(0)));
  return agent;
}

// Run when executed directly (node agent.js / tsx deploy-agent/main.ts), not when imported by tests.
const entry = process.argv[1] ?? '';
if (/(^|[\\/])(main\.ts|anvil-agent(\.m?js)?)$/.test(entry)) {
  main().catch((err) => {
    process.stderr.write(`anvil-agent: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
