// The real agent's PCI devices (what the pci-devices and accelerators hooks read): LinuxHardware
// reads /sys/bus/pci/devices; this machine's list is checked against the kernel's other account
// of the same devices, /proc/bus/pci/devices (bus and devfn, vendor and device ids).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LinuxHardware } from '../../../deploy-agent/hardware.ts';

describe('LinuxHardware PCI devices', () => {
  it('lists every PCI device of this machine with its ids, class and address, as /proc/bus/pci/devices has them', async () => {
    // Linux always has both on a machine with PCI (CI runs on one); a container without /proc/bus/pci is a defect of the machine.
    expect(existsSync('/proc/bus/pci/devices'), '/proc/bus/pci/devices').toBe(true);
    const fromProc = readFileSync('/proc/bus/pci/devices', 'utf8').trim().split('\n').map((line) => {
      const [busDevfn, ids] = line.split('\t');
      const n = parseInt(busDevfn, 16);
      const bus = `0000:${(n >> 8).toString(16).padStart(2, '0')}:${((n & 0xff) >> 3).toString(16).padStart(2, '0')}.${n & 7}`;
      return { bus, vendor_id: ids.slice(0, 4), product_id: ids.slice(4, 8) };
    });
    const devices = await new LinuxHardware().pciDevices();
    expect(devices.map(({ bus, vendor_id, product_id }) => ({ bus, vendor_id, product_id })).sort((a, b) => a.bus.localeCompare(b.bus))).toEqual(fromProc.sort((a, b) => a.bus.localeCompare(b.bus)));
    for (const d of devices) {
      expect(d.class, d.bus).toMatch(/^[0-9a-f]{6}$/);
      expect(d.revision, d.bus).toMatch(/^[0-9a-f]{2}$/);
    }
  });
});
