// Starting Anvil's roles, alone or together, and the `anvil all-in-one|api|conductor` sub-commands.
// Each role opens the database from the configuration (migrating it), runs until stopped, and
// stops cleanly on SIGTERM/SIGINT: the API stops taking requests, the conductor hands back its work.
import type { Command } from 'commander';
import { loadConfig, type AnvilConfig } from '../common/config.ts';
import { errorMessage } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { openDatabase, type Database } from '../db/index.ts';
import { Conductor } from './conductor/conductor.ts';
import type { Netboot } from './netboot/index.ts';
import { startMetricsServer } from './metrics-server.ts';
import { origin } from '../common/url-host.ts';

export interface RoleHandle {
  /** Where the API listens, when this process serves it. */
  apiUrl?: string;
  /** The netboot role's HTTP boot server, when this process runs it. */
  netbootUrl?: string;
  stop(): Promise<void>;
}

/** Opens (and migrates) the database; several processes starting on one new database wait their turn. */
async function open(config: AnvilConfig, logger: Logger): Promise<Database> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabase(config.database.url, { maxConnections: config.database.maxConnections });
    } catch (err) {
      // knex refuses to migrate while another process holds its migration lock.
      if (!/already locked/i.test(errorMessage(err)) || attempt >= 60) throw err;
      logger.info('database migration running in another process; waiting');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function displayUrl(host: string, port: number, tls: boolean): string {
  return origin(tls ? 'https' : 'http', host, port);
}

async function listenApi(db: Database, config: AnvilConfig, logger: Logger): Promise<{ url: string; close(): Promise<void> }> {
  // Loaded here so that a conductor-only process does not load the API's code.
  const { createApiServer } = await import('./api/server.ts');
  const app = await createApiServer({ db, config, logger });
  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const url = displayUrl(config.api.host, port, Boolean(config.api.tls.cert));
  logger.info(`API listening on ${url}${config.console.enabled ? `; web console at ${url}/console/` : ''}`);
  return { url, close: () => app.close() };
}

export async function startApi(config: AnvilConfig, logger: Logger): Promise<RoleHandle> {
  const db = await open(config, logger);
  try {
    const api = await listenApi(db, config, logger);
    return {
      apiUrl: api.url,
      async stop() {
        await api.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

export async function startConductor(config: AnvilConfig, logger: Logger): Promise<RoleHandle> {
  const db = await open(config, logger);
  const conductor = new Conductor({ db, config, logger });
  let metrics;
  try {
    await conductor.start();
    metrics = await startMetricsServer(config, logger);
  } catch (err) {
    await conductor.stop();
    await db.close();
    throw err;
  }
  return {
    async stop() {
      await metrics?.close();
      await conductor.stop();
      await db.close();
    },
  };
}

/**
 * Every role in one process on one database connection (SQLite's in-process wake-ups reach the
 * conductor); the netboot role too when the configuration has a `netboot` section.
 */
export async function startAllInOne(config: AnvilConfig, logger: Logger, opts: { conductor?: boolean } = {}): Promise<RoleHandle> {
  const db = await open(config, logger);
  const conductor = opts.conductor === false ? undefined : new Conductor({ db, config, logger });
  let api: { url: string; close(): Promise<void> } | undefined;
  let netboot: Netboot | undefined;
  try {
    await conductor?.start();
    api = await listenApi(db, config, logger);
    // Agents are told the API's URL as it is bound (an ephemeral port in tests), unless one is configured.
    // Loaded only when configured: a process without netboot does not carry its code.
    if (config.netboot) netboot = await (await import('./netboot/index.ts')).startNetboot({ db, config: { ...config, api: { ...config.api, publicUrl: config.api.publicUrl ?? api.url } }, logger });
  } catch (err) {
    await api?.close();
    await conductor?.stop();
    await db.close();
    throw err;
  }
  return {
    apiUrl: api.url,
    netbootUrl: netboot?.http ? netboot.config.http.publicUrl : undefined,
    async stop() {
      await netboot?.close();
      await api.close();
      await conductor?.stop();
      await db.close();
    },
  };
}

/** Runs a role until SIGTERM or SIGINT, then stops it and exits. */
async function serve(start: (config: AnvilConfig, logger: Logger) => Promise<RoleHandle>, opts: { config?: string }): Promise<void> {
  const config = loadConfig({ file: opts.config });
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const handle = await start(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, stopping`);
    handle.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, `stopping failed: ${errorMessage(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const CONFIG_HELP = 'YAML configuration file (default: $ANVIL_CONFIG; without one, defaults plus ANVIL_* environment variables)';

const ENV_HELP = `
Environment:
  ANVIL_CONFIG               configuration file, as --config
  ANVIL_DATABASE_URL         sqlite:PATH or postgres://USER@HOST:PORT/DB (default: sqlite:./data/anvil.sqlite)
  ANVIL_API_LISTEN           HOST:PORT the API listens on (default: 127.0.0.1:6385)
  ANVIL_CONDUCTOR_HOSTNAME   name of this conductor (default: the machine's hostname)
  ANVIL_CONDUCTOR_GROUP      conductor group this conductor serves (default: none)
  ANVIL_LOG_LEVEL            trace, debug, info, warn, error (default: info)
  ANVIL_AUTH_STRATEGY        noauth (default; loopback only), http_basic or keystone (docs/security.md)
  ANVIL_HTTP_BASIC_USER_FILE htpasswd file with bcrypt entries, for http_basic
  ANVIL_POLICY_FILE          YAML overrides of the policy rules
  ANVIL_TLS_CERT, ANVIL_TLS_KEY, ANVIL_TLS_CLIENT_CA   HTTPS for the API (optionally requiring client certificates)
See docs/configuration.md for every setting.`;

/** `anvil all-in-one` runs fast track unless the configuration says otherwise: one process owns the API and the conductor. */
function withFastTrackDefault(config: AnvilConfig): AnvilConfig {
  return { ...config, agent: { ...config.agent, fastTrack: config.agent.fastTrack ?? true } };
}

/** Registers `all-in-one`, `api` and `conductor` (bin/cli.ts COMMANDS). */
export function registerRoleCommands(program: Command): void {
  const roles: [string, string, (config: AnvilConfig, logger: Logger) => Promise<RoleHandle>][] = [
    ['all-in-one', 'Run every role in one process (API and conductor, and netboot when configured); with no configuration, on a SQLite file under ./data', (config, logger) => startAllInOne(withFastTrackDefault(config), logger)],
    ['api', 'Run the Ironic-compatible REST API', startApi],
    ['conductor', 'Run a conductor: it claims nodes, drives their state machine and talks to their BMCs', startConductor],
  ];
  for (const [name, description, start] of roles) {
    program
      .command(name)
      .description(description)
      .option('-c, --config <file>', CONFIG_HELP)
      .addHelpText('after', ENV_HELP)
      .action((opts: { config?: string }) => serve(start, opts));
  }
}
