// The pure parts of observability: sensor readings to ironic-prometheus-exporter's names (both
// shapes the drivers return), Ironic's provision_set status rule, and BMC addresses of inventories.
import { describe, expect, it } from 'vitest';
import { bmcDriver } from '../../../bin/operator/inventory.ts';
import { sensorSamples } from '../../../services/conductor/sensors.ts';
import { provisionStatus } from '../../../services/notifications/payloads.ts';

const node = { uuid: 'u-1', name: 'n-1', instance_uuid: null };

describe('sensorSamples', () => {
  it('names IPMI SDR readings as the exporter does, skipping unavailable ones', () => {
    const samples = sensorSamples(node, {
      Temperature: { 'CPU1 Temp (0x30)': { 'Sensor ID': 'CPU1 Temp (0x30)', 'Sensor Reading': '45 (+/- 0) degrees C', Units: 'degrees C' } },
      Fan: { 'Fan2A (0x41)': { 'Sensor ID': 'Fan2A (0x41)', 'Sensor Reading': '5400 (+/- 0) RPM', Units: 'RPM' } },
      Voltage: { 'Vcore (0x50)': { 'Sensor ID': 'Vcore (0x50)', 'Sensor Reading': 'Unavailable', Units: 'Volts' } },
    });
    expect(samples.map((s) => [s.name, s.value, s.labels.sensor_id])).toEqual([
      ['baremetal_cpu_temp_celsius', 45, 'CPU1 Temp (0x30)'],
      ['baremetal_fan_rpm', 5400, 'Fan2A (0x41)'],
    ]);
    expect(samples[0].labels).toMatchObject({ node_name: 'n-1', node_uuid: 'u-1', instance_uuid: '', entity_id: 'Temperature' });
  });

  it('names Redfish Thermal and Power readings, health as 0 or 1', () => {
    const samples = sensorSamples(node, {
      Temperature: { 'CPU@1': { identity: 'CPU', reading_celsius: 41, physical_context: 'CPU', health: 'OK' } },
      Fan: { 'Fan1@1': { identity: 'Fan1', reading: 3000, health: 'Warning' } },
      Power: { 'PSU1@1': { identity: 'PSU1', health: 'OK' } },
    });
    expect(samples.map((s) => [s.name, s.value])).toEqual([['baremetal_temp_cpu_celsius', 41], ['baremetal_fan_status', 1], ['baremetal_power_status', 0]]);
  });
});

describe('provisionStatus (Ironic task manager)', () => {
  it.each([
    ['fail', true, false, 'error', 'error'],
    ['deploy', false, true, 'start', 'info'],
    ['done', true, false, 'end', 'info'],
    ['wait', true, true, 'success', 'info'],
    ['manage', false, false, 'success', 'info'],
  ] as const)('%s from unstable=%s to unstable=%s is %s', (event, from, to, status, priority) => {
    expect(provisionStatus(event, from, to)).toEqual({ status, priority });
  });
});

describe('bmcDriver', () => {
  it.each([
    ['ipmi://10.0.0.5:6230', 'ipmi', { ipmi_address: '10.0.0.5', ipmi_port: 6230, ipmi_username: 'u', ipmi_password: 'p' }],
    ['redfish://bmc.example/redfish/v1/Systems/1', 'redfish', { redfish_address: 'https://bmc.example', redfish_system_id: '/redfish/v1/Systems/1', redfish_username: 'u', redfish_password: 'p' }],
    ['idrac-redfish://10.0.0.6/redfish/v1/Systems/System.Embedded.1', 'idrac', { redfish_address: 'https://10.0.0.6', redfish_system_id: '/redfish/v1/Systems/System.Embedded.1' }],
    ['ilo5-redfish://10.0.0.7', 'ilo', { redfish_address: 'https://10.0.0.7' }],
    ['redfish+http://127.0.0.1:8000/redfish/v1/Systems/abc', 'redfish', { redfish_address: 'http://127.0.0.1:8000', redfish_system_id: '/redfish/v1/Systems/abc' }],
  ])('%s', (address, driver, info) => {
    const got = bmcDriver(address, 'u', 'p');
    expect(got.driver).toBe(driver);
    expect(got.driver_info).toMatchObject(info);
  });

  it('refuses an unknown scheme, naming the known ones', () => {
    expect(() => bmcDriver('ftp://x')).toThrow(/must start with one of ipmi:\/\/, redfish:\/\//);
  });
});
