// One config file (YAML) plus environment overrides; with neither, all-in-one runs on a SQLite
// file under ./data and the API listens on 127.0.0.1:6385.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InvalidInput } from './errors.ts';
import { origin } from './url-host.ts';

export interface TimeoutsConfig {
  /** Seconds in `wait call-back` before `deploy failed` (Ironic deploy_callback_timeout). */
  deployCallback: number;
  cleanCallback: number;
  inspectWait: number;
  rescueCallback: number;
  serviceCallback: number;
  /** Seconds a working state (deploying, cleaning, verifying, ...) may last with no progress. */
  working: number;
}

export type AuthStrategy = 'noauth' | 'http_basic' | 'keystone';

/** Who may call the API (docs/security.md). */
export interface AuthConfig {
  strategy: AuthStrategy;
  /** noauth on a non-loopback address: refused unless this is true (and then warned about at every start). */
  allowInsecureNoauth: boolean;
  /** http_basic: an Apache htpasswd file with bcrypt entries (Ironic's http_basic_auth_user_file). */
  userFile?: string;
  /** http_basic: the realm of the 401's WWW-Authenticate challenge. */
  realm: string;
  /** A YAML file of policy rules that override Ironic's defaults. */
  policyFile?: string;
  /** The project whose `service` role members count as a service (Ironic's rule:service_role). */
  serviceProjectName: string;
  keystone: {
    /** Keystone's public endpoint, e.g. http://127.0.0.1:5000/v3 */
    authUrl?: string;
    /** Announced in 401s' `WWW-Authenticate: Keystone uri="..."` (default: authUrl without /v3). */
    wwwAuthenticateUri?: string;
    /** Anvil's own service user that validates tokens. */
    username?: string;
    password?: string;
    projectName: string;
    userDomainName: string;
    projectDomainName: string;
    /** Seconds a validated token is trusted before Keystone is asked again (never past its expiry). */
    cacheSeconds: number;
    /** Seconds one call to Keystone may take. */
    timeout: number;
    /** A CA file for an HTTPS Keystone. */
    caFile?: string;
  };
  /** Audit events of mutating requests: JSON lines in `file` (rotated), else on the process log. */
  audit: { file?: string; maxBytes: number; keep: number };
  /** 429 for a client after this many failed authentications in a row, waiting baseSeconds doubling up to maxSeconds. */
  backoff: { failures: number; baseSeconds: number; maxSeconds: number };
}

export interface AnvilConfig {
  dataDir: string;
  /** maxConnections: the PostgreSQL pool's size per process (several processes share the server's max_connections). */
  database: { url: string; maxConnections: number };
  api: {
    host: string;
    port: number;
    /** The URL others (the CLI, agents) reach the API at; used in links. Defaults to http://host:port. */
    publicUrl?: string;
    maxLimit: number;
    /** HTTPS when cert and key are set (PEM files); clientCa makes the API require client certificates. */
    tls: { cert?: string; key?: string; clientCa?: string };
    /** Largest request body in bytes (Ironic/oslo.middleware max_request_body_size: 112 KiB); larger is a 413. */
    maxBodyBytes: number;
    /** Deepest nesting of arrays and objects in a body, and in a resource after a JSON patch. */
    maxJsonDepth: number;
    /** Seconds a client has to send a whole request, headers and body; then 408. */
    requestTimeout: number;
    /** Whether DELETE /v1/nodes/{ident} may remove an `available` node (Ironic's [conductor]allow_deleting_available_nodes). */
    allowDeletingAvailableNodes: boolean;
  };
  auth: AuthConfig;
  conductor: {
    hostname: string;
    group: string;
    /** Seconds between heart-beats of the conductor row. */
    heartbeatInterval: number;
    /** A conductor silent for this long is dead; its nodes go to the others. */
    heartbeatTimeout: number;
    /** Seconds between polls for work (a wake-up event comes sooner). */
    pollInterval: number;
    /** Nodes worked on at once by one conductor. */
    workers: number;
    /** Seconds between power-state syncs; 0 turns it off. */
    powerSyncInterval: number;
    /** Seconds between checks of transient-state timeouts. */
    timeoutCheckInterval: number;
    /** Seconds between prunings of the node change and transition logs (by one conductor of the group). */
    changeLogPruneInterval: number;
    /** Seconds a power change may take before it fails (Ironic power_state_change_timeout). */
    powerStateChangeTimeout: number;
    /** Failed power-state reads in a row before the node goes to maintenance (Ironic power_state_sync_max_retries). */
    powerSyncMaxRetries: number;
    /** Seconds a node task (boot device, NMI, ...) may take before it fails; heart-beats and inspection data get timeouts.working. */
    taskTimeout: number;
    /** Seconds a stopping conductor lets in-flight work finish before it hands it back. */
    shutdownTimeout: number;
    timeouts: TimeoutsConfig;
    /** Serial consoles this conductor serves (Ironic's [console] socat_address, port_range): the address proxies listen on, and the TCP ports they take. */
    serialConsole: { address: string; portRange: [number, number] };
  };
  agent: {
    /** Seconds the agent may go between heart-beats (Ironic [api]ramdisk_heartbeat_timeout). */
    heartbeatTimeout: number;
    /** Seconds to wait for the agent's own power off before a hard power off (Ironic: 6 polls × 5 s). */
    powerOffWait: number;
    /** Seconds between power-state reads while waiting for it. */
    powerOffPollInterval: number;
    /** Seconds a command call to the agent may take (Ironic [agent]command_timeout). */
    commandTimeout: number;
    /** Priority of the agent's erase_devices in automated cleaning; 0 leaves the full erase out. */
    eraseDevicesPriority: number;
    /** Priority of erase_devices_metadata in automated cleaning. */
    eraseDevicesMetadataPriority: number;
    /**
     * Fast track (Ironic's [deploy]fast_track): an agent still heart-beating from the previous phase
     * is reused by inspection, cleaning and deploy, with no power cycle nor network boot. Unset: on
     * for `anvil all-in-one`, off for the separate roles (set it alike on the API and the conductors).
     */
    fastTrack?: boolean;
    /** Seconds since the agent's last heart-beat within which fast track reuses it (Ironic fast_track_timeout). */
    fastTrackTimeout: number;
  };
  /** `tls`: cert and key (PEM files) make the image server (images nodes download) serve HTTPS. */
  /**
   * `publicHost6`: the IPv6 address (or a name with only AAAA records) the image server is reached at by peers that
   * speak only IPv6 (BMCs mounting virtual media, agents on an IPv6 provisioning network) when api.publicUrl's host is IPv4.
   */
  images: { cacheDir: string; cacheMaxBytes: number; tls?: { cert?: string; key?: string }; publicHost6?: string };
  /**
   * Auto-discovery (Ironic's [auto_discovery]): inspection data from a machine no node has a MAC of
   * creates a node in `enroll` with `driver`; `path` manage then moves it on to `manageable`.
   * The netboot role boots unknown MACs into inspection with netboot.dhcp.discovery.
   */
  discovery: { enabled: boolean; driver: string; path: DiscoveryPath };
  /** How inspection data is processed (Ironic's [inspector] hook options; docs/inspection.md#hooks). */
  inspection: InspectionConfig;
  /** The web console at /console/ (services/api/console): `enabled` false serves none of it. */
  console: {
    enabled: boolean;
    /** Milliseconds between reads of the node change log (db/console.ts). */
    changeIntervalMs: number;
  };
  /** Role-specific sections parsed by their own modules (e.g. netboot). */
  netboot?: Record<string, unknown>;
  /** The switch network interface's networks and switches (drivers/switch/config.ts). */
  network?: Record<string, unknown>;
  metrics: {
    /** GET /metrics on the API's port. */
    enabled: boolean;
    /** HOST:PORT of a /metrics-only HTTP server in conductor and netboot processes (they have no API port). */
    listen?: string;
    /** Conductors read BMC sensors (Redfish Thermal/Power, IPMI SDR) and expose them as ironic-prometheus-exporter does. */
    sensors: boolean;
    /** Seconds between sensor reads of each node. */
    sensorInterval: number;
  };
  /** Ironic's versioned notifications on AMQP 0-9-1 (services/notifications); off unless transportUrl and level are set. */
  notifications: {
    /** amqp://USER:PASSWORD@HOST:PORT/VHOST (Ironic's transport_url, rabbit:// also taken). */
    transportUrl?: string;
    /** The lowest priority sent: debug, info, warning, error, critical (Ironic's notification_level). */
    level?: 'debug' | 'info' | 'warning' | 'error' | 'critical';
    /** Topics, each published as <topic>.<priority> (Ironic's versioned_notifications_topics). */
    topics: string[];
    /** The topic exchange (oslo.messaging's control_exchange, "ironic" for Ironic). */
    exchange: string;
    /** Messages kept while the bus is unreachable; beyond, the oldest are dropped and counted. */
    bufferSize: number;
    /** Seconds before reconnecting to a lost bus (doubled up to 30 s). */
    reconnectInterval: number;
  };
  /**
   * Which implementation of each interface nodes may use, and which one a node gets when it names
   * none (Ironic's [DEFAULT] enabled_<iface>_interfaces and default_<iface>_interface), by interface
   * name (console, raid, ...). An interface left out of `enabled` has every implementation Anvil has;
   * one left out of `default` gets its hardware type's first enabled implementation. Checked against
   * the registry by drivers/registry.ts (checkInterfaceConfig).
   */
  interfaces: { enabled: Record<string, string[]>; default: Record<string, string> };
  log: { level: string; pretty: boolean };
}

export function defaultConfig(cwd = process.cwd()): AnvilConfig {
  const dataDir = path.join(cwd, 'data');
  return {
    dataDir,
    database: { url: `sqlite:${path.join(dataDir, 'anvil.sqlite')}`, maxConnections: 20 },
    api: { host: '127.0.0.1', port: 6385, publicUrl: undefined, maxLimit: 1000, maxBodyBytes: 114688, maxJsonDepth: 100, requestTimeout: 60, allowDeletingAvailableNodes: true, tls: { cert: undefined, key: undefined, clientCa: undefined } },
    auth: {
      strategy: 'noauth',
      allowInsecureNoauth: false,
      userFile: undefined,
      realm: 'Baremetal API',
      policyFile: undefined,
      serviceProjectName: 'service',
      keystone: {
        authUrl: undefined, wwwAuthenticateUri: undefined, username: undefined, password: undefined,
        projectName: 'service', userDomainName: 'Default', projectDomainName: 'Default', cacheSeconds: 300, timeout: 10, caFile: undefined,
      },
      audit: { file: undefined, maxBytes: 100 * 1024 * 1024, keep: 5 },
      backoff: { failures: 5, baseSeconds: 1, maxSeconds: 300 },
    },
    conductor: {
      hostname: os.hostname(),
      group: '',
      heartbeatInterval: 10,
      heartbeatTimeout: 60,
      pollInterval: 1,
      workers: 200,
      powerSyncInterval: 60,
      timeoutCheckInterval: 10,
      changeLogPruneInterval: 60,
      powerStateChangeTimeout: 60,
      powerSyncMaxRetries: 3,
      taskTimeout: 120,
      shutdownTimeout: 60,
      timeouts: { deployCallback: 1800, cleanCallback: 1800, inspectWait: 1800, rescueCallback: 1800, serviceCallback: 1800, working: 1800 },
      serialConsole: { address: '127.0.0.1', portRange: [10000, 20000] },
    },
    agent: { heartbeatTimeout: 300, powerOffWait: 30, powerOffPollInterval: 5, commandTimeout: 60, eraseDevicesPriority: 0, eraseDevicesMetadataPriority: 99, fastTrack: undefined, fastTrackTimeout: 300 },
    images: { cacheDir: path.join(dataDir, 'images'), cacheMaxBytes: 20 * 1024 ** 3, tls: { cert: undefined, key: undefined }, publicHost6: undefined },
    metrics: { enabled: true, listen: undefined, sensors: false, sensorInterval: 60 },
    notifications: { transportUrl: undefined, level: undefined, topics: ['ironic_versioned_notifications'], exchange: 'ironic', bufferSize: 10_000, reconnectInterval: 1 },
    discovery: { enabled: false, driver: 'ipmi', path: 'enroll' },
    inspection: {
      hooks: [], addPorts: 'all', keepPorts: 'all', diskPartitioningSpacing: true,
      cpuCapabilities: { vmx: 'cpu_vt', svm: 'cpu_vt', aes: 'cpu_aes', pse: 'cpu_hugepages', pdpe1gb: 'cpu_hugepages_1g', smx: 'cpu_txt' },
      pciDeviceAliases: [], physicalNetworkCidrMap: {},
      knownAccelerators: [
        { vendor_id: '10de', device_id: '1eb8', type: 'GPU', device_info: 'NVIDIA Corporation Tesla T4' },
        { vendor_id: '10de', device_id: '1df6', type: 'GPU', device_info: 'NVIDIA Corporation GV100GL' },
      ],
    },
    console: { enabled: true, changeIntervalMs: 200 },
    interfaces: { enabled: {}, default: {} },
    log: { level: 'info', pretty: Boolean(process.stdout.isTTY) },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges `override` into `base`; unknown keys are an error so typos don't pass silently. */
function merge(base: Record<string, unknown>, override: Record<string, unknown>, where: string, open: Set<string>): void {
  for (const [key, value] of Object.entries(override)) {
    const here = where ? `${where}.${key}` : key;
    if (!Object.hasOwn(base, key) && !open.has(where ? where : key) && !open.has(here)) {
      throw new InvalidInput(`Unknown configuration key "${here}"`);
    }
    if (isObject(base[key]) && isObject(value) && !open.has(here)) merge(base[key] as Record<string, unknown>, value, here, open);
    else base[key] = value;
  }
}

export function parseListen(value: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidInput(`${what} must be HOST:PORT, got "${value}"`);
  const port = Number(m[2]);
  if (port < 0 || port > 65535) throw new InvalidInput(`${what}: port ${port} is out of range`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

/**
 * Loads the configuration: defaults, then the YAML file (if any), then environment variables
 * ANVIL_DATABASE_URL, ANVIL_API_LISTEN, ANVIL_CONDUCTOR_HOSTNAME, ANVIL_CONDUCTOR_GROUP, ANVIL_LOG_LEVEL,
 * ANVIL_AUTH_STRATEGY, ANVIL_HTTP_BASIC_USER_FILE, ANVIL_POLICY_FILE, ANVIL_TLS_CERT, ANVIL_TLS_KEY, ANVIL_TLS_CLIENT_CA.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): AnvilConfig {
  const env = opts.env ?? process.env;
  const config = defaultConfig(opts.cwd);
  const file = opts.file ?? env.ANVIL_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new InvalidInput(`Cannot read configuration file ${file}: ${(err as Error).message}`);
    }
    if (parsed != null && !isObject(parsed)) throw new InvalidInput(`Configuration file ${file} must hold a mapping`);
    if (parsed) merge(config as unknown as Record<string, unknown>, parsed, '', new Set(['netboot', 'network', 'inspection.cpuCapabilities', 'inspection.physicalNetworkCidrMap', 'interfaces.enabled', 'interfaces.default']));
    if (parsed && 'dataDir' in parsed && !(isObject(parsed.images) && 'cacheDir' in parsed.images)) {
      config.images.cacheDir = path.join(config.dataDir, 'images');
    }
    if (parsed && 'dataDir' in parsed && !(isObject(parsed.database) && 'url' in parsed.database)) {
      config.database.url = `sqlite:${path.join(config.dataDir, 'anvil.sqlite')}`;
    }
  }
  if (env.ANVIL_DATABASE_URL) config.database.url = env.ANVIL_DATABASE_URL;
  if (env.ANVIL_API_LISTEN) Object.assign(config.api, parseListen(env.ANVIL_API_LISTEN, 'ANVIL_API_LISTEN'));
  if (env.ANVIL_CONDUCTOR_HOSTNAME) config.conductor.hostname = env.ANVIL_CONDUCTOR_HOSTNAME;
  if (env.ANVIL_CONDUCTOR_GROUP !== undefined) config.conductor.group = env.ANVIL_CONDUCTOR_GROUP.toLowerCase();
  if (env.ANVIL_LOG_LEVEL) config.log.level = env.ANVIL_LOG_LEVEL;
  if (env.ANVIL_CONSOLE) config.console.enabled = !/^(0|false|off|no)$/i.test(env.ANVIL_CONSOLE);
  if (env.ANVIL_AUTH_STRATEGY) config.auth.strategy = env.ANVIL_AUTH_STRATEGY as AuthStrategy;
  if (env.ANVIL_HTTP_BASIC_USER_FILE) config.auth.userFile = env.ANVIL_HTTP_BASIC_USER_FILE;
  if (env.ANVIL_POLICY_FILE) config.auth.policyFile = env.ANVIL_POLICY_FILE;
  if (env.ANVIL_TLS_CERT) config.api.tls.cert = env.ANVIL_TLS_CERT;
  if (env.ANVIL_TLS_KEY) config.api.tls.key = env.ANVIL_TLS_KEY;
  if (env.ANVIL_TLS_CLIENT_CA) config.api.tls.clientCa = env.ANVIL_TLS_CLIENT_CA;
  if (!AUTH_STRATEGIES.includes(config.auth.strategy)) {
    throw new InvalidInput(`auth.strategy must be one of ${AUTH_STRATEGIES.join(', ')}, got "${String(config.auth.strategy)}"`);
  }
  if (Boolean(config.api.tls.cert) !== Boolean(config.api.tls.key)) throw new InvalidInput('api.tls needs both cert and key (ANVIL_TLS_CERT and ANVIL_TLS_KEY)');
  if (Boolean(config.images.tls?.cert) !== Boolean(config.images.tls?.key)) throw new InvalidInput('images.tls needs both cert and key');
  if (!DISCOVERY_PATHS.includes(config.discovery.path)) {
    throw new InvalidInput(`discovery.path must be one of ${DISCOVERY_PATHS.join(', ')}, got "${String(config.discovery.path)}"`);
  }
  checkInspectionConfig(config.inspection);
  return config;
}

export const AUTH_STRATEGIES: readonly AuthStrategy[] = ['noauth', 'http_basic', 'keystone'];

/** Optional inspection hooks (Ironic's names); the others (ports, architecture, boot mode...) always run. */
export const INSPECTION_HOOKS = ['accelerators', 'cpu-capabilities', 'pci-devices', 'physical-network', 'raid-device', 'root-device'] as const;
export type InspectionHook = (typeof INSPECTION_HOOKS)[number];

export interface InspectionConfig {
  hooks: InspectionHook[];
  /** Which NICs get ports: all, those with an IP address (active), or only the one that PXE-booted (pxe). */
  addPorts: 'all' | 'active' | 'pxe';
  /** Which of a node's ports inspection keeps: all, those whose NIC is present, or those it added. */
  keepPorts: 'all' | 'present' | 'added';
  /** local_gb is the root disk less 1 GiB for partitioning (Ironic's disk_partitioning_spacing). */
  diskPartitioningSpacing: boolean;
  /** CPU flag -> capability set to "true" (cpu-capabilities). */
  cpuCapabilities: Record<string, string>;
  /** PCI vendor and product ids -> a capability counting such devices (pci-devices). */
  pciDeviceAliases: { vendor_id: string; product_id: string; name: string }[];
  /** CIDR -> physical_network of the ports whose NIC has an address in it (physical-network). */
  physicalNetworkCidrMap: Record<string, string>;
  /** PCI devices that are accelerators (properties.accelerators). */
  knownAccelerators: { vendor_id: string; device_id: string; type: string; device_info: string }[];
}

function checkInspectionConfig(c: InspectionConfig): void {
  const unknown = c.hooks.filter((h) => !INSPECTION_HOOKS.includes(h));
  if (unknown.length) throw new InvalidInput(`inspection.hooks: unknown hook(s) ${unknown.join(', ')}; known: ${INSPECTION_HOOKS.join(', ')}`);
  if (!['all', 'active', 'pxe'].includes(c.addPorts)) throw new InvalidInput(`inspection.addPorts must be one of all, active, pxe, got "${String(c.addPorts)}"`);
  if (!['all', 'present', 'added'].includes(c.keepPorts)) throw new InvalidInput(`inspection.keepPorts must be one of all, present, added, got "${String(c.keepPorts)}"`);
  for (const a of c.pciDeviceAliases) {
    if (!a || typeof a.vendor_id !== 'string' || typeof a.product_id !== 'string' || typeof a.name !== 'string') {
      throw new InvalidInput(`inspection.pciDeviceAliases: each entry needs vendor_id, product_id and name strings, got ${JSON.stringify(a)}`);
    }
  }
  for (const cidr of Object.keys(c.physicalNetworkCidrMap)) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr)) throw new InvalidInput(`inspection.physicalNetworkCidrMap: "${cidr}" is not a network (address/prefix)`);
  }
}

/** Where a discovered node goes: it stays in `enroll`, or is managed (verified) into `manageable`. */
export type DiscoveryPath = 'enroll' | 'manage';
export const DISCOVERY_PATHS: readonly DiscoveryPath[] = ['enroll', 'manage'];

export function apiPublicUrl(config: AnvilConfig): string {
  return (config.api.publicUrl ?? origin(config.api.tls.cert ? 'https' : 'http', config.api.host, config.api.port)).replace(/\/$/, '');
}
