// The BMO replay's stand-in for encoding/json: it must refuse what gophercloud's structs refuse,
// or the replay would pass answers BMO cannot read.
import { describe, expect, it } from 'vitest';
import { BIOS_SETTING, goDecode, NODE } from '../../integration/bmo/gophercloud.ts';
import { accessDetails } from '../../integration/bmo/access.ts';
import { enrollBody } from '../../integration/bmo/register.ts';

describe('goDecode', () => {
  it('takes nulls, unknown fields and RFC 3339 times, as Go does', () => {
    expect(() => goDecode(NODE, { uuid: 'u', last_error: null, created_at: '2026-12-02T01:00:00.123456+00:00', updated_at: null, anvil_extra: 1 }, 'Node')).not.toThrow();
  });
  it('refuses a number for a string, a string for a bool, a time with a space, a fraction for an int', () => {
    expect(() => goDecode(BIOS_SETTING, { name: 'X', value: 3 }, 'BIOSSetting')).toThrow(/BIOSSetting.value: want a string/);
    expect(() => goDecode(NODE, { maintenance: 'false' }, 'Node')).toThrow(/Node.maintenance: want a boolean/);
    expect(() => goDecode(NODE, { created_at: '2026-12-02 01:00:00' }, 'Node')).toThrow(/Node.created_at: want an RFC 3339 time/);
    expect(() => goDecode(BIOS_SETTING, { lower_bound: 1.5 }, 'BIOSSetting')).toThrow(/lower_bound: want an integer/);
    expect(() => goDecode(NODE, { traits: 'a' }, 'Node')).toThrow(/Node.traits: want a JSON array/);
  });
});

describe("BMO's enrolment body", () => {
  it('names what the BMC kind names and leaves the rest out (omitempty)', () => {
    const host = {
      namespace: 'ns', name: 'h', access: accessDetails('redfish-uefihttp+http://127.0.0.1:8000/redfish/v1/Systems/1'),
      credentials: { username: 'u', password: 'p' },
    } as Parameters<typeof enrollBody>[0];
    expect(enrollBody(host, { disablePowerOff: false, bootMode: 'UEFI', cpuArchitecture: 'x86_64', hasCustomDeploy: true })).toEqual({
      driver: 'redfish', boot_interface: 'redfish-https', name: 'ns~h', firmware_interface: 'redfish', deploy_interface: 'custom-agent',
      inspect_interface: 'agent', raid_interface: 'redfish', disable_power_off: false,
      driver_info: { redfish_address: 'http://127.0.0.1:8000', redfish_system_id: '/redfish/v1/Systems/1', redfish_username: 'u', redfish_password: 'p' },
      properties: { capabilities: 'boot_mode:uefi', cpu_arch: 'x86_64' },
    });
    // ipmi: the port as a string, 623 by default; redfish: https unless +http, no system id for the service root.
    expect(accessDetails('ipmi://10.0.0.5').driverInfo({ username: 'u', password: 'p' })).toMatchObject({ ipmi_address: '10.0.0.5', ipmi_port: '623', ipmi_priv_level: 'ADMINISTRATOR' });
    expect(accessDetails('redfish://bmc.example/redfish/v1').driverInfo({ username: 'u', password: 'p' })).toEqual({ redfish_address: 'https://bmc.example', redfish_username: 'u', redfish_password: 'p' });
  });
});
