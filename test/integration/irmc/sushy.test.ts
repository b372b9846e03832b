// A client others wrote against the iRMC flavours: Debian's python3-sushy (Ironic's Redfish library)
// finds Systems/0 behind each simulated iRMC, logs in with a session, powers it on and off (with
// the reset types iRMC offers in each power state) and sets a persistent PXE boot override,
// through the If-Match with iRMC's bare ETag.
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { startRedfishSimulator, type Flavor } from '../../../simulators/redfish-bmc/index.ts';

const SCRIPT = path.join(import.meta.dirname, '../redfish/sushy_client.py');

describe('python3-sushy against the iRMC simulator flavours', () => {
  it.each<Flavor>(['irmc', 'irmc-s4'])('drives Systems/0 of the %s flavour with a session', async (flavor) => {
    const sim = await startRedfishSimulator({ systems: 1, perPort: true, flavor, auth: { username: 'admin', password: 'password' }, powerDelayMs: 20 });
    try {
      const result = await execa('/usr/bin/python3', [SCRIPT, sim.url, 'admin', 'password', '-'], { reject: false, timeout: 60_000 });
      expect(result.exitCode, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as { systems: Record<string, unknown>[]; session_auth: boolean };
      expect(out.session_auth).toBe(true);
      expect(out.systems).toHaveLength(1);
      expect(out.systems[0]).toMatchObject({
        path: '/redfish/v1/Systems/0', identity: '0', manufacturer: 'FUJITSU', uuid: sim.machines[0].uuid,
        power_before: 'Off', allowed_resets: ['On'], power_after_on: 'On', boot_target: 'Pxe', boot_enabled: 'Continuous', power_after_off: 'Off',
      });
      expect(out.systems[0].allowed_boot).toEqual(expect.arrayContaining(['Pxe', 'Cd', 'Hdd', 'BiosSetup']));
      expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'pxe', persistent: true });
    } finally {
      await sim.close();
    }
  });
});
