// Tunables of the agent drivers from the `agent` section of the configuration; a missing or
// invalid value falls back to Ironic's default.
import type { AnvilConfig } from '../../common/config.ts';

export interface AgentTuning {
  /** Seconds to wait for the agent's own power off before a hard power off (Ironic: 6 × 5 s). */
  powerOffWait: number;
  /** Seconds between power-state reads while waiting. */
  powerOffPollInterval: number;
  /** Seconds a command call to the agent may take (Ironic [agent]command_timeout 60). */
  commandTimeout: number;
  /** Priority of IPA's erase_devices in automated cleaning (0: off; full erase is an option). */
  eraseDevicesPriority: number;
  /** Priority of erase_devices_metadata in automated cleaning (Ironic default 99). */
  eraseDevicesMetadataPriority: number;
  /** Seconds since the agent's last heart-beat within which fast track reuses it (Ironic fast_track_timeout 300). */
  fastTrackTimeout: number;
}

export const AGENT_DEFAULTS: AgentTuning = {
  powerOffWait: 30,
  powerOffPollInterval: 5,
  commandTimeout: 60,
  eraseDevicesPriority: 0,
  eraseDevicesMetadataPriority: 99,
  fastTrackTimeout: 300,
};

export function agentTuning(config: AnvilConfig): AgentTuning {
  const section = (config.agent ?? {}) as Partial<AgentTuning>;
  const out = { ...AGENT_DEFAULTS };
  for (const key of Object.keys(AGENT_DEFAULTS) as (keyof AgentTuning)[]) {
    const v = section[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[key] = v;
  }
  return out;
}
