// The simulated BMC's HttpBootUri as OVMF sees it: a boot option and BootNext written into a copy of
// Debian's OVMF variable store (a template, and a store OVMF itself wrote to).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OVMF } from '../../../simulators/qemu/machine.ts';
import { VariableStoreError, httpBootDevicePath, listVariables, readVariable, setHttpBootNext } from '../../../simulators/qemu/ovmf-vars.ts';

const MAC = '52:54:00:e2:e0:08';
const URI = 'http://172.31.0.1:41234/0123abcd?node=n&temp_url_sig=s';

describe('OVMF variable store', () => {
  it('writes Boot0100 on the NIC with the URI, and BootNext naming it', () => {
    const store = readFileSync(OVMF.vars);
    expect(listVariables(store)).toEqual([]);
    setHttpBootNext(store, { pciDevice: 0x10, mac: MAC, uri: URI });
    expect(readVariable(store, 'BootNext')).toEqual(Buffer.from([0x00, 0x01]));
    const option = readVariable(store, 'Boot0100')!;
    expect(option.readUInt32LE(0)).toBe(1);
    const pathLength = option.readUInt16LE(4);
    const description = option.subarray(6, option.length - pathLength).toString('utf16le');
    expect(description).toBe(`BMC HTTP boot ${URI}\0`);
    const path = option.subarray(option.length - pathLength);
    expect(path).toEqual(httpBootDevicePath(0x10, MAC, URI));
    // The node layout OVMF gives its own "UEFI HTTPv4" options: PciRoot, Pci(0x10,0), MAC(…,1), IPv4(DHCP), Uri, End.
    expect(path.subarray(0, 12).toString('hex')).toBe('02010c00d041030a00000000');
    expect(path.subarray(12, 18).toString('hex')).toBe('010106000010');
    expect(path.subarray(18, 24).toString('hex')).toBe('030b25005254');
    expect(path.subarray(55, 59).toString('hex')).toBe('030c1b00');
    expect(path.subarray(82, 86)).toEqual(Buffer.from([3, 24, 4 + URI.length, 0]));
    expect(path.subarray(86, 86 + URI.length).toString('latin1')).toBe(URI);
    expect(path.subarray(-4).toString('hex')).toBe('7fff0400');
  });

  it('replaces the previous URI: the old copies are marked deleted, not rewritten', () => {
    const store = readFileSync(OVMF.vars);
    setHttpBootNext(store, { pciDevice: 0x10, mac: MAC, uri: 'http://10.0.0.1/a.iso' });
    setHttpBootNext(store, { pciDevice: 0x10, mac: MAC, uri: URI });
    const all = listVariables(store);
    expect(all.map((v) => [v.name, v.state])).toEqual([['Boot0100', 0x3d], ['BootNext', 0x3d], ['Boot0100', 0x3f], ['BootNext', 0x3f]]);
    expect(readVariable(store, 'Boot0100')!.includes(Buffer.from(URI, 'latin1'))).toBe(true);
  });

  it('refuses a file that is not a variable store, and a store with no room left', () => {
    expect(() => setHttpBootNext(Buffer.alloc(4096), { pciDevice: 0x10, mac: MAC, uri: URI })).toThrow(VariableStoreError);
    const store = readFileSync(OVMF.vars);
    expect(() => {
      for (let i = 0; i < 10_000; i++) setHttpBootNext(store, { pciDevice: 0x10, mac: MAC, uri: `${URI}&n=${i}` });
    }).toThrow('the variable store is full: no room for');
  });
});
