// driver_info parsing: Ironic's keys, defaults, and messages that name the wrong key.
import { describe, expect, it } from 'vitest';
import { InvalidInput, MissingParameter } from '../../../common/errors.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import { parseRedfishInfo } from '../../../drivers/redfish/driver-info.ts';

const node = (driver_info: Record<string, unknown>) => ({ uuid: 'n-1', driver_info } as unknown as NodeRecord);

describe('redfish driver_info', () => {
  it('defaults the scheme to https, the root to /redfish/v1 and auth to auto', () => {
    expect(parseRedfishInfo(node({ redfish_address: '10.0.0.5:8443' }))).toMatchObject({
      origin: 'https://10.0.0.5:8443', root: '/redfish/v1', systemId: null, verifyCa: true, authType: 'auto', timeoutSec: 30, attempts: 3, retryIntervalSec: 1, cacheTtlSec: 30,
    });
    expect(parseRedfishInfo(node({ redfish_address: 'http://bmc.example/custom/root/' }))).toMatchObject({ origin: 'http://bmc.example', root: '/custom/root' });
  });

  it('takes the system id, credentials, verify_ca as boolean or string, and auth type', () => {
    const info = parseRedfishInfo(node({ redfish_address: 'bmc', redfish_system_id: '/redfish/v1/Systems/1', redfish_username: 'u', redfish_password: 'p', redfish_verify_ca: 'False', redfish_auth_type: 'session', redfish_timeout: '2.5', redfish_connection_attempts: 5 }));
    expect(info).toMatchObject({ systemId: '/redfish/v1/Systems/1', username: 'u', password: 'p', verifyCa: false, authType: 'session', timeoutSec: 2.5, attempts: 5 });
    expect(parseRedfishInfo(node({ redfish_address: 'bmc', redfish_verify_ca: true })).verifyCa).toBe(true);
    expect(parseRedfishInfo(node({ redfish_address: 'bmc', redfish_verify_ca: '/etc/hostname' })).verifyCa).toBe('/etc/hostname');
  });

  it('says exactly which key is missing or wrong', () => {
    expect(() => parseRedfishInfo(node({}))).toThrow(MissingParameter);
    expect(() => parseRedfishInfo(node({}))).toThrow('Missing the following Redfish properties in node n-1 driver_info: redfish_address');
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ redfish_address: 'ftp://bmc' }, /driver_info\/redfish_address .*scheme must be http or https/],
      [{ redfish_address: 'http://' }, /Invalid Redfish address http:\/\/ set in driver_info\/redfish_address/],
      [{ redfish_address: 42 }, /driver_info\/redfish_address .*must be a string/],
      [{ redfish_address: 'bmc', redfish_verify_ca: '/no/such/ca.pem' }, /driver_info\/redfish_verify_ca .*\/no\/such\/ca.pem does not exist/],
      [{ redfish_address: 'bmc', redfish_verify_ca: 3 }, /driver_info\/redfish_verify_ca .*should be a Boolean or the path/],
      [{ redfish_address: 'bmc', redfish_auth_type: 'digest' }, /driver_info\/redfish_auth_type .*Valid values are: basic, session, auto/],
      [{ redfish_address: 'bmc', redfish_system_id: '' }, /driver_info\/redfish_system_id .*non-empty string/],
      [{ redfish_address: 'bmc', redfish_password: 7 }, /driver_info\/redfish_password .*must be a string/],
      [{ redfish_address: 'bmc', redfish_timeout: 'soon' }, /driver_info\/redfish_timeout .*positive number/],
      [{ redfish_address: 'bmc', redfish_connection_attempts: 1.5 }, /driver_info\/redfish_connection_attempts .*positive integer/],
    ];
    for (const [info, message] of bad) {
      expect(() => parseRedfishInfo(node(info))).toThrow(InvalidInput);
      expect(() => parseRedfishInfo(node(info))).toThrow(message);
    }
  });
});
