// What a conductor does in each working provision state.
// A flow runs one step with the node locked and says which event follows; the engine
// (node-work.ts) applies it, and a thrown error sends the node to the state's failure state.
import { DriverError, errorMessage, UnsupportedOperation } from '../../common/errors.ts';
import { ProvisionState as S, type ProvisionEvent } from '../../common/states.ts';
import { now } from '../../db/index.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { NodeTask } from './context.ts';
import { applyInspection } from './inspection.ts';
import type { AgentSteps, NetworkPurpose } from '../../drivers/interfaces.ts';
import { stepProgressKeys, withoutInternalInfo } from '../../drivers/internal-info.ts';
import { ramdiskSteps, stepRunner, validateUserSteps } from './steps.ts';
import { checkDeployTemplates } from './deploy-templates.ts';
import { storageOf } from '../../drivers/storage/node-storage.ts';

export interface StepResult {
  event: ProvisionEvent;
  /** Why the node moves, for its history. */
  why: string;
  fields?: Partial<NodeRecord>;
}

export interface Flow {
  /** node_history event_type of what this flow writes. */
  eventType: string;
  /** Names the operation in a failure's last_error ("Deploy failed: ..."). */
  operation: string;
  run(ctx: NodeTask): Promise<StepResult>;
  /** The step that ends the operation once the driver (or the agent's heartbeat) says it is done. */
  complete(ctx: NodeTask): StepResult;
}

function withoutKeys(info: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const out = { ...info };
  for (const k of keys) delete out[k];
  return out;
}

async function validate(ctx: NodeTask, ...ifaces: ('power' | 'management' | 'boot' | 'deploy' | 'inspect' | 'network')[]): Promise<void> {
  for (const iface of ifaces) await ctx.driver[iface].validate(ctx.node, ctx.ports);
}

/** The storage interface's validate, then the deploy's, which both read the node's volumes (Ironic's do_node_deploy validates both). */
async function validateStorageAndDeploy(ctx: NodeTask): Promise<void> {
  const storage = await storageOf(ctx);
  await ctx.driver.storage.validate(ctx.node, ctx.ports, storage);
  await ctx.driver.deploy.validate(ctx.node, ctx.ports, storage);
}

/**
 * Refreshes the cached BIOS settings and firmware versions, as Ironic does on verification,
 * inspection, cleaning and servicing (node_cache_bios_settings, node_cache_firmware_components):
 * a BMC that cannot be read leaves a warning, not a failure.
 */
async function cacheFromBmc(ctx: NodeTask): Promise<void> {
  const { bios, firmware } = ctx.driver;
  const reads: [string, ((c: NodeTask) => Promise<void>) | undefined][] = [
    [`the BIOS settings (bios interface ${bios.name})`, bios.cacheSettings?.bind(bios)],
    [`the firmware versions (firmware interface ${firmware.name})`, firmware.cacheComponents?.bind(firmware)],
  ];
  for (const [what, read] of reads) {
    if (!read) continue;
    try {
      await read(ctx);
    } catch (err) {
      await ctx.note(`Caching ${what} failed: ${errorMessage(err)}`, 'warning');
    }
  }
}

/** Moves the node's switch ports (the network interface's attach; no-op interfaces have none). */
async function moveNetwork(ctx: NodeTask, purpose: NetworkPurpose): Promise<void> {
  await ctx.driver.network.attach?.(ctx, purpose);
}

/** Servicing without the ramdisk: the agent offers nothing, so only out-of-band steps plan. */
const NO_AGENT: AgentSteps = {
  offered: async () => [],
  start: async (_ctx, kind, step) => { throw new DriverError(`${kind} step ${step.interface}.${step.step} needs the ramdisk agent`); },
  status: async (_ctx, kind, step) => { throw new DriverError(`${kind} step ${step.interface}.${step.step} needs the ramdisk agent`); },
};

/** Manual cleaning (the clean verb, from manageable) goes back to manageable; automated cleaning ends in available. */
function isManualClean(node: NodeRecord): boolean {
  return node.target_provision_state === S.MANAGEABLE;
}

const verifying: Flow = {
  eventType: 'verification',
  operation: 'Verification',
  async run(ctx) {
    await validate(ctx, 'power', 'management');
    const power = await ctx.driver.power.getPowerState(ctx);
    await cacheFromBmc(ctx);
    return { ...this.complete(ctx), fields: { power_state: power ?? ctx.node.power_state } };
  },
  complete: () => ({ event: 'done', why: 'Power and management access verified' }),
};

const inspecting: Flow = {
  eventType: 'inspection',
  operation: 'Inspection',
  async run(ctx) {
    await ctx.save({ inspection_started_at: now(), inspection_finished_at: null });
    await validate(ctx, 'inspect', 'network');
    await moveNetwork(ctx, 'inspection');
    const outcome = await ctx.driver.inspect.inspect(ctx);
    if (outcome.outcome === 'wait') return { event: 'wait', why: 'Inspection started, waiting for the ramdisk to report' };
    await applyInspection(ctx, outcome.result);
    await cacheFromBmc(ctx);
    return this.complete(ctx);
  },
  complete: () => ({ event: 'done', why: 'Inspection finished', fields: { inspection_finished_at: now() } }),
};

const cleaning: Flow = {
  eventType: 'cleaning',
  operation: 'Cleaning',
  async run(ctx) {
    const manual = isManualClean(ctx.node);
    // A node waiting to be deployed waits on the cleaning network, cleaned or not.
    await validate(ctx, 'network');
    await moveNetwork(ctx, 'cleaning');
    // Ironic's automated_clean: a node with it false passes straight through to available.
    if (!manual && ctx.node.automated_clean === false) return { ...this.complete(ctx), why: 'Automated cleaning is disabled for this node, skipped' };
    await validate(ctx, 'power', 'deploy');
    await cacheFromBmc(ctx);
    const request = ctx.node.provision_request;
    const steps = manual ? validateUserSteps(request?.steps ?? [], 'clean_steps') : undefined;
    const outcome = await ctx.driver.deploy.clean(ctx, { steps, disableRamdisk: request?.disable_ramdisk });
    if (outcome === 'wait') return { event: 'wait', why: 'Cleaning started, waiting for the agent' };
    return this.complete(ctx);
  },
  complete(ctx) {
    const manual = isManualClean(ctx.node);
    return {
      event: manual ? 'manage' : 'done',
      why: manual ? 'Manual cleaning finished' : 'Automated cleaning finished',
      fields: { clean_step: null },
    };
  },
};

const deploying: Flow = {
  eventType: 'deploy',
  operation: 'Deploy',
  async run(ctx) {
    await validate(ctx, 'power', 'boot', 'network');
    await validateStorageAndDeploy(ctx);
    await moveNetwork(ctx, 'provisioning');
    const request = ctx.node.provision_request;
    // Kept in instance_info, as Ironic's do_node_deploy does (shown masked); a rebuild without one keeps the instance's.
    if (request?.configdrive !== undefined) await ctx.save({ instance_info: { ...ctx.node.instance_info, configdrive: request.configdrive } });
    const steps = request?.steps === undefined ? undefined : validateUserSteps(request.steps, 'deploy_steps');
    await checkDeployTemplates(ctx, steps);
    const outcome = await ctx.driver.deploy.deploy(ctx, { steps, configdrive: request?.configdrive });
    if (outcome === 'wait') return { event: 'wait', why: 'Deploy started, waiting for the agent to call back' };
    // A deploy that ran no steps (fake, ramdisk-less) still ends on the tenant networks.
    if (ctx.driver.network.currentPurpose?.(ctx) !== 'tenant') await moveNetwork(ctx, 'tenant');
    return this.complete(ctx);
  },
  complete: () => ({ event: 'done', why: 'Deploy finished', fields: { deploy_step: null } }),
};

const deleting: Flow = {
  eventType: 'deploy',
  operation: 'Tear down',
  async run(ctx) {
    await ctx.driver.deploy.tearDown(ctx);
    // Off the tenant networks as soon as the instance is gone, before cleaning starts.
    await moveNetwork(ctx, 'cleaning');
    return this.complete(ctx);
  },
  complete: () => ({
    event: 'clean',
    why: 'Instance torn down, cleaning follows',
    fields: { instance_info: {}, instance_uuid: null, instance_name: null },
  }),
};

const adopting: Flow = {
  eventType: 'provisioning',
  operation: 'Adoption',
  async run(ctx) {
    await validate(ctx, 'power', 'management', 'boot', 'deploy');
    return this.complete(ctx);
  },
  complete: () => ({ event: 'done', why: 'Node adopted' }),
};

const rescuing: Flow = {
  eventType: 'rescue',
  operation: 'Rescue',
  async run(ctx) {
    const rescue = ctx.driver.rescue;
    if (!rescue.rescue) throw new UnsupportedOperation(`rescue interface "${rescue.name}" cannot rescue a node`);
    await validate(ctx, 'power', 'boot', 'network');
    await rescue.validate(ctx.node, ctx.ports);
    // Kept in instance_info while the node is rescued, as Ironic's do_node_rescue keeps hashed_rescue_password (shown masked).
    await ctx.save({ instance_info: { ...ctx.node.instance_info, hashed_rescue_password: ctx.node.provision_request?.rescue_password_hash } });
    const outcome = await rescue.rescue(ctx);
    if (outcome === 'wait') return { event: 'wait', why: 'Rescue started, waiting for the rescue ramdisk' };
    return this.complete(ctx);
  },
  complete: () => ({ event: 'done', why: 'Node rescued' }),
};

const unrescuing: Flow = {
  eventType: 'rescue',
  operation: 'Unrescue',
  async run(ctx) {
    const rescue = ctx.driver.rescue;
    if (!rescue.unrescue) throw new UnsupportedOperation(`rescue interface "${rescue.name}" cannot unrescue a node`);
    await rescue.unrescue(ctx);
    return this.complete(ctx);
  },
  complete: (ctx) => ({ event: 'done', why: 'Node unrescued', fields: { instance_info: withoutKeys(ctx.node.instance_info, 'hashed_rescue_password') } }),
};

const servicing: Flow = {
  eventType: 'service',
  operation: 'Servicing',
  // Ironic's do_node_service: the service_steps run in the order given on the active node. Only
  // out-of-band ones (bios, firmware, raid): they run here, the instance keeps running. With agent
  // steps the deploy interface boots the ramdisk (service wait), its heart-beats run them all, and
  // the instance boots again. The workload's disk is not touched either way.
  async run(ctx) {
    await validate(ctx, 'power', 'management');
    const request = ctx.node.provision_request;
    const steps = validateUserSteps(request?.steps ?? [], 'service_steps');
    if (steps.length === 0) throw new DriverError('Servicing needs at least one service step');
    await cacheFromBmc(ctx);
    await ctx.save({ ...withoutInternalInfo(ctx.node, Object.values(stepProgressKeys('service'))), service_step: {} });
    const inRamdisk = ramdiskSteps(ctx.driver, 'service', steps);
    if (inRamdisk.length) {
      const names = inRamdisk.map((s) => `${s.interface}.${s.step}`).join(', ');
      const deploy = ctx.driver.deploy;
      if (!deploy.service) throw new DriverError(`Service step ${names} is not supported by node ${ctx.node.uuid}: it runs in the agent ramdisk, which its ${deploy.name} deploy interface does not boot for servicing`);
      if (request?.disable_ramdisk) throw new DriverError(`Service step ${names} runs in the agent ramdisk, which disable_ramdisk forbids`);
      await validate(ctx, 'boot', 'deploy');
      if ((await deploy.service(ctx)) === 'wait') return { event: 'wait', why: `Servicing started: the agent ramdisk boots for ${names}` };
    } else {
      await stepRunner(ctx, steps).run('service', NO_AGENT);
    }
    return this.complete(ctx);
  },
  complete: (ctx) => ({ event: 'done', why: 'Servicing finished', fields: { service_step: null, ...withoutInternalInfo(ctx.node, Object.values(stepProgressKeys('service'))) } }),
};

/** Flow of each working state (common/states.ts WORKING_STATES). */
export const FLOWS: Readonly<Record<string, Flow>> = {
  [S.VERIFYING]: verifying,
  [S.INSPECTING]: inspecting,
  [S.CLEANING]: cleaning,
  [S.DEPLOYING]: deploying,
  [S.DELETING]: deleting,
  [S.ADOPTING]: adopting,
  [S.RESCUING]: rescuing,
  [S.UNRESCUING]: unrescuing,
  [S.SERVICING]: servicing,
};
