// The inspection hooks one by one over an IPA-shaped inventory: add_ports and keep_ports policies,
// cpu-capabilities, pci-devices, accelerators, root-device with hints, raid-device, physical-network.
import { describe, expect, it } from 'vitest';
import { defaultConfig, type InspectionConfig } from '../../../common/config.ts';
import { portsToRemove, runHooks, type HookInput } from '../../../services/conductor/inspection-hooks.ts';

const GIB = 1024 ** 3;
const PXE = '52:54:00:00:00:01';
const INVENTORY = {
  interfaces: [
    { name: 'eth0', mac_address: PXE, ipv4_address: '10.20.0.5' },
    { name: 'eth1', mac_address: '52:54:00:00:00:02', ipv4_address: '192.168.7.9' },
    { name: 'eth2', mac_address: '52:54:00:00:00:03', ipv4_address: null },
  ],
  cpu: { count: 8, architecture: 'x86_64', flags: ['fpu', 'vmx', 'aes', 'pdpe1gb'] },
  disks: [
    { name: '/dev/sda', size: 2000 * GIB, serial: 'HDD-1', model: 'big', rotational: true },
    { name: '/dev/sdb', size: 240 * GIB, serial: 'SSD-1', model: 'small', rotational: false },
    { name: '/dev/sdc', size: 1 * GIB, serial: 'USB-1', model: 'stick', rotational: false },
  ],
  boot: { current_boot_mode: 'uefi', pxe_interface: PXE },
};
const PORTS = INVENTORY.interfaces.map((n) => ({ address: n.mac_address }));

function input(config: Partial<InspectionConfig> = {}, over: Partial<HookInput> = {}): HookInput {
  return {
    node: { uuid: 'n', properties: {} },
    inventory: structuredClone(INVENTORY),
    pluginData: { pci_devices: [{ vendor_id: '10de', product_id: '1eb8', bus: '0000:3b:00.0' }, { vendor_id: '10de', product_id: '1eb8', bus: '0000:af:00.0' }, { vendor_id: '8086', product_id: '1572', bus: '0000:5e:00.0' }] },
    previousInventory: undefined,
    config: { ...defaultConfig('/tmp').inspection, ...config },
    ...over,
  };
}

describe('inspection hooks', () => {
  it('add_ports: all NICs, those with an address (active), or the PXE one (pxe)', () => {
    const macs = (policy: InspectionConfig['addPorts'], inv?: Record<string, unknown>) => runHooks(input({ addPorts: policy }, inv ? { inventory: inv } : {}), { ports: PORTS }).ports.map((p) => p.address);
    expect(macs('all')).toHaveLength(3);
    expect(macs('active')).toEqual([PXE, '52:54:00:00:00:02']);
    expect(macs('pxe')).toEqual([PXE]);
    // pxelinux's 01-... form of the boot interface; with none, pxe falls back to active.
    expect(macs('pxe', { ...INVENTORY, boot: { pxe_interface: '01-52-54-00-00-00-02' } })).toEqual(['52:54:00:00:00:02']);
    expect(macs('pxe', { ...INVENTORY, boot: {} })).toEqual([PXE, '52:54:00:00:00:02']);
    expect(() => runHooks(input({ addPorts: 'active' }, { inventory: { interfaces: [INVENTORY.interfaces[2]] } }), { ports: [PORTS[2]] })).toThrow('no network interfaces match the configuration (inspection.addPorts set to "active")');
  });

  it('keep_ports: all, present (NICs in the inventory), added (ports this inspection kept)', () => {
    const existing = [PXE, '52:54:00:00:00:02', '52:54:00:99:99:99'];
    expect(portsToRemove('all', INVENTORY, [], existing)).toEqual([]);
    expect(portsToRemove('present', INVENTORY, [], existing)).toEqual(['52:54:00:99:99:99']);
    expect(portsToRemove('added', INVENTORY, [{ address: PXE }], existing)).toEqual(['52:54:00:00:00:02', '52:54:00:99:99:99']);
    expect(portsToRemove('present', { interfaces: [] }, [], existing)).toEqual([]);
  });

  it('cpu-capabilities maps CPU flags to capabilities, merged with those found', () => {
    const out = runHooks(input({ hooks: ['cpu-capabilities'] }), { properties: { cpus: 8, capabilities: 'boot_mode:uefi' } });
    expect(out.capabilities).toEqual({ boot_mode: 'uefi', cpu_vt: 'true', cpu_aes: 'true', cpu_hugepages_1g: 'true' });
    expect(out.properties).toEqual({ cpus: 8 });
  });

  it('pci-devices counts the devices of each alias; accelerators lists the known ones', () => {
    const out = runHooks(input({ hooks: ['pci-devices', 'accelerators'], pciDeviceAliases: [{ vendor_id: '10de', product_id: '1eb8', name: 'gpu_t4' }, { vendor_id: '15b3', product_id: '1017', name: 'mlx' }] }), {});
    expect(out.capabilities).toEqual({ gpu_t4: '2' });
    expect(out.properties.accelerators).toEqual([
      { vendor_id: '10de', device_id: '1eb8', type: 'GPU', device_info: 'NVIDIA Corporation Tesla T4', pci_address: '0000:3b:00.0' },
      { vendor_id: '10de', device_id: '1eb8', type: 'GPU', device_info: 'NVIDIA Corporation Tesla T4', pci_address: '0000:af:00.0' },
    ]);
    const none = runHooks(input({ hooks: ['pci-devices'], pciDeviceAliases: [{ vendor_id: '10de', product_id: '1eb8', name: 'gpu_t4' }] }, { pluginData: {} }), {});
    expect(none.notes).toEqual(['The ramdisk reported no PCI devices; the pci-devices hook set no capability']);
  });

  it('root-device: hints choose the disk and local_gb (less 1 GiB), else the smallest of 4 GiB', () => {
    const hinted = input({ hooks: ['root-device'] }, { node: { uuid: 'n', properties: { root_device: { serial: 'hdd-1' } } } });
    expect(runHooks(hinted, {}).properties.local_gb).toBe(1999);
    expect(hinted.pluginData.root_disk).toMatchObject({ name: '/dev/sda' });
    expect(runHooks(input({ hooks: ['root-device'] }), {}).properties.local_gb).toBe(239);
    expect(runHooks(input({ hooks: ['root-device'], diskPartitioningSpacing: false }), {}).properties.local_gb).toBe(240);
    expect(runHooks(input({ hooks: ['root-device'] }, { node: { uuid: 'n', properties: { root_device: { size: '>= 200', rotational: false } } } }), {}).properties).toEqual({ local_gb: 239 });
  });

  it('root-device: hints that match no disk fail the inspection naming them', () => {
    expect(() => runHooks(input({ hooks: ['root-device'] }, { node: { uuid: 'n', properties: { root_device: { model: 'nvme' } } } }), {})).toThrow(/No disk matches the root device hints {"model":"nvme"}/);
  });

  it('raid-device: one new disk since the last inspection becomes the root_device hint; two say why not', () => {
    const previous = { disks: INVENTORY.disks.filter((d) => d.serial !== 'SSD-1') };
    expect(runHooks(input({ hooks: ['raid-device'] }, { previousInventory: previous }), {}).properties.root_device).toEqual({ serial: 'SSD-1' });
    const two = runHooks(input({ hooks: ['raid-device'] }, { previousInventory: { disks: [INVENTORY.disks[0]] } }), {});
    expect(two.properties.root_device).toBeUndefined();
    expect(two.notes[0]).toMatch(/2 new disks appeared since the last inspection \(SSD-1, USB-1\)/);
    expect(runHooks(input({ hooks: ['raid-device'] }), {}).properties).toEqual({});
    expect(runHooks(input({ hooks: ['raid-device'] }, { previousInventory: previous, node: { uuid: 'n', properties: { root_device: { name: 'sda' } } } }), {}).properties).toEqual({});
  });

  it('physical-network: a port whose NIC has an address in a mapped network gets its physical network', () => {
    const out = runHooks(input({ hooks: ['physical-network'], physicalNetworkCidrMap: { '10.20.0.0/16': 'provisioning', '192.168.7.0/24': 'storage' } }), { ports: PORTS });
    expect(out.ports.map((p) => p.physical_network)).toEqual(['provisioning', 'storage', undefined]);
  });
});
