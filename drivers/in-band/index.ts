// The in-band family: interfaces that work through the deploy agent running on the machine (the
// `direct`, `custom-agent` and `ramdisk` deploy interfaces, the `agent` inspect and rescue interfaces). It adds implementations only;
// hardware types list them among their choices.
import type { DriverFamily } from '../interfaces.ts';
import { customAgentDeploy, directDeploy } from './direct.ts';
import { ramdiskDeploy } from './ramdisk.ts';
import { stopImageServer } from './image-source.ts';
import { agentInspect } from './inspect.ts';
import { agentRescue } from './rescue.ts';

export const inBandFamily: DriverFamily = {
  implementations: { deploy: [directDeploy, customAgentDeploy, ramdiskDeploy], inspect: [agentInspect], rescue: [agentRescue] },
  hardwareTypes: [],
  close: stopImageServer,
};
