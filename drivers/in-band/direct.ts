// The `direct` deploy interface: the node boots the agent ramdisk, the agent downloads and
// writes the image (and config drive), the conductor sets the boot device and powers the node
// on. Cleaning runs the agent's clean steps. Its deploy steps and their priorities are Ironic's
// (agent_base.py, agent.py); the conductor's step engine runs them with the agent's.
// Servicing with agent steps boots the ramdisk too, and boots the instance again when they are done.
// `custom-agent` (Ironic's CustomAgentDeploy, OpenShift's and Metal3's custom deploy) is the same
// without write_image, and with a prepare_instance_boot that installs no boot loader: the agent
// runs exactly the deploy steps the request names (install_coreos...), then the node reboots into
// what they wrote.
import { DriverError, InvalidInput, MissingParameter } from '../../common/errors.ts';
import { configDriveForDeploy } from '../../images/configdrive.ts';
import { nodeNetworkData } from '../network-data.ts';
import { fileNameOf } from '../../images/download.ts';
import type { DeployInterface, Outcome, StepDefinition, StepKind, StepRunner, TaskContext } from '../interfaces.ts';
import { now } from '../../db/index.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import { AgentClient, commandErrorText } from './client.ts';
import { agentPeer, imageUrlForAgent, instanceChecksum } from './image-source.ts';
import { agentForPhase, bootInstanceAgain, bootRamdisk, powerOffAgent, withoutAgentBoot } from './ramdisk-boot.ts';
import { fastTrackEnabled } from './fast-track.ts';
import { powerOffUnlessDisabled, powerOnOrReboot } from '../power-flows.ts';
import { deployBootVolume, tearDownInstance } from './boot-from-volume.ts';
import { clearedProgress, inBandAgentSteps } from './steps.ts';
import { internalInfo, withInternalInfo, withoutInternalInfo } from '../internal-info.ts';

type Json = Record<string, unknown>;

function validateInstanceInfo(node: NodeRecord): void {
  const ii = node.instance_info;
  const source = ii.image_source;
  if (typeof source !== 'string' || !source) throw new MissingParameter(`Node ${node.uuid} has no instance_info.image_source`);
  if (!/^(https?|file):\/\//i.test(source)) throw new InvalidInput(`instance_info.image_source must be an http(s):// or file:// URL, got "${source}"`);
  const checksum = instanceChecksum(ii);
  if (!checksum && !source.startsWith('file://')) {
    throw new MissingParameter(`Node ${node.uuid} needs instance_info.image_checksum or image_os_hash_algo and image_os_hash_value for ${source}`);
  }
  const format = ii.image_disk_format;
  if (format !== undefined && format !== null && !['raw', 'qcow2'].includes(String(format))) throw new InvalidInput(`instance_info.image_disk_format ${String(format)} is not supported: use raw or qcow2`);
  if (ii.image_type === 'partition') throw new InvalidInput('Partition images are not supported: use a whole-disk image');
}

/** image_info as Ironic's write_image sends it to the agent. */
async function imageInfo(ctx: TaskContext): Promise<Json> {
  const ii = ctx.node.instance_info;
  const source = String(ii.image_source);
  const checksum = instanceChecksum(ii);
  const url = await imageUrlForAgent(ctx.config, source, checksum, ctx.node.uuid, await agentPeer(ctx.node));
  const sums: Json = checksum === null ? {} : 'value' in checksum
    ? { os_hash_algo: checksum.algo, os_hash_value: checksum.value, ...(checksum.algo === 'md5' ? { checksum: checksum.value } : {}) }
    : { checksum: checksum.url, ...(checksum.algo ? { os_hash_algo: checksum.algo, os_hash_value: checksum.url } : {}) };
  // A file:// image was verified when cached; the agent checks the served copy again.
  return { id: fileNameOf(source), urls: [url], disk_format: ii.image_disk_format ?? null, container_format: 'bare', stream_raw_images: true, node_uuid: ctx.node.uuid, ...sums };
}

/** Ironic's prepare_instance_boot: the boot loader on a UEFI node, then the instance's boot from disk. */
async function prepareInstanceBoot(ctx: TaskContext): Promise<void> {
  const client = AgentClient.forTask(ctx);
  const uuids = await client.execute('standby.get_partition_uuids', {}, { wait: true });
  if (uuids.command_status !== 'SUCCEEDED') throw new DriverError(`Reading the partitions of the written image failed: ${commandErrorText(uuids)}`);
  const found = (uuids.command_result ?? {}) as Json;
  const esp = found['efi system partition uuid'];
  const mode = ctx.node.boot_mode ?? ((ctx.node.instance_info.capabilities as Json | undefined)?.boot_mode as string | undefined) ?? null;
  if (mode === 'uefi' && esp) {
    const res = await client.execute('image.install_bootloader', { root_uuid: found['root uuid'], efi_system_part_uuid: esp, prep_boot_part_uuid: found['PReP Boot partition uuid'] ?? null, target_boot_mode: 'uefi' }, { wait: true });
    if (res.command_status !== 'SUCCEEDED') throw new DriverError(`Installing the boot loader failed: ${commandErrorText(res)}`);
  }
  await ctx.driver.boot.prepareInstance(ctx);
  await ctx.driver.management.setBootDevice(ctx, 'disk', true);
}

/** The steps that end every agent deploy (AgentOobStepsMixin): the ramdisk goes, the instance boots. */
const FINAL_STEPS: StepDefinition[] = [
  { kind: 'deploy', step: 'tear_down_agent', priority: 40, requiresRamdisk: true, abortable: false, run: powerOffAgent },
  { kind: 'deploy', step: 'boot_instance', priority: 20, requiresRamdisk: false, abortable: false, run: powerOnOrReboot },
];

/** The direct deploy's steps (Ironic's @deploy_step of AgentDeploy and AgentDeployMixin). */
const DEPLOY_STEPS: StepDefinition[] = [
  {
    kind: 'deploy', step: 'write_image', priority: 80, requiresRamdisk: true, abortable: false,
    agentArgs: async (ctx) => ({ image_info: await imageInfo(ctx), configdrive: ctx.node.instance_info.configdrive ?? null }),
  },
  { kind: 'deploy', step: 'prepare_instance_boot', priority: 60, requiresRamdisk: true, abortable: false, run: prepareInstanceBoot },
  ...FINAL_STEPS,
];

async function finishCleaning(ctx: TaskContext): Promise<void> {
  if (fastTrackEnabled(ctx)) {
    // Fast track: the agent stays up, powered on, for the deploy that may follow.
    await ctx.save(withoutInternalInfo(ctx.node, clearedProgress('clean')));
    await ctx.note('Cleaning finished; fast track leaves the agent running for the next phase');
    return;
  }
  await powerOffUnlessDisabled(ctx);
  await ctx.driver.boot.cleanUpRamdisk(ctx);
  // A node that may not be powered off is rebooted out of the ramdisk (tear_down_inband_cleaning).
  if (ctx.node.disable_power_off) await ctx.driver.power.reboot(ctx, false);
  await ctx.save(withoutAgentBoot(ctx, clearedProgress('clean')));
}

/**
 * Ironic's tear_down_inband_service: the ramdisk goes and the instance boots from its disk again.
 * Nothing to do when servicing never booted the ramdisk (out-of-band steps only).
 */
async function tearDownService(ctx: TaskContext): Promise<void> {
  if (!internalInfo(ctx.node).service_ramdisk) return;
  await bootInstanceAgain(ctx);
  await ctx.save(withoutAgentBoot(ctx, [...clearedProgress('service'), 'service_ramdisk']));
  await ctx.note('Servicing ramdisk torn down; the instance boots from its disk again');
}

async function heartbeatSteps(ctx: TaskContext, kind: StepKind, steps: StepRunner): Promise<Outcome> {
  const outcome = await steps.run(kind, inBandAgentSteps);
  if (outcome === 'done') {
    if (kind === 'clean') await finishCleaning(ctx);
    else if (kind === 'service') await tearDownService(ctx);
    else await ctx.save(withoutAgentBoot(ctx, clearedProgress('deploy')));
  }
  return outcome;
}

const WAIT_KINDS: Readonly<Record<string, StepKind>> = { 'wait call-back': 'deploy', 'clean wait': 'clean', 'service wait': 'service' };

/** A deploy through the agent ramdisk with these steps; `writesImage`: the image in instance_info must be valid (direct). */
function agentDeploy(name: string, steps: StepDefinition[], writesImage: boolean): DeployInterface {
  return {
    name,
    properties: {
      deploy_kernel: 'URL or path of the agent ramdisk kernel (boot interface). Optional here.',
      deploy_ramdisk: 'URL or path of the agent ramdisk initrd (boot interface). Optional here.',
    },
    steps,
    validate(node, _ports, storage) {
      // Ironic's AgentDeploy: nothing to check of an image a node that boots a volume never writes.
      if (!writesImage || storage?.writesImage === false) return;
      if (['deploying', 'wait call-back', 'available', 'active'].includes(node.provision_state) || node.instance_info.image_source !== undefined) validateInstanceInfo(node);
    },

    async deploy(ctx, args) {
      const fromVolume = await deployBootVolume(ctx, args);
      if (fromVolume) return fromVolume;
      if (writesImage) validateInstanceInfo(ctx.node);
      const configdrive = await configDriveForDeploy(args.configdrive ?? ctx.node.instance_info.configdrive, ctx.node, await nodeNetworkData(ctx));
      const ii = { ...ctx.node.instance_info };
      if (configdrive) ii.configdrive = configdrive;
      else delete ii.configdrive;
      await ctx.save({ instance_info: ii });
      const fast = await agentForPhase(ctx, 'deploy', clearedProgress('deploy'));
      await ctx.save({ deploy_step: { interface: 'deploy', step: 'deploy', priority: 100, args: {} } });
      await ctx.note(fast ? 'Fast track: the running agent deploys, with no reboot' : 'Booting the deploy ramdisk; waiting for the agent');
      return 'wait';
    },

    async tearDown(ctx) {
      await tearDownInstance(ctx);
      await ctx.save(withoutAgentBoot(ctx, clearedProgress('deploy')));
    },

    async clean(ctx, args) {
      const fast = await agentForPhase(ctx, 'clean', clearedProgress('clean'));
      await ctx.save({ clean_step: {} });
      const kind = args.steps ? 'manual' : 'automated';
      await ctx.note(fast ? `Fast track: the running agent does the ${kind} cleaning, with no reboot` : `Booting the agent ramdisk for ${kind} cleaning`);
      return 'wait';
    },

    async heartbeat(ctx, _heartbeat, steps) {
      const kind = WAIT_KINDS[ctx.node.provision_state];
      if (!kind) return 'wait';
      // A live agent keeps the callback timeout away (Ironic's touch_provisioning on heart-beats).
      await ctx.save({ provision_updated_at: now() });
      try {
        return await heartbeatSteps(ctx, kind, steps);
      } catch (err) {
        // Ironic powers a node off when its deploy fails; a failed clean or service is left in the ramdisk for an operator.
        if (kind === 'deploy') await powerOffUnlessDisabled(ctx).catch(() => undefined);
        throw err;
      }
    },

    async service(ctx) {
      // Recorded first: a failure from here on leaves a node whose abort must boot the instance again.
      await ctx.save({ ...withInternalInfo(ctx.node, { service_ramdisk: true }), service_step: {} });
      await bootRamdisk(ctx, 'service', clearedProgress('service'));
      await ctx.note('Booting the agent ramdisk for servicing');
      return 'wait';
    },

    tearDownService,

    async abort(ctx) {
      await powerOffUnlessDisabled(ctx);
      await ctx.driver.boot.cleanUpRamdisk(ctx);
      await ctx.save(withoutAgentBoot(ctx, [...clearedProgress('deploy'), ...clearedProgress('clean')]));
    },
  };
}

/**
 * custom-agent's own steps (Ironic's CustomAgentDeploy): the request's agent steps, then
 * prepare_instance_boot, which only has the boot interface prepare the instance's boot (virtual
 * media ejected, netboot records withdrawn, the disk set as boot device; no boot loader is
 * installed), then the final steps.
 */
const CUSTOM_AGENT_STEPS: StepDefinition[] = [
  { kind: 'deploy', step: 'prepare_instance_boot', priority: 60, requiresRamdisk: false, abortable: false, run: (ctx) => ctx.driver.boot.prepareInstance(ctx) },
  ...FINAL_STEPS,
];

export const directDeploy = agentDeploy('direct', DEPLOY_STEPS, true);
export const customAgentDeploy = agentDeploy('custom-agent', CUSTOM_AGENT_STEPS, false);
