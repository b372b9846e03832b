// /v1/nodes/{ident}/states: provision and power actions. The API records the intent (new
// provision state or target power state) before answering 202; a conductor does the work.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Conflict, InvalidInput, MissingParameter, NotAcceptable } from '../../../common/errors.ts';
import { ABORTABLE_STATES, nextState, PowerState, ProvisionState, REFUSED_IN_MAINTENANCE, targetFor, UNSTABLE_STATES, VERBS } from '../../../common/states.ts';
import { isoTime, now } from '../../../db/index.ts';
import { recordHistory } from '../../../db/history.ts';
import { updateNode, type NodeRecord } from '../../../db/nodes.ts';
import { enqueueTask, WORK_CHANNEL } from '../../../db/tasks.ts';
import type { ApiContext } from '../context.ts';
import { Forbidden } from '../errors.ts';
import { accepted, baseUrl, noContent } from '../http.ts';
import { findNodeOr404 } from '../lookup.ts';
import { provisionStateFor } from '../nodeView.ts';
import { BOOL, coerceBooleans } from '../validation.ts';
import { requireVersion, versionString } from '../version.ts';
import { lockedOrChanged } from './nodes.ts';

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
  },
};

const POWER_SCHEMA = {
  type: 'object',
  required: ['target'],
  additionalProperties: false,
  properties: { target: { type: 'string' }, timeout: { type: 'integer' } },
};

interface ProvisionBody {
  target: string;
  configdrive?: string | Record<string, unknown> | null;
  clean_steps?: unknown[];
  deploy_steps?: unknown[];
  service_steps?: unknown[];
  rescue_password?: string;
  disable_ramdisk?: boolean;
  [key: string]: unknown;
}

type Req<B = unknown> = FastifyRequest<{ Params: { ident: string }; Body: B }>;

function statesLocation(req: FastifyRequest, ctx: ApiContext, node: NodeRecord): string {
  return `${baseUrl(req, ctx.config)}/v1/nodes/${node.uuid}/states`;
}

function invalidState(action: string, node: NodeRecord, ident: string): InvalidInput {
  return new InvalidInput(`The requested action "${action}" can not be performed on node "${ident}" while it is in state "${node.provision_state}".`, 'InvalidStateRequested');
}

const CONFIGDRIVE_KEYS = ['meta_data', 'network_data', 'user_data', 'vendor_data'];

function checkConfigdrive(req: FastifyRequest, drive: string | Record<string, unknown>): void {
  if (typeof drive === 'string') {
    if (!drive.includes('://') && !/^[A-Za-z0-9+/=\s]*$/.test(drive)) {
      throw new InvalidInput('The configdrive must be a URL or base64 encoded gzipped ISO9660 image; it holds characters outside base64.');
    }
    return;
  }
  requireVersion(req, 56, 'A configdrive given as a JSON object');
  for (const key of Object.keys(drive)) {
    if (!CONFIGDRIVE_KEYS.includes(key)) throw new InvalidInput(`Invalid configdrive key "${key}": allowed keys are ${CONFIGDRIVE_KEYS.join(', ')}.`);
  }
  if ('vendor_data' in drive) requireVersion(req, 59, 'configdrive.vendor_data');
  const ud = drive.user_data;
  if (ud !== undefined && ud !== null && typeof ud !== 'string' && typeof ud !== 'object') throw new InvalidInput('configdrive.user_data must be a string, an object or a list.');
}

/** Checks the request body against the verb (ironic node.py NodeStatesController.provision). */
function checkProvisionArgs(req: FastifyRequest, body: ProvisionBody, ident: string): void {
  const { target } = body;
  const deployLike = target === 'active' || target === 'deploy' || target === 'rebuild';
  if (body.configdrive != null) {
    if (!deployLike) throw new InvalidInput('Adding a config drive is only supported when setting provision state to active or rebuild');
    checkConfigdrive(req, body.configdrive);
  }
  if (body.clean_steps !== undefined && target !== 'clean') throw new InvalidInput('"clean_steps" is only valid when setting target provision state to clean');
  if (target === 'clean' && !body.clean_steps) throw new MissingParameter('"clean_steps" is required when setting target provision state to clean');
  if (body.deploy_steps !== undefined) {
    requireVersion(req, 69, 'deploy_steps');
    if (!deployLike) throw new InvalidInput('"deploy_steps" is only valid when setting target provision state to active or rebuild');
  }
  if (body.service_steps !== undefined && target !== 'service') throw new InvalidInput('"service_steps" is only valid when setting target provision state to service');
  if (target === 'service' && !body.service_steps) throw new MissingParameter('"service_steps" is required when setting target provision state to service');
  if (body.rescue_password !== undefined && target !== 'rescue') throw new InvalidInput('"rescue_password" is only valid when setting target provision state to rescue');
  if (target === 'rescue' && !body.rescue_password?.trim()) throw new MissingParameter('A non-empty "rescue_password" is required when setting target provision state to rescue');
  if (body.disable_ramdisk !== undefined) {
    requireVersion(req, 70, 'disable_ramdisk');
    if (target !== 'clean' && target !== 'service') throw new InvalidInput('"disable_ramdisk" is only valid when setting target provision state to clean or service');
  }
  void ident;
}

async function provisionHandler(req: Req<ProvisionBody>, reply: FastifyReply, ctx: ApiContext) {
  const { ident } = req.params;
  const body = coerceBooleans(req.body, ['disable_ramdisk']);
  const verb = VERBS[body.target];
  if (!verb) throw new InvalidInput(`Invalid target "${body.target}": it must be one of ${Object.keys(VERBS).join(', ')}.`, 'InvalidStateRequested');
  if (req.apiVersion < verb.minVersion) throw new NotAcceptable(`The "${body.target}" provision action requires API version ${versionString(verb.minVersion)} or later.`);
  const node = await findNodeOr404(ctx.db.knex, ident);
  checkProvisionArgs(req, body, ident);
  const { event } = verb;
  const refused = node.maintenance ? REFUSED_IN_MAINTENANCE[event] : undefined;
  if (refused) throw new InvalidInput(`The ${refused} operation can't be performed on node ${node.uuid} because it's in maintenance mode.`, 'NodeInMaintenance');
  if ((event === 'rebuild' || event === 'delete') && node.protected) {
    throw new Forbidden(`Node ${node.uuid} is protected and cannot be undeployed, rebuilt or deleted`, 'NodeProtected');
  }
  if (event === 'abort') {
    if (node.provision_state === ProvisionState.INSPECT_WAIT) requireVersion(req, 41, 'Aborting inspection');
    if (node.provision_state === ProvisionState.DEPLOY_WAIT) requireVersion(req, 110, 'Aborting a deployment in "wait call-back"');
  }
  const next = nextState(node.provision_state, event);
  if (!next || (event === 'abort' && !ABORTABLE_STATES.has(node.provision_state))) {
    if (node.reservation) throw await lockedOrChanged(ctx, node, ident);
    throw invalidState(body.target, { ...node, provision_state: provisionStateFor(node.provision_state, req.apiVersion) }, ident);
  }

  const fields: Partial<NodeRecord> = {
    provision_state: next,
    target_provision_state: targetFor(next, event === 'clean' ? ProvisionState.MANAGEABLE : event === 'abort' ? node.target_provision_state : undefined),
    last_error: event === 'abort' ? `Aborted by user in state "${node.provision_state}"` : null,
    provision_updated_at: now(),
  };
  if (event === 'inspect') fields.inspection_started_at = now();
  const internal = { ...node.driver_internal_info };
  const instance = { ...node.instance_info };
  if (body.configdrive != null) instance.configdrive = body.configdrive;
  if (body.rescue_password !== undefined) instance.rescue_password = body.rescue_password;
  if (body.deploy_steps !== undefined) internal.user_deploy_steps = body.deploy_steps;
  else if (event === 'deploy' || event === 'rebuild') delete internal.user_deploy_steps;
  if (event === 'clean') internal.manual_clean_steps = body.clean_steps;
  else if (event === 'provide') delete internal.manual_clean_steps;
  if (body.service_steps !== undefined) internal.service_steps = body.service_steps;
  if (body.disable_ramdisk !== undefined) internal.disable_ramdisk = body.disable_ramdisk;
  if (JSON.stringify(internal) !== JSON.stringify(node.driver_internal_info)) fields.driver_internal_info = internal;
  if (JSON.stringify(instance) !== JSON.stringify(node.instance_info)) fields.instance_info = instance;

  const updated = await updateNode(ctx.db.knex, node.id, fields, { provision_state: node.provision_state, reservation: null });
  if (!updated) throw await lockedOrChanged(ctx, node, ident);
  await recordHistory(ctx.db.knex, node.id, {
    event: event === 'abort' ? `Aborted by user in state "${node.provision_state}"; now "${next}"` : `"${body.target}" requested: "${node.provision_state}" -> "${next}"`,
    event_type: 'provisioning',
    severity: event === 'abort' ? 'warning' : 'info',
  });
  if (event === 'abort') await enqueueTask(ctx.db, node.id, 'abort', { from_state: node.provision_state });
  else await ctx.db.notify(WORK_CHANNEL, String(node.id));
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
    throw new InvalidInput(`Powering off node ${node.uuid} is disabled (disable_power_off is set)`);
  }
  if (node.target_power_state) throw new Conflict(`Node ${node.uuid} is already changing its power state to "${node.target_power_state}", please retry after the current operation is completed.`, 'NodeLocked');
  const requested: Record<string, unknown> = { target };
  if (timeout !== undefined) requested.timeout = timeout;
  const updated = await updateNode(
    ctx.db.knex,
    node.id,
    { target_power_state: POWER_TARGETS[target], last_error: null, driver_internal_info: { ...node.driver_internal_info, requested_power_action: requested } },
    { reservation: null, target_power_state: null },
  );
  if (!updated) throw await lockedOrChanged(ctx, node, ident);
  await recordHistory(ctx.db.knex, node.id, { event: `Power action "${target}" requested`, event_type: 'power' });
  await ctx.db.notify(WORK_CHANNEL, String(node.id));
  return accepted(reply, statesLocation(req, ctx, node));
}

function statesView(node: NodeRecord, version: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    console_enabled: node.console_enabled,
    last_error: node.last_error,
    power_state: node.power_state,
    provision_state: provisionStateFor(node.provision_state, version),
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
  await enqueueTask(ctx.db, node.id, kind, { target: req.body.target });
  return accepted(reply, statesLocation(req, ctx, node));
}

export const nodeStateRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.get<{ Params: { ident: string } }>('/nodes/:ident/states', async (req) => statesView(await findNodeOr404(ctx.db.knex, req.params.ident), req.apiVersion));
  app.put<{ Params: { ident: string }; Body: ProvisionBody }>('/nodes/:ident/states/provision', { schema: { body: PROVISION_SCHEMA } }, (req, reply) => provisionHandler(req, reply, ctx));
  app.put<{ Params: { ident: string }; Body: { target: string; timeout?: number } }>('/nodes/:ident/states/power', { schema: { body: POWER_SCHEMA } }, (req, reply) => powerHandler(req, reply, ctx));
  app.put<{ Params: { ident: string }; Body: { logical_disks: unknown[] } }>(
    '/nodes/:ident/states/raid',
    { schema: { body: { type: 'object', required: ['logical_disks'], properties: { logical_disks: { type: 'array', items: { type: 'object' } } } } } },
    async (req, reply) => {
      requireVersion(req, 12, 'RAID configuration');
      const node = await findNodeOr404(ctx.db.knex, req.params.ident);
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
