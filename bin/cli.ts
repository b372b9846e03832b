// The `anvil` command. Each role or tool registers its own sub-command from its folder.
import { Command } from 'commander';
import { AnvilError } from '../common/errors.ts';

type Register = (program: Command) => void;

/**
 * Sub-commands by their top-level name, each with the module that registers it. Only the one
 * named on the command line is loaded (a role does not load the simulators, the demo or the
 * operator CLI and their packages); help and an unknown name load them all.
 */
const COMMANDS: { names: string[]; load: () => Promise<Register[]> }[] = [
  { names: ['all-in-one', 'api', 'conductor'], load: async () => [(await import('../services/roles.ts')).registerRoleCommands] },
  { names: ['netboot'], load: async () => [(await import('../services/netboot/cli.ts')).registerNetbootCommand] },
  { names: ['demo'], load: async () => [(await import('../simulators/rack/demo.ts')).registerDemoCommand] },
  {
    names: ['simulate'],
    load: async () => [
      (await import('../simulators/ipmi-bmc/cli.ts')).registerSimulateIpmi,
      (await import('../simulators/redfish-bmc/cli.ts')).registerSimulateRedfish,
      (await import('../simulators/qemu/cli.ts')).registerSimulateQemu,
      (await import('../simulators/ovirt-engine/cli.ts')).registerSimulateOvirt,
    ],
  },
  { names: ['nodes', 'watch'], load: async () => [(await import('./operator/index.ts')).registerOperatorCommands] },
];

const program = new Command('anvil')
  .description('Anvil: bare-metal provisioning that speaks OpenStack Ironic\'s REST API')
  .showHelpAfterError();

try {
  const named = COMMANDS.find((c) => c.names.includes(process.argv[2]));
  for (const entry of named ? [named] : COMMANDS) for (const register of await entry.load()) register(program);
  await program.parseAsync(process.argv);
} catch (err) {
  // Our own errors and plain ones read as sentences; a stack only helps with a bug (ANVIL_DEBUG=1).
  const message = err instanceof AnvilError || (err instanceof Error && !process.env.ANVIL_DEBUG) ? err.message : (err as Error).stack ?? String(err);
  process.stderr.write(`anvil: ${message}\n`);
  process.exit(1);
}
