import { describe, expect, it } from 'vitest';
import { redfishHostInterface } from '../../../deploy-agent/bmc-address.ts';
import { smbiosRedfishHostInterface } from '../../e2e/support/smbios.ts';

/** An SMBIOS type 1 structure with one string, as the table holds before the type 42 one. */
const TYPE1 = Buffer.concat([Buffer.from([1, 8, 0x01, 0x00, 1, 0, 0, 0]), Buffer.from('QEMU\0\0')]);
const END = Buffer.from([127, 4, 0xff, 0xfe, 0, 0]);

describe('the Redfish host interface of an SMBIOS table (type 42)', () => {
  it('finds the Redfish service address, port and hostname after other structures', () => {
    const table = Buffer.concat([TYPE1, smbiosRedfishHostInterface({ address: '172.31.0.1', port: 8000, hostname: 'bmc-1' }), END]);
    expect(redfishHostInterface(table)).toEqual({ address: '172.31.0.1', port: 8000, hostname: 'bmc-1' });
  });

  it('is null without a type 42 structure, for a zero address, and for truncated tables', () => {
    expect(redfishHostInterface(Buffer.concat([TYPE1, END]))).toBeNull();
    expect(redfishHostInterface(Buffer.concat([TYPE1, smbiosRedfishHostInterface({ address: '0.0.0.0', port: 443 }), END]))).toBeNull();
    const whole = smbiosRedfishHostInterface({ address: '10.0.0.9', port: 443 });
    expect(redfishHostInterface(whole.subarray(0, 40))).toBeNull();
    expect(redfishHostInterface(Buffer.from([42, 2]))).toBeNull();
    expect(redfishHostInterface(Buffer.alloc(0))).toBeNull();
  });
});
