// `anvil netboot --config FILE`: the provisioning network role on its own.
import type { Command } from 'commander';
import { loadConfig } from '../../common/config.ts';
import { createLogger } from '../../common/logger.ts';
import { openDatabase } from '../../db/index.ts';
import { startMetricsServer } from '../metrics-server.ts';
import { startNetboot } from './index.ts';

export function registerNetbootCommand(program: Command): void {
  program
    .command('netboot')
    .description('Run the provisioning network role: DHCP and DHCPv6 (direct and relayed), TFTP and HTTP boot')
    .option('-c, --config <file>', 'configuration file (YAML); see docs/netboot.md')
    .action(async (opts: { config?: string }) => {
      const config = loadConfig({ file: opts.config });
      const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
      const db = await openDatabase(config.database.url);
      const netboot = await startNetboot({ db, config, logger });
      const metrics = await startMetricsServer(config, logger);
      logger.info({ dhcp: netboot.dhcp?.port, dhcp6: netboot.dhcp6?.port, tftp: netboot.tftp?.port, http: netboot.http?.port }, 'netboot ready');
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await metrics?.close();
      await netboot.close();
      await db.close();
    });
}
