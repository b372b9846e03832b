// The in-band family: interfaces that work through the deploy agent running on the machine (the
// `direct` deploy interface and the `agent` inspect interface). It adds implementations only;
// hardware types list them among their choices.
import type { DriverFamily } from '../interfaces.ts';
import { directDeploy } from './direct.ts';
import { stopImageServer } from './image-source.ts';
import { agentInspect } from './inspect.ts';

export const inBandFamily: DriverFamily = {
  implementations: { deploy: [directDeploy], inspect: [agentInspect] },
  hardwareTypes: [],
  close: stopImageServer,
};
