// `anvil simulate redfish`: a Redfish BMC simulator over in-memory machines (or a mockup tree),
// until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { InvalidInput } from '../../common/errors.ts';
import { parseListen } from '../../common/config.ts';
import { parseFlavor, startRedfishSimulator } from './index.ts';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInput(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

interface Options {
  systems: number;
  listen: string;
  flavor: string;
  mockup?: string;
  username?: string;
  password?: string;
  tls?: boolean;
  perPort?: boolean;
  powerDelay: number;
}

export function registerSimulateRedfish(program: Command): void {
  const simulate = program.commands.find((c) => c.name() === 'simulate') ?? program.command('simulate').description('Run simulated hardware for tests');
  simulate.command('redfish')
    .description('Redfish BMC simulator (like sushy-tools): N systems behind one endpoint, or one BMC per port')
    .option('--systems <n>', 'number of simulated systems', integer('systems', 1, 100000), 1)
    .option('--listen <host:port>', 'address to listen on (port 0: any free port)', '127.0.0.1:8000')
    .option('--flavor <flavor>', 'generic, idrac, ilo, irmc (iRMC S6) or irmc-s4', 'generic')
    .option('--mockup <dir>', 'serve a DMTF-layout mockup tree (folders with index.json) with live power, boot and virtual media')
    .option('--username <user>', 'require these credentials (Basic or session)')
    .option('--password <password>', 'password for --username')
    .option('--tls', 'HTTPS with a generated self-signed certificate')
    .option('--per-port', 'one BMC per port (PORT, PORT+1, ...) with the vendor\'s own Ids')
    .option('--power-delay <ms>', 'milliseconds before a power change shows', integer('power-delay', 0, 600000), 0)
    .action(async (opts: Options) => {
      if ((opts.username === undefined) !== (opts.password === undefined)) throw new InvalidInput('--username and --password go together');
      const listen = parseListen(opts.listen, '--listen');
      const sim = await startRedfishSimulator({
        systems: opts.systems,
        listen,
        flavor: parseFlavor(opts.flavor),
        mockupDir: opts.mockup,
        auth: opts.username !== undefined ? { username: opts.username, password: opts.password! } : undefined,
        tls: Boolean(opts.tls),
        perPort: Boolean(opts.perPort),
        powerDelayMs: opts.powerDelay,
      });
      const ids = sim.systemIds;
      const shown = ids.length > 4 ? `${ids.slice(0, 2).join(', ')} ... ${ids[ids.length - 1]}` : ids.join(', ');
      const where = sim.endpoints.length > 1 ? `${sim.endpoints[0].url} ... ${sim.endpoints[sim.endpoints.length - 1].url}` : sim.url;
      process.stdout.write(`Redfish simulator ready: ${ids.length} system(s) (${shown}) at ${where}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sim.close();
    });
}
