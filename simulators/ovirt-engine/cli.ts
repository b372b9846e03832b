// `anvil simulate ovirt`: an oVirt Engine (REST API v4) with N VMs over in-memory machines, until
// SIGINT/SIGTERM. A QEMU-backed VM is `anvil simulate qemu --ovirt HOST:PORT`.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseListen } from '../../common/config.ts';
import { InvalidInput } from '../../common/errors.ts';
import { makeMachines } from '../redfish-bmc/index.ts';
import { startEngineSimulator } from './index.ts';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInput(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

interface Options { vms: number; listen: string; username: string; password: string; tls: boolean; caFile?: string; stepMs: number }

export function registerSimulateOvirt(program: Command): void {
  const simulate = program.commands.find((c) => c.name() === 'simulate') ?? program.command('simulate').description('Run simulated hardware for tests');
  simulate.command('ovirt')
    .description('An oVirt Engine (REST API v4: SSO tokens, VMs, start/stop/shutdown/reboot, boot devices) with N VMs named node-0001...')
    .option('--vms <n>', 'number of VMs', integer('vms', 1, 100000), 1)
    .option('--listen <host:port>', 'address to listen on (port 0: any free port)', '127.0.0.1:8443')
    .option('--username <user@domain>', 'the Engine user', 'admin@internal')
    .option('--password <password>', 'its password', 'password')
    .option('--no-tls', 'plain HTTP instead of HTTPS with a generated self-signed certificate')
    .option('--ca-file <file>', 'write the HTTPS certificate there (driver_info/ovirt_ca_file)')
    .option('--step-ms <ms>', 'milliseconds each transitional VM status lasts (wait_for_launch, powering_up, ...)', integer('step-ms', 0, 600000), 500)
    .action(async (opts: Options) => {
      if (!/^[^@\s]+@[^@\s]+$/.test(opts.username)) throw new InvalidInput(`--username must be user@domain (as admin@internal), got "${opts.username}"`);
      const at = parseListen(opts.listen, '--listen');
      const sim = await startEngineSimulator({ machines: makeMachines(opts.vms), host: at.host, port: at.port, users: { [opts.username]: opts.password }, tls: opts.tls, stepMs: opts.stepMs });
      if (opts.caFile && sim.certificate) writeFileSync(opts.caFile, sim.certificate);
      const names = sim.vms.map((v) => v.name);
      const shown = names.length > 3 ? `${names[0]} ... ${names[names.length - 1]}` : names.join(', ');
      process.stdout.write(`oVirt Engine simulator ready: ${names.length} VM(s) (${shown}) at ${sim.url}/ovirt-engine/api\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sim.close();
    });
}
