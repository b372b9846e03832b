// deploy and clean extensions: list steps, execute one (async), results shaped as IPA's.
import { HARDWARE_MANAGER, HARDWARE_MANAGER_VERSION, type Extension } from '../commands.ts';
import { CLEAN_STEPS, DEPLOY_STEPS, describeSteps, runStep } from '../steps.ts';

type Json = Record<string, unknown>;

export const deploy: Extension = {
  get_deploy_steps: {
    async: false,
    async run() {
      return { deploy_steps: { [HARDWARE_MANAGER]: describeSteps(DEPLOY_STEPS) }, hardware_manager_version: HARDWARE_MANAGER_VERSION };
    },
  },
  execute_deploy_step: {
    async: true,
    async run(params, rt) {
      const step = (params.step ?? {}) as Json;
      return { deploy_result: await runStep(DEPLOY_STEPS, 'deploy', params, rt), deploy_step: step };
    },
  },
};

export const clean: Extension = {
  get_clean_steps: {
    async: false,
    async run() {
      return { clean_steps: { [HARDWARE_MANAGER]: describeSteps(CLEAN_STEPS) }, hardware_manager_version: HARDWARE_MANAGER_VERSION };
    },
  },
  execute_clean_step: {
    async: true,
    async run(params, rt) {
      const step = (params.step ?? {}) as Json;
      return { clean_result: await runStep(CLEAN_STEPS, 'clean', params, rt), clean_step: step };
    },
  },
};
