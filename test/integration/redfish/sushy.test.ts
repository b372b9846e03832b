// Debian's python3-sushy (Ironic's Redfish library) against the simulator: it logs in with a
// session, reads every system, powers it on and off and sets a persistent PXE boot override.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { startRedfishSimulator, type Flavor } from '../../../simulators/redfish-bmc/index.ts';
import { mockup } from './mockups.ts';

const SCRIPT = path.join(import.meta.dirname, 'sushy_client.py');

async function runSushy(url: string, ca: string | null) {
  // requests prefers REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE over the session's CA: keep them out.
  const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env;
  const result = await execa('/usr/bin/python3', [SCRIPT, url, 'admin', 'password', ca ?? '-'], { env, extendEnv: false, reject: false, timeout: 60_000 });
  if (result.exitCode !== 0) throw new Error(`sushy failed (${result.exitCode}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as { systems: Record<string, unknown>[]; session_auth: boolean };
}

describe('python3-sushy against the Redfish simulator', () => {
  it.each<Flavor>(['generic', 'idrac', 'ilo'])('drives every system of the %s flavour over HTTPS with a session', async (flavor) => {
    const sim = await startRedfishSimulator({ systems: 2, flavor, tls: true, auth: { username: 'admin', password: 'password' }, powerDelayMs: 20 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-sushy-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), sim.certificate!);
      const out = await runSushy(sim.url, path.join(dir, 'ca.pem'));
      expect(out.session_auth).toBe(true);
      expect(out.systems.map((s) => s.identity)).toEqual(sim.systemIds);
      for (const [i, s] of out.systems.entries()) {
        expect(s).toMatchObject({ uuid: sim.machines[i].uuid, power_before: 'Off', power_after_on: 'On', boot_target: 'Pxe', boot_enabled: 'Continuous', power_after_off: 'Off' });
        expect(s.allowed_resets).toEqual(expect.arrayContaining(['On', 'ForceOff']));
        expect(sim.machines[i].getBootOverride()).toMatchObject({ device: 'pxe', persistent: true });
      }
      if (flavor === 'ilo') expect(out.systems[0].allowed_resets).not.toContain('PowerCycle');
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a vendor mockup tree served by the simulator', async () => {
    const sim = await startRedfishSimulator({ mockupDir: mockup('hpe-ilo5-dl325-gen10plus'), auth: { username: 'admin', password: 'password' } });
    try {
      const out = await runSushy(sim.url, null);
      expect(out.systems).toHaveLength(1);
      expect(out.systems[0]).toMatchObject({ identity: '1', manufacturer: 'HPE', power_before: 'On', power_after_on: 'On', boot_target: 'Pxe', power_after_off: 'Off' });
    } finally {
      await sim.close();
    }
  });
});
