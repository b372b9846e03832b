import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InventoryDisk } from '../../../deploy-agent/inventory.ts';
import { pickRootDisk, rootDeviceHints } from '../../../deploy-agent/root-device.ts';
import { MemoryMachine, sampleHardware } from '../../../simulators/machine.ts';
import { SimulatedHardware } from '../../../simulators/ramdisk-agents/hardware.ts';

const GIB = 1024 ** 3;
const disk = (name: string, size: number, extra: Partial<InventoryDisk> = {}): InventoryDisk => ({
  name, model: 'M', size, rotational: false, wwn: null, serial: null, vendor: null, wwn_with_extension: null, wwn_vendor_extension: null, hctl: null, by_path: null, ...extra,
});
const disks = [disk('/dev/sda', 2 * GIB), disk('/dev/sdb', 960 * GIB, { serial: 'S2', rotational: true }), disk('/dev/nvme0n1', 480 * GIB, { wwn: '0x5000C500A' })];

describe('root device choice', () => {
  it('takes the smallest disk big enough without hints', () => {
    expect(pickRootDisk(disks, null, 4 * GIB).name).toBe('/dev/nvme0n1');
  });
  it('matches hints: name with or without /dev, serial, wwn (any case), size with operators, rotational', () => {
    expect(pickRootDisk(disks, { name: 'sdb' }, 4 * GIB).name).toBe('/dev/sdb');
    expect(pickRootDisk(disks, { serial: 's2' }, 0).name).toBe('/dev/sdb');
    expect(pickRootDisk(disks, { wwn: '0x5000c500a' }, 0).name).toBe('/dev/nvme0n1');
    expect(pickRootDisk(disks, { size: '>= 500' }, 0).name).toBe('/dev/sdb');
    expect(pickRootDisk(disks, { size: 480 }, 0).name).toBe('/dev/nvme0n1');
    expect(pickRootDisk(disks, { rotational: 'false', size: '< 100' }, 0).name).toBe('/dev/sda');
  });
  it('says why nothing fits', () => {
    expect(() => pickRootDisk(disks, { serial: 'nope' }, 0)).toThrow(/^No disk matches the root device hints \{"serial":"nope"\} \(disks: \/dev\/sda 2147483648 bytes/);
    expect(() => pickRootDisk(disks, { colour: 'red' }, 0)).toThrow('Unknown root device hint "colour"');
    expect(() => pickRootDisk(disks, { size: 'big' }, 0)).toThrow('Invalid root device hint size "big"');
    expect(() => pickRootDisk([], null, 4 * GIB)).toThrow(`No disk of at least ${4 * GIB} bytes found for the root device`);
  });
  it('reads instance_info.root_device before properties.root_device', () => {
    expect(rootDeviceHints({ properties: { root_device: { name: '/dev/sda' } }, instance_info: { root_device: { serial: 'X' } } })).toEqual({ serial: 'X' });
    expect(rootDeviceHints({ properties: { root_device: { name: '/dev/sda' } } })).toEqual({ name: '/dev/sda' });
    expect(rootDeviceHints({ properties: {} })).toBeNull();
  });
  it('gives each simulated disk its own file, the hinted one created at its size', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-rd-'));
    const hw = sampleHardware(7, { diskBytes: 8 * 1024 * 1024 });
    hw.disks.push({ name: '/dev/sdb', sizeBytes: 16 * 1024 * 1024, model: 'SIM-HDD', rotational: true, serial: 'SECOND' });
    const sim = new SimulatedHardware({ machine: new MemoryMachine('m7', 'u7', 'm7', hw), diskPath: path.join(dir, 'm7.disk') });
    const second = await sim.rootDisk({ serial: 'second' });
    expect(second).toEqual({ name: '/dev/sdb', path: path.join(dir, 'm7-1.disk'), sizeBytes: 16 * 1024 * 1024, blockDevice: false });
    expect((await stat(second.path)).size).toBe(16 * 1024 * 1024);
    expect((await sim.rootDisk()).path).toBe(path.join(dir, 'm7.disk'));
    await rm(dir, { recursive: true, force: true });
  });
});
