// The netboot role: DHCP and DHCPv6 (direct and relayed), TFTP and HTTP boot, all answering from the database
// (the boot records the boot interfaces wrote) plus the config's static hosts.
import { mkdir } from 'node:fs/promises';
import type { AnvilConfig } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/index.ts';
import { renderBootFile } from './bootconfig.ts';
import { parseNetbootConfig, type NetbootConfig, type SubnetConfig } from './config.ts';
import { databaseLeases } from './dhcp/leases.ts';
import { startDhcpServer, type DhcpServer } from './dhcp/server.ts';
import { databaseLeases6 } from './dhcp6/leases.ts';
import { serverDuid } from './dhcp6/server-duid.ts';
import { startDhcp6Server, type Dhcp6Server } from './dhcp6/server.ts';
import { startHttpBootServer, type HttpBootServer } from './http/server.ts';
import { databaseTargets } from './targets.ts';
import { startTftpServer, type TftpServer } from './tftp/server.ts';
import { SUBNETS_CHANNEL, apiSubnets } from './subnets.ts';

export interface Netboot {
  readonly config: NetbootConfig;
  readonly dhcp?: DhcpServer;
  readonly dhcp6?: Dhcp6Server;
  readonly tftp?: TftpServer;
  readonly http?: HttpBootServer;
  close(): Promise<void>;
}

/** Seconds between reloads of the subnets added through the API (a notification reloads sooner). */
const SUBNET_RELOAD_SECONDS = 5;

export async function startNetboot(opts: { db: Database; config: AnvilConfig; logger: Logger }): Promise<Netboot> {
  const logger = opts.logger.child({ role: 'netboot' });
  let config = parseNetbootConfig(opts.config);
  const started: Array<{ close(): Promise<void> }> = [];
  const stop = async (): Promise<void> => {
    for (const s of started.reverse()) await s.close().catch((err) => logger.warn({ err }, 'netboot stop failed'));
  };
  try {
    let http: HttpBootServer | undefined;
    if (config.http.enabled) {
      await mkdir(config.http.root, { recursive: true });
      http = await startHttpBootServer({ ...config.http, targets: databaseTargets(opts.db.knex, config), logger });
      started.push(http);
      // Listening on port 0 (tests): the URLs handed to nodes carry the port actually bound.
      if (config.http.publicUrl.endsWith(':0')) config = { ...config, http: { ...config.http, publicUrl: config.http.publicUrl.replace(/:0$/, `:${http.port}`) } };
    }
    const targets = databaseTargets(opts.db.knex, config);
    let tftp: TftpServer | undefined;
    if (config.tftp.enabled) {
      await mkdir(config.tftp.root, { recursive: true });
      tftp = await startTftpServer({
        ...config.tftp,
        logger,
        render: async (p) => {
          const text = await renderBootFile(p, targets);
          return text === undefined ? undefined : Buffer.from(text);
        },
      });
      started.push(tftp);
    }
    let dhcp: DhcpServer | undefined;
    if (config.dhcp.enabled) {
      let subnets: SubnetConfig[] = [...config.subnets, ...(await apiSubnets(opts.db))];
      const reload = (): void => {
        apiSubnets(opts.db).then((added) => { subnets = [...config.subnets, ...added]; }, (err) => logger.warn({ err }, 'cannot reload API subnets'));
      };
      const timer = setInterval(reload, SUBNET_RELOAD_SECONDS * 1000);
      timer.unref();
      const unlisten = await opts.db.listen(SUBNETS_CHANNEL, reload);
      started.push({ close: async () => { clearInterval(timer); await unlisten(); } });
      dhcp = await startDhcpServer({ config, view: { targets, leases: databaseLeases(opts.db.knex), now: Date.now }, logger, subnets: () => subnets });
      started.push(dhcp);
    }
    let dhcp6: Dhcp6Server | undefined;
    if (config.dhcp6.enabled) {
      const duid = serverDuid(config.dhcp6.serverDuid, opts.config.dataDir);
      dhcp6 = await startDhcp6Server({ config, view: { targets, leases: databaseLeases6(opts.db.knex), serverDuid: duid, now: Date.now }, logger });
      started.push(dhcp6);
    }
    return { config, dhcp, dhcp6, tftp, http, close: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
