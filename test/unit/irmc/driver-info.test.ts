// Ironic's irmc_* driver_info keys read into the Redfish connection, the IPMI keys derived for
// iRMC S4, and the share a remote image mount takes.
import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import { ipmiDriverInfo, managementProtocol, parseIrmcInfo } from '../../../drivers/irmc/driver-info.ts';
import { shareOf } from '../../../drivers/irmc/oem.ts';
import { parseRedfishInfo } from '../../../drivers/redfish/driver-info.ts';
import '../../../drivers/registry.ts';

const node = (driver_info: Record<string, unknown>, driver = 'irmc') => ({ uuid: 'n-1', driver, driver_info }) as unknown as NodeRecord;
const base = { irmc_address: '192.0.2.5', irmc_username: 'admin', irmc_password: 'pw' };

describe('irmc driver_info', () => {
  it('needs irmc_address, irmc_username and irmc_password, and names the missing ones', () => {
    expect(() => parseIrmcInfo(node({ irmc_address: 'x' }))).toThrow('Missing the following iRMC parameters in node n-1 driver_info: irmc_username, irmc_password');
  });

  it('reaches https on 443 by default, http on irmc_port 80, and a URL as written', () => {
    expect(parseIrmcInfo(node(base))).toMatchObject({ origin: 'https://192.0.2.5:443', root: '/redfish/v1', systemId: null, username: 'admin', password: 'pw', authType: 'basic', timeoutSec: 60, verifyCa: true });
    expect(parseIrmcInfo(node({ ...base, irmc_port: 80 })).origin).toBe('http://192.0.2.5:80');
    expect(parseIrmcInfo(node({ ...base, irmc_port: '8443' })).origin).toBe('https://192.0.2.5:8443');
    expect(parseIrmcInfo(node({ ...base, irmc_address: 'http://127.0.0.1:8000' })).origin).toBe('http://127.0.0.1:8000');
    expect(parseIrmcInfo(node({ ...base, irmc_address: 'fd00::5' })).origin).toBe('https://[fd00::5]:443');
    expect(() => parseIrmcInfo(node({ ...base, irmc_port: 70000 }))).toThrow('driver_info/irmc_port on node n-1: it must be a TCP/UDP port');
  });

  it('validates irmc_auth_method, irmc_client_timeout, irmc_verify_ca and irmc_management_protocol', () => {
    expect(parseIrmcInfo(node({ ...base, irmc_auth_method: 'digest' })).authType).toBe('session');
    expect(() => parseIrmcInfo(node({ ...base, irmc_auth_method: 'ntlm' }))).toThrow('driver_info/irmc_auth_method');
    expect(parseIrmcInfo(node({ ...base, irmc_client_timeout: '20' })).timeoutSec).toBe(20);
    expect(() => parseIrmcInfo(node({ ...base, irmc_client_timeout: 1.5 }))).toThrow('driver_info/irmc_client_timeout');
    expect(parseIrmcInfo(node({ ...base, irmc_verify_ca: 'False' })).verifyCa).toBe(false);
    expect(() => parseIrmcInfo(node({ ...base, irmc_verify_ca: '/nonexistent/ca.pem' }))).toThrow('driver_info/irmc_verify_ca');
    expect(managementProtocol(node(base))).toBe('redfish');
    expect(() => parseIrmcInfo(node({ ...base, irmc_management_protocol: 'scci' }))).toThrow('it must be redfish or ipmi');
  });

  it('is what every Redfish interface of an irmc node reads; other hardware types keep redfish_* keys', () => {
    expect(parseRedfishInfo(node(base)).origin).toBe('https://192.0.2.5:443');
    expect(() => parseRedfishInfo(node(base, 'redfish'))).toThrow('redfish_address');
  });

  it('derives the IPMI keys from the iRMC address and credentials, as Ironic\'s update_ipmi_properties', () => {
    expect(ipmiDriverInfo(node({ ...base, irmc_management_protocol: 'ipmi' }))).toMatchObject({ ipmi_address: '192.0.2.5', ipmi_port: 623, ipmi_username: 'admin', ipmi_password: 'pw' });
    expect(ipmiDriverInfo(node({ ...base, irmc_address: 'fd00::5', irmc_ipmi_port: 6230 }))).toMatchObject({ ipmi_address: 'fd00::5', ipmi_port: 6230 });
  });
});

describe('the share of a remote image mount', () => {
  it('splits NFS and SMB URLs into server, share and image', () => {
    expect(shareOf('nfs://192.0.2.10/srv/images/deploy.iso')).toEqual({ ShareType: 'NFS', Server: '192.0.2.10', ShareName: '/srv/images', ImageName: 'deploy.iso' });
    expect(shareOf('cifs://user:p%40ss@files.example/isos/ramdisk/deploy.iso')).toEqual({ ShareType: 'SMB', Server: 'files.example', ShareName: 'isos/ramdisk', ImageName: 'deploy.iso', UserName: 'user', Password: 'p@ss' });
  });

  it('has no share for http images or an image at the root', () => {
    expect(shareOf('http://192.0.2.10/deploy.iso')).toBeNull();
    expect(shareOf('nfs://192.0.2.10/deploy.iso')).toBeNull();
  });
});
