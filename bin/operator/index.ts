// The operator's commands, clients of a running API: `anvil nodes import FILE`, `anvil nodes explain
// NODE`, `anvil watch [NODE…]`. Each takes --url and credentials (or ANVIL_URL, ANVIL_USERNAME,
// ANVIL_PASSWORD, OS_TOKEN) and --output json for scripts.
import { Command, Option } from 'commander';
import { ApiClient, type ClientOptions } from './client.ts';
import { explainNode, explanationText } from './explain.ts';
import { importInventory, type ImportResult } from './import.ts';
import { watch } from './watch.ts';

interface CommonOptions extends ClientOptions {
  output: 'table' | 'json';
}

function withApiOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the Anvil API (default: $ANVIL_URL, $OS_ENDPOINT, http://127.0.0.1:6385)')
    .option('--username <name>', 'http_basic user (default: $ANVIL_USERNAME)')
    .option('--password <password>', 'http_basic password (default: $ANVIL_PASSWORD)')
    .option('--token <token>', 'a Keystone token (default: $OS_TOKEN)')
    .addOption(new Option('-o, --output <format>', 'table for people, json for scripts').choices(['table', 'json']).default('table'));
}

function importTable(results: ImportResult[], dryRun: boolean): string {
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = [`${'NAME'.padEnd(width)}  ${dryRun ? 'WOULD' : 'DID'}        CHANGES`];
  for (const r of results) lines.push(`${r.name.padEnd(width)}  ${r.action.padEnd(11)}  ${r.error ?? (r.changes.join('; ') || '-')}`);
  const count = (a: string) => results.filter((r) => r.action === a).length;
  lines.push('', `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged, ${count('error')} refused${dryRun ? ' (dry run: nothing changed)' : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerOperatorCommands(program: Command): void {
  const nodes = program.command('nodes').description('Operator commands on nodes, through the API');

  withApiOptions(nodes.command('import').argument('<file>', 'CSV (with a header line) or YAML inventory')
    .description('Enroll the servers of an inventory (name, bmc_address, bmc_username, bmc_password, macs, resource_class, traits); a second run changes nothing')
    .option('--dry-run', 'say what would change, change nothing'))
    .action(async (file: string, opts: CommonOptions & { dryRun?: boolean }) => {
      const results = await importInventory(new ApiClient(opts), file, Boolean(opts.dryRun));
      process.stdout.write(opts.output === 'json' ? `${JSON.stringify(results, null, 2)}\n` : importTable(results, Boolean(opts.dryRun)));
      if (results.some((r) => r.action === 'error')) process.exitCode = 1;
    });

  withApiOptions(nodes.command('explain').argument('<node>', 'name or UUID')
    .description('Why a node is where it is: its state, current step, last error, last events, and what to do next')
    .option('--events <n>', 'history events to show', (v) => Number(v), 5))
    .action(async (ident: string, opts: CommonOptions & { events: number }) => {
      const x = await explainNode(new ApiClient(opts), ident, opts.events);
      process.stdout.write(opts.output === 'json' ? `${JSON.stringify(x, null, 2)}\n` : explanationText(x));
    });

  withApiOptions(program.command('watch').argument('[nodes...]', 'names or UUIDs (default: every node)')
    .description('Live states with progress bars for the fleet and per node (one JSON line per change with --output json)')
    .option('--interval <seconds>', 'seconds between polls', (v) => Number(v), 2)
    .option('--once', 'print the current picture once and exit')
    .option('--until <states>', 'exit once every watched node is in one of these provision states (comma-separated), e.g. active,deploy failed'))
    .action(async (idents: string[], opts: CommonOptions & { interval: number; once?: boolean; until?: string }) => {
      const until = opts.until ? new Set(opts.until.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
      await watch(new ApiClient(opts), idents, { json: opts.output === 'json', once: Boolean(opts.once), until, intervalSec: opts.interval, out: process.stdout });
    });
}
