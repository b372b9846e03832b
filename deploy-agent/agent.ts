// The deploy agent: speaks ironic-python-agent's protocol. Start-up: serve the command API,
// post the inventory if booted for inspection, look the node up by MAC (getting the agent
// token), then heart-beat until stopped; the conductor drives the work through the commands.
import type { Logger } from '../common/logger.ts';
import { downloadDispatcher } from './api-ca.ts';
import { ApiCallError, IronicApiClient, type LookupResult } from './api-client.ts';
import { CommandServer, type CommandResult } from './command-server.ts';
import type { AgentRuntime, Extension } from './commands.ts';
import { deploy, clean, service } from './extensions/steps.ts';
import { image, log } from './extensions/misc.ts';
import { standby } from './extensions/standby.ts';
import { rescue } from './extensions/rescue.ts';
import type { Hardware } from './hardware.ts';
import type { Inventory } from './inventory.ts';
import type { AgentPlugin } from './plugin-api.ts';
import { rootDeviceHints } from './root-device.ts';
import { TempImageStore, type ImageStore } from './image-store.ts';
import { loadPlugins, type ModuleImporter } from './plugins.ts';
import { GENERIC_HARDWARE_MANAGER, StepCatalog } from './steps.ts';
import { origin } from '../common/url-host.ts';
import { sourceAddressTowards } from './source-address.ts';

type Json = Record<string, unknown>;

export const AGENT_VERSION = '10.0.0.anvil';

/** Lookups tried before posting the inventory (the conductor may hold the node a moment: 409). */
const LOOKUPS_BEFORE_INSPECTION = 5;

export const EXTENSIONS: Readonly<Record<string, Extension>> = { standby, deploy, clean, service, image, log, rescue };

export interface AgentOptions {
  apiUrl: string;
  hardware: Hardware;
  logger: Logger;
  images?: ImageStore;
  /** Address and port of the command API (IPA: 0.0.0.0:9999). */
  listenHost?: string;
  listenPort?: number;
  /** Host put in callback_url (defaults to the listen host, or the first IPv4 of the NICs). */
  advertiseHost?: string;
  /** PEM of the CA that signed the API's certificate (anvil.api_ca); default: the system's CAs. */
  apiCa?: string;
  /** ipa-node-uuid: look up by this UUID as well as the MACs. */
  nodeUuid?: string;
  /** ipa-inspection-callback-url: post the inventory there first. */
  inspectionCallbackUrl?: string;
  /** Fixed heart-beat interval; default heartbeat_timeout × U(0.3, 0.6) as IPA, at least 5 s. */
  heartbeatIntervalMs?: number;
  /** First pause between failed lookups (doubles up to 30 s). */
  lookupRetryMs?: number;
  /** Plugins compiled into the agent (the ramdisk's built-ins: builtin-plugins.ts), offered with no import. */
  plugins?: readonly AgentPlugin[];
  /** Folders of plugins whose steps the agent offers beside its own (plugins.ts). */
  pluginDirs?: readonly string[];
  /** How plugin files are imported; default Node's import(). */
  importModule?: ModuleImporter;
  /** Called once the agent stopped itself (rescue finalized): the ramdisk's agent process exits. */
  onEnded?: () => void;
}

const stepNames = (p: AgentPlugin): string => p.steps.map((s) => `${s.kind}.${s.step}`).join(', ');

export class Agent {
  readonly api: IronicApiClient;
  private readonly server: CommandServer;
  private readonly runtime: AgentRuntime;
  private readonly stopper = new AbortController();
  private readonly history: string[] = [];
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lookupResult: LookupResult | null = null;
  private callback: string | null = null;
  private heartBeaten: () => void = () => {};

  constructor(private readonly opts: AgentOptions) {
    this.api = new IronicApiClient(opts.apiUrl, { ca: opts.apiCa });
    const server: CommandServer = new CommandServer({
      extensions: EXTENSIONS,
      runtime: (this.runtime = {
        hardware: opts.hardware,
        images: opts.images ?? new TempImageStore(),
        logger: opts.logger,
        version: AGENT_VERSION,
        node: null,
        run: (name: string, params: Json): Promise<unknown> => server.runNested(name, params),
        recentLogs: () => [...this.history],
        steps: Promise.resolve(new StepCatalog([GENERIC_HARDWARE_MANAGER])),
        endForRescue: () => this.endForRescue(),
      }),
      version: AGENT_VERSION,
      token: () => (this.lookupResult?.config.agent_token as string | undefined) ?? null,
      onAsyncDone: (result) => this.commandDone(result),
    });
    this.server = server;
  }

  get nodeUuid(): string | null {
    return this.lookupResult?.node.uuid ?? null;
  }

  get callbackUrl(): string | null {
    return this.callback;
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private record(line: string): void {
    this.history.push(`${new Date().toISOString()} ${line}`);
    if (this.history.length > 500) this.history.shift();
  }

  private commandDone(result: CommandResult): void {
    this.record(`command ${result.command_name} ${result.command_status}${result.command_error ? `: ${result.command_error.message}` : ''}`);
    // IPA heart-beats as soon as an async command ends, so the conductor moves on without waiting.
    this.wake?.();
  }

  async start(): Promise<void> {
    // The LLDP wait (inspection's longest) runs while the agent starts and looks its node up.
    this.opts.hardware.listenForLldp?.();
    if (this.opts.apiCa) this.runtime.downloadDispatcher = await downloadDispatcher(this.opts.apiCa);
    // The plugins load once the heart-beats start (after the inventory, when inspecting): no step is
    // asked before the conductor has a heart-beat, and in a slow VM their import would delay the
    // lookup, that heart-beat and the inventory.
    const dirs = this.opts.pluginDirs ?? [];
    const builtins = this.opts.plugins ?? [];
    for (const p of builtins) this.record(`plugin ${p.name} ${p.version} (built in): ${stepNames(p)}`);
    if (dirs.length) this.runtime.steps = new Promise<void>((resolve) => { this.heartBeaten = resolve; }).then(() => this.loadPlugins(builtins, dirs));
    else if (builtins.length) this.runtime.steps = Promise.resolve(new StepCatalog([GENERIC_HARDWARE_MANAGER, ...builtins]));
    const { host, port } = await this.listen();
    const advertise = this.opts.advertiseHost ?? (host === '0.0.0.0' || host === '::' ? await this.firstAddress() : host);
    this.callback = origin('http', advertise, port);
    this.record(`command API listening at ${this.callback}`);
    this.loop = this.run().catch((err) => {
      if (!this.stopped) this.opts.logger.error({ err }, 'agent loop ended');
    });
  }

  private async loadPlugins(builtins: readonly AgentPlugin[], dirs: readonly string[]): Promise<StepCatalog> {
    const { plugins, problems } = await loadPlugins(dirs, this.opts.importModule);
    for (const problem of problems) {
      this.opts.logger.error(problem);
      this.record(problem);
    }
    for (const p of plugins) this.record(`plugin ${p.name} ${p.version} (${p.file}): ${stepNames(p)}`);
    return new StepCatalog([GENERIC_HARDWARE_MANAGER, ...builtins, ...plugins]);
  }

  /** The command API on listenHost; by default on every address of both families (`::`), or of IPv4 alone on a kernel without IPv6. */
  private async listen(): Promise<{ host: string; port: number }> {
    const port = this.opts.listenPort ?? 9999;
    if (this.opts.listenHost) return this.server.listen(this.opts.listenHost, port);
    try {
      return await this.server.listen('::', port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
      return this.server.listen('0.0.0.0', port);
    }
  }

  /** Where the conductor reaches this agent: the address of the route to the API, else the first NIC address (IPv4 first). */
  private async firstAddress(): Promise<string> {
    const routed = await sourceAddressTowards(this.opts.apiUrl);
    if (routed) return routed;
    const nics = (await this.opts.hardware.inventory({ withoutLldp: true })).interfaces;
    return nics.find((i) => i.ipv4_address)?.ipv4_address ?? nics.find((i) => i.ipv6_address)?.ipv6_address ?? '127.0.0.1';
  }

  /** After finalize_rescue: the answer goes out first, then the agent stops, as IPA's does. */
  private endForRescue(): void {
    this.record('rescue finalized; stopping');
    const t = setTimeout(() => void this.stop().then(() => this.opts.onEnded?.()), 500);
    t.unref?.();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.wake?.();
    await this.server.close();
    await this.loop;
    this.api.close();
    await this.runtime.downloadDispatcher?.close();
  }

  private async pause(ms: number): Promise<void> {
    // stop() may come while a call is under way, before this pause could be woken.
    if (this.stopped) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = null;
  }

  private async run(): Promise<void> {
    if (this.opts.inspectionCallbackUrl) {
      // Looked up and heart-beaten once before the inventory ends the inspection: under fast track the
      // conductor then knows this agent when the next phase starts at once. A node not enrolled yet
      // (discovery) is not found and posts its inventory straight away.
      // The inventory (which waits for LLDP) is gathered meanwhile.
      const inventory = this.opts.hardware.inventory();
      inventory.catch(() => undefined);
      if (await this.lookup(LOOKUPS_BEFORE_INSPECTION)) await this.heartbeat();
      await this.inspect(this.opts.inspectionCallbackUrl, inventory);
    }
    if (!this.lookupResult) await this.lookup();
    await this.heartbeats();
  }

  /** The inventory and plugin data IPA's inspector posts. */
  async inspectionData(gathered?: Promise<Inventory>): Promise<Json> {
    const inventory = await (gathered ?? this.opts.hardware.inventory());
    const root = await this.opts.hardware.rootDisk(rootDeviceHints(this.runtime.node)).catch(() => null);
    return {
      inventory,
      root_disk: root ? inventory.disks.find((d) => d.name === root.name) ?? null : null,
      boot_interface: inventory.boot.pxe_interface ? `01-${inventory.boot.pxe_interface.replace(/:/g, '-')}` : null,
      lldp_raw: Object.fromEntries(inventory.interfaces.filter((i) => i.lldp).map((i) => [i.name, i.lldp])),
      pci_devices: await this.opts.hardware.pciDevices(),
      error: null,
    };
  }

  /** Posts the inspection data, retrying; the first try takes the inventory `gathered` at start. */
  private async inspect(url: string, gathered?: Promise<Inventory>): Promise<void> {
    const client = new IronicApiClient(url.replace(/\/v1\/continue_inspection\/?$/, ''), { ca: this.opts.apiCa });
    try {
      await this.postInspection(client, gathered);
    } finally {
      client.close();
    }
  }

  private async postInspection(client: IronicApiClient, gathered?: Promise<Inventory>): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        if (this.opts.hardware.injectedFailure?.('inspection')) throw new ApiCallError('inspection data collection failed (injected)', null);
        await client.continueInspection(await this.inspectionData(attempt === 0 ? gathered : undefined));
        this.record('inspection data posted');
        return;
      } catch (err) {
        const status = (err as ApiCallError).status;
        this.opts.logger.warn({ err: (err as Error).message }, 'posting inspection data failed');
        // IPA retries on 5xx and 409 (and unreachable API); other errors are final.
        if (status !== null && status !== undefined && status < 500 && status !== 409) return;
        await this.pause(Math.min(30_000, (this.opts.lookupRetryMs ?? 1000) * 2 ** attempt));
      }
    }
  }

  /** Looks the node up, retrying (at most `attempts` times; a 404 ends a bounded try at once); true when found. */
  private async lookup(attempts = Infinity): Promise<boolean> {
    const macs = await this.opts.hardware.macAddresses();
    for (let attempt = 0; !this.stopped && attempt < attempts; attempt++) {
      try {
        const started = Date.now();
        this.lookupResult = await this.api.lookup(macs, this.opts.nodeUuid);
        this.runtime.node = this.lookupResult.node;
        this.record(`looked up node ${this.lookupResult.node.uuid}`);
        this.opts.logger.info({ node: this.lookupResult.node.uuid, ms: Date.now() - started }, 'lookup succeeded');
        return true;
      } catch (err) {
        if (attempts !== Infinity && (err as ApiCallError).status === 404) return false;
        this.opts.logger.debug({ err: (err as Error).message }, 'lookup failed; retrying');
        const base = this.opts.lookupRetryMs ?? 1000;
        await this.pause(Math.min(30_000, base * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2));
      }
    }
    return false;
  }

  private interval(): number {
    if (this.opts.heartbeatIntervalMs !== undefined) return this.opts.heartbeatIntervalMs;
    const timeout = Number(this.lookupResult?.config.heartbeat_timeout ?? 300);
    return Math.max(5000, timeout * 1000 * (0.3 + Math.random() * 0.3));
  }

  /** One heart-beat; false when the agent is to go silent (an injected failure). */
  private async heartbeat(): Promise<boolean> {
    if (this.opts.hardware.injectedFailure?.('heartbeat')) {
      // A test asked for an agent that goes silent: keep the command API, stop heart-beating.
      this.record('heart-beats stopped (injected failure)');
      return false;
    }
    try {
      await this.api.heartbeat(this.lookupResult!.node.uuid, {
        callback_url: this.callback!,
        agent_token: String(this.lookupResult!.config.agent_token ?? ''),
        agent_version: AGENT_VERSION,
      });
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
    return true;
  }

  private async heartbeats(): Promise<void> {
    while (!this.stopped && this.lookupResult) {
      const beating = await this.heartbeat();
      this.heartBeaten();
      if (!beating) return;
      await this.pause(this.interval());
    }
  }
}

