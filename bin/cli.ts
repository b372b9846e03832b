// The `anvil` command. Each role or tool registers its own sub-command from its folder.
import { Command } from 'commander';
import { AnvilError } from '../common/errors.ts';
import { registerRoleCommands } from '../services/roles.ts';
import { registerNetbootCommand } from '../services/netboot/cli.ts';
import { registerSimulateIpmi } from '../simulators/ipmi-bmc/cli.ts';
import { registerSimulateRedfish } from '../simulators/redfish-bmc/cli.ts';
import { registerDemoCommand } from '../simulators/rack/demo.ts';
import { registerSimulateQemu } from '../simulators/qemu/cli.ts';
import { registerOperatorCommands } from './operator/index.ts';
import { registerSimulateOvirt } from '../simulators/ovirt-engine/cli.ts';

type Register = (program: Command) => void;

// Sub-commands, one registration function per role or tool.
const COMMANDS: Register[] = [registerRoleCommands, registerSimulateIpmi, registerNetbootCommand, registerSimulateRedfish, registerDemoCommand, registerSimulateQemu, registerSimulateOvirt, registerOperatorCommands];

const program = new Command('anvil')
  .description('Anvil: bare-metal provisioning that speaks OpenStack Ironic\'s REST API')
  .showHelpAfterError();
for (const register of COMMANDS) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Our own errors and plain ones read as sentences; a stack only helps with a bug (ANVIL_DEBUG=1).
  const message = err instanceof AnvilError || (err instanceof Error && !process.env.ANVIL_DEBUG) ? err.message : (err as Error).stack ?? String(err);
  process.stderr.write(`anvil: ${message}\n`);
  process.exit(1);
}
