// Node tasks (db/tasks.ts): calls the API or the agent's endpoints hand to the conductor that owns
// a node, run with the node locked. One handler per kind; a failed task carries the error's message
// (and, in `result`, its HTTP status and code, so the API answers 400 for bad input, 500 otherwise).
import { AnvilError, Conflict, errorMessage, InvalidInput, UnsupportedOperation } from '../../common/errors.ts';
import { fingerprint } from '../../common/secrets.ts';
import { ABORTED_IN_MAINTENANCE, nextState, ProvisionState as S, WAIT_STATES } from '../../common/states.ts';
import { now } from '../../db/index.ts';
import { claimTask, finishTask, pendingTasks, requeueTask } from '../../db/tasks.ts';
import { BOOT_DEVICES, INDICATOR_COMPONENTS, INDICATOR_STATES, VMEDIA_DEVICE_TYPES, type BootDevice, type Heartbeat, type IndicatorComponent, type IndicatorState, type ManagementInterface, type VmediaDeviceType } from '../../drivers/interfaces.ts';
import { internalInfo, withInternalInfo } from '../../drivers/internal-info.ts';
import { LockLost, type NodeTask } from './context.ts';
import { FLOWS } from './flows.ts';
import { BACKFILL_ALLOCATION, backfillAllocation } from './allocations.ts';
import { SET_CONSOLE_MODE, setConsoleMode } from './console.ts';
import { applyInspection } from './inspection.ts';
import { inspectionResult } from '../../drivers/in-band/inspect.ts';
import { untilAborted, type Runtime } from './runtime.ts';
import { deployRequestSteps } from './deploy-templates.ts';
import { stepRunner, validateUserSteps, type RequestedSteps } from './steps.ts';
import { fail, transition } from './transition.ts';

type Args = Record<string, unknown>;

export interface TaskHandler {
  /** Heart-beats and inspection data may run a whole step: they get timeouts.working, not taskTimeout. */
  long?: boolean;
  run(ctx: NodeTask, args: Args, rt: Runtime): Promise<unknown>;
}


/** Runs a driver call of an operation in progress; a failure sends the node to its failure state and is rethrown. */
async function orFail<T>(ctx: NodeTask, rt: Runtime, operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (rt.stopSignal.aborted || err instanceof LockLost) throw err;
    const message = ctx.signal.aborted
      ? `${operation} timed out after ${rt.config.conductor.timeouts.working} s (conductor.timeouts.working)`
      : `${operation} failed: ${errorMessage(err)}`;
    await fail(ctx, message);
    throw new AnvilError(message, 500, 'NodeFailed');
  }
}

/** The steps the waiting operation's request names; a deploy's with its templates', read when the plan is made. */
function requestedSteps(ctx: NodeTask): RequestedSteps {
  const steps = ctx.node.provision_request?.steps;
  if (ctx.node.provision_state !== S.DEPLOY_WAIT) return steps;
  return () => deployRequestSteps(ctx, steps === undefined ? undefined : validateUserSteps(steps, 'deploy_steps'));
}

async function heartbeat(ctx: NodeTask, args: Args, rt: Runtime): Promise<null> {
  if (typeof args.callback_url !== 'string' || args.callback_url === '') throw new InvalidInput('A heartbeat needs a callback_url');
  const hb = args as unknown as Heartbeat;
  const token = internalInfo(ctx.node).agent_secret_token;
  // A heartbeat queued by an agent whose ramdisk was booted again since (a new token): that agent is gone.
  if (typeof args.token_fingerprint === 'string' && (token === undefined || fingerprint(token) !== args.token_fingerprint)) {
    throw new Conflict(`Heartbeat from a previous boot of the agent on node ${ctx.node.uuid} (its token is no longer the node's); ignored`);
  }
  await ctx.save(withInternalInfo(ctx.node, { agent_url: hb.callback_url, agent_version: hb.agent_version ?? internalInfo(ctx.node).agent_version, agent_last_heartbeat: now() }));
  const state = ctx.node.provision_state;
  // In maintenance a heartbeat aborts the operations maintenance forbids and is only recorded otherwise, as in Ironic.
  const aborted = ctx.node.maintenance && WAIT_STATES.has(state) ? ABORTED_IN_MAINTENANCE[state] : undefined;
  if (aborted) {
    ctx.eventType = FLOWS[nextState(state, 'resume')!].eventType;
    await fail(ctx, aborted);
    return null;
  }
  if (ctx.node.maintenance || !WAIT_STATES.has(state) || state === S.INSPECT_WAIT) return null;
  const flow = FLOWS[nextState(state, 'resume')!];
  ctx.eventType = flow.eventType;
  const outcome = await orFail(ctx, rt, flow.operation, () => untilAborted(
    state === S.RESCUE_WAIT ? finishRescue(ctx) : ctx.driver.deploy.heartbeat(ctx, hb, stepRunner(ctx, requestedSteps(ctx))),
    ctx.signal,
  ));
  if (outcome === 'wait') return null;
  await transition(ctx, 'resume', 'The agent reported the step done');
  const done = flow.complete(ctx);
  await transition(ctx, done.event, done.why, done.fields);
  return null;
}

/**
 * The rescue ramdisk's agent heart-beats in `rescue wait` (Ironic's _finalize_rescue): it gets the
 * password's hash, then the node leaves the rescuing network for its tenant networks.
 */
async function finishRescue(ctx: NodeTask): Promise<'done'> {
  const rescue = ctx.driver.rescue;
  if (!rescue.finishRescue) throw new UnsupportedOperation(`rescue interface "${rescue.name}" cannot rescue a node`);
  await rescue.finishRescue(ctx);
  await ctx.driver.network.attach?.(ctx, 'tenant');
  return 'done';
}

async function continueInspection(ctx: NodeTask, args: Args, rt: Runtime): Promise<null> {
  if (ctx.node.provision_state !== S.INSPECT_WAIT) {
    throw new Conflict(`Node ${ctx.node.uuid} is in state "${ctx.node.provision_state}", inspection data is accepted only in "${S.INSPECT_WAIT}"`);
  }
  ctx.eventType = 'inspection';
  const inspect = ctx.driver.inspect;
  await orFail(ctx, rt, 'Inspection', async () => {
    if (!inspect.continueInspection) throw new UnsupportedOperation(`inspect interface "${inspect.name}" does not take inspection data from a ramdisk`);
    const result = await untilAborted(inspect.continueInspection(ctx, (args.data as Args | undefined) ?? {}), ctx.signal);
    await applyInspection(ctx, result);
  });
  await transition(ctx, 'done', 'Inspection data received and applied', { inspection_finished_at: now() });
  return null;
}

/**
 * The data of a machine the API discovered (services/api/discovery.ts), on its new node in `enroll`:
 * applied as an inspection's (properties, inventory, ports' LLDP), marked auto_discovered in the
 * plugin data as Ironic does, then discovery.path: stay in `enroll`, or `manage` (verify the BMC
 * access the inspection data and rules gave it, into `manageable`).
 */
async function discovered(ctx: NodeTask, args: Args, rt: Runtime): Promise<null> {
  if (ctx.node.provision_state !== S.ENROLL) {
    throw new Conflict(`Node ${ctx.node.uuid} is in state "${ctx.node.provision_state}"; discovery data is applied only in "${S.ENROLL}"`);
  }
  ctx.eventType = 'inspection';
  const result = inspectionResult((args.data as Args | undefined) ?? {});
  try {
    await applyInspection(ctx, { ...result, plugin_data: { ...result.plugin_data, auto_discovered: true } });
  } catch (err) {
    if (rt.stopSignal.aborted || err instanceof LockLost) throw err;
    // `enroll` has no failure state: the node stays there, saying why (a rule's `fail`, a hook's refusal).
    const message = `Processing the discovered machine's data failed: ${errorMessage(err)}`;
    await ctx.saveAndNote({ last_error: message }, () => `${message} (the node stays in "${S.ENROLL}")`, 'error');
    throw new AnvilError(message, 500, 'NodeFailed');
  }
  await ctx.save({ inspection_finished_at: now() });
  if (rt.config.discovery.path === 'manage') await transition(ctx, 'manage', 'Discovered node: managing it, as discovery.path says');
  else await ctx.note(`Discovered node stays in "${S.ENROLL}" (discovery.path enroll)`);
  return null;
}

/** Servicing states an abort leaves (to service failed, or from it to active). */
const SERVICE_ABORTS: ReadonlySet<string> = new Set([S.SERVICE_WAIT, S.SERVICE_HOLD, S.SERVICE_FAILED]);

/**
 * Abort of servicing (Ironic's do_node_service_abort): the ramdisk, if servicing booted it, goes
 * and the instance boots again; an instance that kept running is left alone.
 */
async function abortService(ctx: NodeTask, from: string, tearDown: (ctx: NodeTask) => Promise<void>): Promise<null> {
  try {
    await tearDown(ctx);
    await ctx.note(`Aborted servicing in "${from}"`);
  } catch (err) {
    await ctx.note(`Abort in "${from}" was partial: ending the servicing ramdisk: ${errorMessage(err)}`, 'warning');
  }
  return null;
}

/** The API already moved the node to the failure state; ask the driver to stop, then power off (best effort). */
async function abort(ctx: NodeTask, args: Args): Promise<null> {
  const from = String(args.from_state ?? '');
  const tearDownService = ctx.driver.deploy.tearDownService?.bind(ctx.driver.deploy);
  if (SERVICE_ABORTS.has(from) && tearDownService) return abortService(ctx, from, tearDownService);
  const stop = from === S.INSPECT_WAIT ? ctx.driver.inspect.abort?.bind(ctx.driver.inspect)
    : from === S.RESCUE_WAIT ? ctx.driver.rescue.cleanUp?.bind(ctx.driver.rescue)
    : ctx.driver.deploy.abort?.bind(ctx.driver.deploy);
  const problems: string[] = [];
  try {
    await stop?.(ctx);
  } catch (err) {
    problems.push(`stopping the ${from === S.INSPECT_WAIT ? 'inspection' : from === S.RESCUE_WAIT ? 'rescue ramdisk' : 'agent'}: ${errorMessage(err)}`);
  }
  try {
    // The context's power interface records the new power_state (context.ts recordingPower).
    if (!ctx.node.disable_power_off) await ctx.driver.power.setPowerState(ctx, 'power off', ctx.config.conductor.powerStateChangeTimeout);
  } catch (err) {
    problems.push(`powering off: ${errorMessage(err)}`);
  }
  const after = ctx.node.disable_power_off ? 'left the node powered (disable_power_off)' : 'powered the node off';
  await ctx.note(problems.length ? `Abort in "${from}" was partial: ${problems.join('; ')}` : `Aborted the operation in "${from}" and ${after}`, problems.length ? 'warning' : 'info');
  return null;
}

function bootDeviceArgs(args: Args): { device: BootDevice; persistent: boolean } {
  if (typeof args.boot_device !== 'string' || !(BOOT_DEVICES as readonly string[]).includes(args.boot_device)) {
    throw new InvalidInput(`Invalid boot device "${String(args.boot_device)}": use one of ${BOOT_DEVICES.join(', ')}`);
  }
  return { device: args.boot_device as BootDevice, persistent: args.persistent === true };
}

function vmediaKind(value: unknown): VmediaDeviceType {
  if (typeof value !== 'string' || !(VMEDIA_DEVICE_TYPES as readonly string[]).includes(value)) {
    throw new InvalidInput(`Invalid virtual media device type "${String(value)}": use one of ${VMEDIA_DEVICE_TYPES.join(', ')}`);
  }
  return value as VmediaDeviceType;
}

/** The management interface's vmedia method, or Ironic's UnsupportedDriverExtension (a 400). */
function vmediaMethod<K extends 'getVirtualMedia' | 'attachVirtualMedia' | 'detachVirtualMedia'>(m: ManagementInterface, method: K): NonNullable<ManagementInterface[K]> {
  const fn = m[method];
  if (!fn) throw new InvalidInput(`The management interface "${m.name}" of this node does not support virtual media`, 'UnsupportedDriverExtension');
  return fn.bind(m) as NonNullable<ManagementInterface[K]>;
}

/** The management interface's indicator method, or Ironic's UnsupportedDriverExtension (a 400). */
function indicatorMethod<K extends 'getSupportedIndicators' | 'getIndicatorState' | 'setIndicatorState'>(m: ManagementInterface, method: K): NonNullable<ManagementInterface[K]> {
  const fn = m[method];
  if (!fn) throw new InvalidInput(`The management interface "${m.name}" of this node does not support indicators`, 'UnsupportedDriverExtension');
  return fn.bind(m) as NonNullable<ManagementInterface[K]>;
}

/** `name@component` as the API passes it: the component one Ironic knows. */
function indicatorArgs(args: Args): { component: IndicatorComponent; name: string } {
  if (typeof args.component !== 'string' || !(INDICATOR_COMPONENTS as readonly string[]).includes(args.component)) {
    throw new InvalidInput(`Invalid indicator component "${String(args.component)}": use one of ${INDICATOR_COMPONENTS.join(', ')}`);
  }
  return { component: args.component as IndicatorComponent, name: String(args.name) };
}

/** Handlers by task kind. */
export const TASK_HANDLERS: Readonly<Record<string, TaskHandler>> = {
  get_boot_device: { run: (ctx) => ctx.driver.management.getBootDevice(ctx) },
  get_supported_boot_devices: { run: (ctx) => ctx.driver.management.supportedBootDevices(ctx) },
  set_boot_device: {
    async run(ctx, args) {
      const { device, persistent } = bootDeviceArgs(args);
      await ctx.driver.management.setBootDevice(ctx, device, persistent);
      return null;
    },
  },
  set_boot_mode: {
    async run(ctx, args) {
      const m = ctx.driver.management;
      if (args.target !== 'uefi' && args.target !== 'bios') throw new InvalidInput(`Invalid boot mode "${String(args.target)}": use uefi or bios`);
      if (!m.setBootMode) throw new UnsupportedOperation(`management interface "${m.name}" cannot change the boot mode`);
      await m.setBootMode(ctx, args.target);
      return null;
    },
  },
  set_secure_boot: {
    async run(ctx, args) {
      const m = ctx.driver.management;
      if (typeof args.target !== 'boolean') throw new InvalidInput(`Invalid secure boot target "${String(args.target)}": use true or false`);
      if (!m.setSecureBoot) throw new UnsupportedOperation(`management interface "${m.name}" cannot change secure boot`);
      await m.setSecureBoot(ctx, args.target);
      return null;
    },
  },
  inject_nmi: {
    async run(ctx) {
      const m = ctx.driver.management;
      if (!m.injectNmi) throw new UnsupportedOperation(`management interface "${m.name}" cannot inject an NMI`);
      await m.injectNmi(ctx);
      return null;
    },
  },
  get_virtual_media: { run: (ctx) => vmediaMethod(ctx.driver.management, 'getVirtualMedia')(ctx) },
  attach_virtual_media: {
    async run(ctx, args) {
      if (typeof args.image_url !== 'string') throw new InvalidInput('Attaching virtual media needs an image_url');
      await vmediaMethod(ctx.driver.management, 'attachVirtualMedia')(ctx, vmediaKind(args.device_type), args.image_url);
      await ctx.note(`Virtual media ${String(args.device_type)} attached`);
      return null;
    },
  },
  detach_virtual_media: {
    async run(ctx, args) {
      const kinds = Array.isArray(args.device_types) ? args.device_types.map(vmediaKind) : undefined;
      await vmediaMethod(ctx.driver.management, 'detachVirtualMedia')(ctx, kinds);
      await ctx.note(`Virtual media detached: ${kinds ? kinds.join(', ') : 'all devices'}`);
      return null;
    },
  },
  get_supported_indicators: { run: (ctx) => indicatorMethod(ctx.driver.management, 'getSupportedIndicators')(ctx) },
  get_indicator_state: {
    async run(ctx, args) {
      const { component, name } = indicatorArgs(args);
      return indicatorMethod(ctx.driver.management, 'getIndicatorState')(ctx, component, name);
    },
  },
  set_indicator_state: {
    async run(ctx, args) {
      const { component, name } = indicatorArgs(args);
      if (typeof args.state !== 'string' || !(INDICATOR_STATES as readonly string[]).includes(args.state)) {
        throw new InvalidInput(`Invalid indicator state "${String(args.state)}": use one of ${INDICATOR_STATES.join(', ')}`);
      }
      await indicatorMethod(ctx.driver.management, 'setIndicatorState')(ctx, component, name, args.state as IndicatorState);
      return null;
    },
  },
  vendor_passthru: {
    async run(ctx, args) {
      const vendor = ctx.driver.vendor;
      const method = vendor.methods?.[String(args.method)];
      if (!method) throw new InvalidInput(`Unsupported method (${String(args.method)}) passed through to vendor extension ${vendor.name}`);
      const result = await method.run(ctx, (args.args ?? {}) as Args);
      return result === undefined ? null : result;
    },
  },
  [SET_CONSOLE_MODE]: setConsoleMode,
  [BACKFILL_ALLOCATION]: backfillAllocation,
  heartbeat: { long: true, run: heartbeat },
  continue_inspection: { long: true, run: continueInspection },
  discovered: { long: true, run: discovered },
  abort: { long: true, run: (ctx, args) => abort(ctx, args) },
};

/** Runs the node's pending tasks, oldest first, on the locked node. */
export async function runPendingTasks(rt: Runtime, ctx: NodeTask): Promise<void> {
  for (const pending of await pendingTasks(rt.db.knex, [ctx.node.id])) {
    const task = await claimTask(rt.db.knex, pending.id, rt.host);
    if (!task) continue;
    const handler = TASK_HANDLERS[task.kind];
    const seconds = handler?.long ? rt.config.conductor.timeouts.working : rt.config.conductor.taskTimeout;
    const deadline = AbortSignal.timeout(seconds * 1000);
    const outer = ctx.signal;
    ctx.signal = AbortSignal.any([outer, deadline]);
    ctx.eventType = 'provisioning';
    try {
      if (!handler) throw new InvalidInput(`Unknown node task "${task.kind}"`);
      const result = await untilAborted(handler.run(ctx, task.args, rt), ctx.signal);
      await finishTask(rt.db, task.id, { result: result ?? null });
    } catch (err) {
      if (rt.stopSignal.aborted || err instanceof LockLost) {
        await requeueTask(rt.db.knex, task.id, rt.host);
        throw err;
      }
      const message = deadline.aborted && !(err instanceof AnvilError) ? `${task.kind.replace(/_/g, ' ')} timed out after ${seconds} s` : errorMessage(err);
      const status = err instanceof AnvilError ? err.status : 500;
      const code = err instanceof AnvilError ? err.code : 'ConductorError';
      rt.logger.info({ node: ctx.node.uuid, task: task.kind }, `node task failed: ${message}`);
      await finishTask(rt.db, task.id, { error: message, result: { status, code } });
    } finally {
      ctx.signal = outer;
    }
  }
}

/** Fails every pending task of a node that can't run them (its driver does not load). */
export async function failPendingTasks(rt: Runtime, nodeId: number, why: string): Promise<void> {
  for (const pending of await pendingTasks(rt.db.knex, [nodeId])) {
    if (await claimTask(rt.db.knex, pending.id, rt.host)) await finishTask(rt.db, pending.id, { error: why, result: { status: 400, code: 'DriverNotFound' } });
  }
}
