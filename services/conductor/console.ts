// Serial consoles (PUT /v1/nodes/{id}/states/console): the set_console_mode node task starts or
// stops the node's console through its console interface and records the outcome, as Ironic's
// set_console_mode does (console_enabled, and last_error on failure). Consoles live in the
// conductor's process, so the owner of a node recorded with its console enabled that does not
// serve it (it restarted, or took the node over) starts it again.
import { errorMessage, InvalidInput } from '../../common/errors.ts';
import { nodesWithConsoleEnabled } from '../../db/nodes.ts';
import { enqueueTask, hasUnfinishedTask } from '../../db/tasks.ts';
import type { ConsoleInterface } from '../../drivers/interfaces.ts';
import { withInternalInfo, withoutInternalInfo } from '../../drivers/internal-info.ts';
import { resolveDriver } from '../../drivers/registry.ts';
import type { NodeTask } from './context.ts';
import type { TaskHandler } from './node-tasks.ts';
import type { Runtime } from './runtime.ts';

export const SET_CONSOLE_MODE = 'set_console_mode';

/** The interface's start and stop, or Ironic's UnsupportedDriverExtension (a 400). */
export function consoleControl(iface: ConsoleInterface): Required<Pick<ConsoleInterface, 'start' | 'stop'>> {
  if (!iface.start || !iface.stop) throw new InvalidInput(`The console interface "${iface.name}" of this node does not support a console; set a console_interface such as ipmitool-socat`, 'UnsupportedDriverExtension');
  return { start: iface.start.bind(iface), stop: iface.stop.bind(iface) };
}

export const setConsoleMode: TaskHandler = {
  async run(ctx: NodeTask, args) {
    const enabled = args.enabled === true;
    const iface = ctx.driver.console;
    const { start, stop } = consoleControl(iface);
    ctx.eventType = 'console';
    try {
      if (enabled) {
        await iface.validate(ctx.node, ctx.ports);
        const info = await start(ctx);
        await ctx.saveAndNote({ console_enabled: true, last_error: null, ...withInternalInfo(ctx.node, { console_info: info }) }, () => `Console enabled (${iface.name})${info.url ? ` at ${info.url}` : ''}`);
      } else {
        await stop(ctx);
        await ctx.saveAndNote({ console_enabled: false, ...withoutInternalInfo(ctx.node, ['console_info']) }, () => 'Console disabled');
      }
    } catch (err) {
      const message = `Failed to ${enabled ? 'start' : 'stop'} the console of node ${ctx.node.uuid}: ${errorMessage(err)}`;
      // A console that failed to start is off (Ironic's set_console_mode records it so); one that failed to stop still runs.
      await ctx.saveAndNote({ last_error: message, ...(enabled ? { console_enabled: false, ...withoutInternalInfo(ctx.node, ['console_info']) } : {}) }, () => message, 'error');
      throw err;
    }
    return null;
  },
};

/** Queues a start of each owned node's console that is recorded enabled but not served by this process. */
export async function restoreConsoles(rt: Runtime): Promise<void> {
  for (const node of await nodesWithConsoleEnabled(rt.db.knex, rt.group)) {
    if (rt.stopping) return;
    if (!rt.owns(node)) continue;
    let iface: ConsoleInterface;
    try {
      iface = resolveDriver(node).console;
    } catch {
      continue;
    }
    if (!iface.running || iface.running(node)) continue;
    // A start (or stop) already asked for, or under way, is not asked for twice: a second start would end the first's clients.
    if (await hasUnfinishedTask(rt.db.knex, node.id, SET_CONSOLE_MODE)) continue;
    rt.logger.info({ node: node.uuid }, 'starting the console recorded as enabled again');
    await enqueueTask(rt.db, node, SET_CONSOLE_MODE, { enabled: true });
  }
}
