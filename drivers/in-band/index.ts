// The in-band family: interfaces that work through the deploy agent running on the machine (the
// `direct`, `custom-agent` and `ramdisk` deploy interfaces and the `agent` inspect interface). It adds implementations only;
// hardware types list them among their choices.
import type { DriverFamily } from '../interfaces.ts';
import { customAgentDeploy, directDeploy } from './direct.ts';
import { ramdiskDeploy } from './ramdisk.ts';
import { stopImageServer } from './image-source.ts';
import { agentInspect } from './inspect.ts';

export const inBandFamily: DriverFamily = {
  implementations: { deploy: [directDeploy, customAgentDeploy, ramdiskDeploy], inspect: [agentInspect] },
  hardwareTypes: [],
  close: stopImageServer,
};
