// `anvil simulate ipmi`: N simulated BMCs over in-memory machines, until SIGINT/SIGTERM.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidInput } from '../../common/errors.ts';
import { MemoryMachine, sampleHardware } from '../machine.ts';
import { startIpmiSimulator } from './index.ts';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInput(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

export function registerSimulateIpmi(program: Command): void {
  const simulate = program.commands.find((c) => c.name() === 'simulate') ?? program.command('simulate').description('Run simulated hardware for tests');
  simulate.command('ipmi')
    .description('IPMI 2.0 (RMCP+) BMCs that ipmitool -I lanplus talks to; BMC k listens on FIRST_PORT+k')
    .option('--bmcs <n>', 'number of BMCs', integer('bmcs', 1, 20000), 1)
    .option('--listen <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'UDP port of the first BMC', integer('port', 1, 65535), 6230)
    .option('--username <name>', 'IPMI user name', 'admin')
    .option('--password <password>', 'IPMI password', 'password')
    .option('--cipher-suites <list>', 'cipher suites offered, comma-separated (17 alone plays a BMC that disabled suite 3)', '3,17')
    .action(async (opts: { bmcs: number; listen: string; port: number; username: string; password: string; cipherSuites: string }) => {
      const cipherSuites = opts.cipherSuites.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
      if (!cipherSuites.length || cipherSuites.some((n) => n !== 3 && n !== 17)) throw new InvalidInput(`--cipher-suites must list 3 and/or 17, got "${opts.cipherSuites}"`);
      if (opts.port + opts.bmcs - 1 > 65535) throw new InvalidInput(`--port ${opts.port} with --bmcs ${opts.bmcs} runs past port 65535`);
      if (Buffer.byteLength(opts.username) > 16) throw new InvalidInput('--username must be at most 16 bytes (IPMI limit)');
      if (Buffer.byteLength(opts.password) > 20) throw new InvalidInput('--password must be at most 20 bytes (IPMI 2.0 limit)');
      const machines = Array.from({ length: opts.bmcs }, (_, k) => new MemoryMachine(`ipmi-${k}`, randomUUID(), `ipmi-node-${k}`, sampleHardware(k)));
      const sim = await startIpmiSimulator({ machines, host: opts.listen, firstPort: opts.port, username: opts.username, password: opts.password, cipherSuites });
      process.stdout.write(`IPMI simulator ready: ${opts.bmcs} BMC(s) on ${opts.listen} UDP ports ${sim.ports[0]}-${sim.ports[sim.ports.length - 1]}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sim.close();
    });
}
