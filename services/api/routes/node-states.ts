// /v1/nodes/{ident}/states: provision and power actions. The API records the intent (new
// provision state or target power state) before answering 202; a conductor does the work.
import { resolveDriver } from '../../../drivers/registry.ts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Conflict, InvalidInput } from '../../../common/errors.ts';
import { PowerState, ProvisionState, UNSTABLE_STATES } from '../../../common/states.ts';
import { isoTime } from '../../../db/index.ts';
import { recordHistory } from '../../../db/history.ts';
import { historyActor } from '../auth/identity.ts';
import { updateNode, type NodeRecord } from '../../../db/nodes.ts';
import { enqueueTask, notifyNodeWork } from '../../../db/tasks.ts';
import type { ApiContext } from '../context.ts';
import { accepted, baseUrl, noContent } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { provisionStateFor, shownProvisionState } from '../nodeView.ts';
import { BOOL, coerceBooleans } from '../validation.ts';
import { requireVersion } from '../version.ts';
import { askProvision, verbOf, type ProvisionBody } from '../provision-verbs.ts';
import { lockedOrChanged } from './nodes.ts';
import { runbookRequest } from './runbooks.ts';
import { emitProvisionSet } from '../../notifications/node-events.ts';
import { consoleControl, SET_CONSOLE_MODE } from '../../conductor/console.ts';
import { internalInfo } from '../../../drivers/internal-info.ts';

const STEP = { type: 'object', required: ['interface', 'step'], properties: { interface: { type: 'string' }, step: { type: 'string' }, args: { type: 'object' }, priority: { type: 'integer' }, order: { type: 'integer' } } };

const PROVISION_SCHEMA = {
  type: 'object',
  required: ['target'],
  additionalProperties: false,
  properties: {
    target: { type: 'string' },
    configdrive: { type: ['string', 'object', 'null'] },
    clean_steps: { type: 'array', items: STEP },
    deploy_steps: { type: 'array', items: STEP },
    service_steps: { type: 'array', items: STEP },
    rescue_password: { type: 'string' },
    disable_ramdisk: BOOL,
    runbook: { type: ['string', 'null'] },
  },
};

const POWER_SCHEMA = {
  type: 'object',
  required: ['target'],
  additionalProperties: false,
  properties: { target: { type: 'string' }, timeout: { type: 'integer' } },
};

type Req<B = unknown> = FastifyRequest<{ Params: { ident: string }; Body: B }>;

function statesLocation(req: FastifyRequest, ctx: ApiContext, node: NodeRecord): string {
  return `${baseUrl(req, ctx.config)}/v1/nodes/${node.uuid}/states`;
}

function invalidState(action: string, node: NodeRecord, ident: string): InvalidInput {
  return new InvalidInput(`The requested action "${action}" can not be performed on node "${ident}" while it is in state "${node.provision_state}".`, 'InvalidStateRequested');
}

/** A provision request may name a runbook (1.92) instead of clean or service steps. */
type ProvisionRequest = ProvisionBody & { runbook?: string | null };

/** Finds the node, expands a runbook into the steps it stands for, asks the verb table (provision-verbs.ts), writes what it answers. */
async function provisionHandler(req: Req<ProvisionRequest>, reply: FastifyReply, ctx: ApiContext) {
  const { ident } = req.params;
  const { runbook, ...body } = coerceBooleans(req.body, ['disable_ramdisk']);
  const event = verbOf(body.target, req.apiVersion);
  const node = await findNodeOr404(ctx.db.knex, ident);
  if (runbook != null) {
    requireVersion(req, 92, 'runbook');
    Object.assign(body, await runbookRequest(ctx, node, body.target, runbook, body, req.apiVersion));
  }
  const asked = askProvision(event, body, node, req.apiVersion);
  if (!asked) {
    if (node.reservation) throw await lockedOrChanged(ctx, node, ident);
    throw invalidState(body.target, { ...node, provision_state: provisionStateFor(node.provision_state, req.apiVersion) }, ident);
  }
  const updated = await updateNode(ctx.db.knex, node.id, asked.fields, { provision_state: node.provision_state, reservation: null });
  if (!updated) throw await lockedOrChanged(ctx, node, ident);
  emitProvisionSet(ctx.db.knex, { service: 'api' }, node, updated, event);
  await recordHistory(ctx.db.knex, updated, { ...asked.history, event_type: 'provisioning', ...historyActor(req.auth.identity) });
  if (asked.task) await enqueueTask(ctx.db, node, asked.task.kind, asked.task.args);
  else await notifyNodeWork(ctx.db, node);
  return accepted(reply, statesLocation(req, ctx, node));
}

const POWER_TARGETS: Record<string, 'power on' | 'power off'> = {
  [PowerState.ON]: 'power on', [PowerState.OFF]: 'power off', [PowerState.REBOOT]: 'power on', [PowerState.SOFT_OFF]: 'power off', [PowerState.SOFT_REBOOT]: 'power on',
};

async function powerHandler(req: Req<{ target: string; timeout?: number }>, reply: FastifyReply, ctx: ApiContext) {
  const { ident } = req.params;
  const { target, timeout } = req.body;
  const node = await findNodeOr404(ctx.db.knex, ident);
  const soft = target === PowerState.SOFT_OFF || target === PowerState.SOFT_REBOOT;
  if (soft || timeout !== undefined) requireVersion(req, 27, soft ? `Power target "${target}"` : 'The power timeout');
  if (!(target in POWER_TARGETS)) {
    throw new InvalidInput(`The requested action "${target}" can not be performed on node "${ident}" while it is in power state "${node.power_state}". Valid targets: ${Object.keys(POWER_TARGETS).join(', ')}.`, 'InvalidStateRequested');
  }
  if (timeout !== undefined && timeout < 1) throw new InvalidInput(`Invalid timeout value ${timeout}: it must be a positive integer.`);
  if (node.provision_state === ProvisionState.CLEANING || node.provision_state === ProvisionState.CLEAN_WAIT) throw invalidState(target, node, ident);
  if (node.disable_power_off && (target === PowerState.OFF || target === PowerState.SOFT_OFF)) {
    // Ironic's PowerStateFailure, an InvalidState: 409.
    throw new Conflict(`Failed to set node power state to ${target}: node ${node.uuid} has disable_power_off set, so it may only be rebooted.`, 'PowerStateFailure');
  }
  if (node.target_power_state) throw new Conflict(`Node ${node.uuid} is already changing its power state to "${node.target_power_state}", please retry after the current operation is completed.`, 'NodeLocked');
  const updated = await updateNode(
    ctx.db.knex,
    node.id,
    { target_power_state: POWER_TARGETS[target], last_error: null, power_request: timeout === undefined ? { target } : { target, timeout } },
    { reservation: null, target_power_state: null },
  );
  if (!updated) throw await lockedOrChanged(ctx, node, ident);
  await recordHistory(ctx.db.knex, updated, { event: `Power action "${target}" requested`, event_type: 'power', ...historyActor(req.auth.identity) });
  await notifyNodeWork(ctx.db, node);
  return accepted(reply, statesLocation(req, ctx, node));
}

function statesView(node: NodeRecord, version: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    console_enabled: node.console_enabled,
    last_error: node.last_error,
    power_state: node.power_state,
    provision_state: shownProvisionState(node.provision_state, version),
    provision_updated_at: isoTime(node.provision_updated_at),
    target_power_state: node.target_power_state,
    target_provision_state: node.target_provision_state,
  };
  if (version >= 12) Object.assign(out, { raid_config: node.raid_config, target_raid_config: node.target_raid_config });
  if (version >= 75) Object.assign(out, { boot_mode: node.boot_mode, secure_boot: node.secure_boot });
  return out;
}

/** Boot mode and secure boot changes go to the conductor as node tasks (they need the BMC). */
async function bootSettingHandler(req: Req<{ target: unknown }>, reply: FastifyReply, ctx: ApiContext, kind: 'set_boot_mode' | 'set_secure_boot') {
  requireVersion(req, 76, kind === 'set_boot_mode' ? 'Setting the boot mode' : 'Setting secure boot');
  const node = await findNodeOr404(ctx.db.knex, req.params.ident);
  if (node.reservation) throw await lockedOrChanged(ctx, node, req.params.ident);
  if (UNSTABLE_STATES.has(node.provision_state)) throw new Conflict(`Node ${node.uuid} is in state "${node.provision_state}"; its boot mode and secure boot change only in a stable state.`, 'InvalidState');
  await enqueueTask(ctx.db, node, kind, { target: req.body.target });
  return accepted(reply, statesLocation(req, ctx, node));
}

/** Ironic's console view: console_info only while the console is enabled. */
function consoleView(node: NodeRecord): Record<string, unknown> {
  consoleControl(resolveDriver(node).console);
  return { console_enabled: node.console_enabled, console_info: node.console_enabled ? internalInfo(node).console_info ?? null : null };
}

export const nodeStateRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  // Also at /nodes/states/console/{ident}, where Ironic's NodesController.states sub-controller serves it too (tempest's client asks there).
  for (const url of ['/nodes/:ident/states/console', '/nodes/states/console/:ident']) {
    app.get<{ Params: { ident: string } }>(url, async (req) => consoleView(await findNodeOr404(ctx.db.knex, req.params.ident)));
    app.put<{ Params: { ident: string }; Body: { enabled: boolean } }>(
      url,
      { schema: { body: { type: 'object', required: ['enabled'], additionalProperties: false, properties: { enabled: BOOL } } } },
      async (req, reply) => {
        const { enabled } = coerceBooleans(req.body, ['enabled']);
        const node = await findNodeOr404(ctx.db.knex, req.params.ident);
        consoleControl(resolveDriver(node).console);
        await enqueueTask(ctx.db, node, SET_CONSOLE_MODE, { enabled: enabled === true });
        await recordHistory(ctx.db.knex, node, { event: `Console ${enabled ? 'enable' : 'disable'} requested`, event_type: 'console', ...historyActor(req.auth.identity) });
        return accepted(reply, `${baseUrl(req, ctx.config)}/v1/nodes/${node.uuid}/states/console`);
      },
    );
  }
  app.get<{ Params: { ident: string } }>('/nodes/:ident/states', async (req) => statesView(await findNodeOr404(ctx.db.knex, req.params.ident), req.apiVersion));
  app.put<{ Params: { ident: string }; Body: ProvisionRequest }>('/nodes/:ident/states/provision', { schema: { body: PROVISION_SCHEMA } }, (req, reply) => provisionHandler(req, reply, ctx));
  app.put<{ Params: { ident: string }; Body: { target: string; timeout?: number } }>('/nodes/:ident/states/power', { schema: { body: POWER_SCHEMA } }, (req, reply) => powerHandler(req, reply, ctx));
  app.put<{ Params: { ident: string }; Body: { logical_disks: unknown[] } }>(
    '/nodes/:ident/states/raid',
    { schema: { body: { type: 'object', required: ['logical_disks'], properties: { logical_disks: { type: 'array', items: { type: 'object' } } } } } },
    async (req, reply) => {
      requireVersion(req, 12, 'RAID configuration');
      const node = await findNodeOr404(ctx.db.knex, req.params.ident);
      // The node's RAID interface checks the logical disks (Ironic's raid.validate_raid_config).
      if (req.body.logical_disks.length) resolveDriver(node).raid.validateRaidConfig?.(req.body as unknown as Record<string, unknown>);
      const updated = await updateNode(ctx.db.knex, node.id, { target_raid_config: req.body.logical_disks.length ? (req.body as unknown as Record<string, unknown>) : {} }, { reservation: null });
      if (!updated) throw await lockedOrChanged(ctx, node, req.params.ident);
      return noContent(reply);
    },
  );
  app.put<{ Params: { ident: string }; Body: { target: unknown } }>(
    '/nodes/:ident/states/boot_mode',
    { schema: { body: { type: 'object', required: ['target'], additionalProperties: false, properties: { target: { type: 'string', enum: ['uefi', 'bios'] } } } } },
    (req, reply) => bootSettingHandler(req, reply, ctx, 'set_boot_mode'),
  );
  app.put<{ Params: { ident: string }; Body: { target: unknown } }>(
    '/nodes/:ident/states/secure_boot',
    { schema: { body: { type: 'object', required: ['target'], additionalProperties: false, properties: { target: { type: 'boolean' } } } } },
    (req, reply) => bootSettingHandler(req, reply, ctx, 'set_secure_boot'),
  );
};
