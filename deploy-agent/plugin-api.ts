// What an agent plugin is (ironic-python-agent's hardware managers, as ES modules): a module in the
// agent's plugin folder whose default export is an AgentPlugin. Its steps are offered by
// get_deploy_steps / get_clean_steps / get_service_steps under the plugin's name, beside the
// agent's own, and run by execute_<kind>_step. Only types here: a plugin imports nothing at run time.
import type { Logger } from '../common/logger.ts';
import type { RootDisk } from './hardware.ts';

type Json = Record<string, unknown>;

export type AgentStepKind = 'deploy' | 'clean' | 'service';

/** What a step's function is handed. */
export interface StepContext {
  /** The node as the conductor sent it with the step (uuid, instance_info, properties), over the lookup's copy. */
  readonly node: Json | null;
  readonly logger: Logger;
  /** The disk the node's root device hints (or the agent's default) pick. */
  rootDisk(): Promise<RootDisk>;
  /**
   * Runs one of the agent's commands, e.g. `standby.prepare_image` with `{ image_info }` to
   * download, verify and write an image as write_image does.
   */
  run(command: string, params: Json): Promise<unknown>;
}

export interface PluginStep {
  kind: AgentStepKind;
  step: string;
  /** The Ironic interface the step belongs to (default `deploy`). */
  interface?: string;
  /** Order among automated steps, highest first; 0 (the default): only when a request names it. */
  priority?: number;
  /** The arguments it takes (Ironic's argsinfo). */
  argsinfo?: Record<string, { description: string; required?: boolean }> | null;
  reboot_requested?: boolean;
  abortable?: boolean;
  /** Does the step; what it returns is the step's result, what it throws fails the step with its message. */
  run(args: Json, ctx: StepContext): Promise<unknown>;
}

export interface AgentPlugin {
  /** The hardware manager name the steps are listed under (e.g. CoreOSInstallHardwareManager). */
  name: string;
  /** Reported in hardware_manager_version. */
  version: string;
  steps: PluginStep[];
}
