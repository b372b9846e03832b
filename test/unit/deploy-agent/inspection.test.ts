import { describe, expect, it } from 'vitest';
import { lldpTlvs } from '../../../deploy-agent/inventory.ts';
import { inspectionResult, propertiesFrom } from '../../../drivers/in-band/inspect.ts';
import { linkFromLldp } from '../../../drivers/in-band/lldp.ts';

const GIB = 1024 ** 3;

describe('agent inspection data', () => {
  it('turns LLDP TLVs into local_link_connection', () => {
    expect(linkFromLldp(lldpTlvs('00:1c:73:aa:bb:cc', 'Ethernet1/7', 'leaf-3'))).toEqual({ switch_id: '00:1c:73:aa:bb:cc', port_id: 'Ethernet1/7', switch_info: 'leaf-3' });
    // Port id subtype 3 is a MAC address.
    expect(linkFromLldp([[2, '03001c73000001']])).toEqual({ port_id: '00:1c:73:00:00:01' });
    expect(linkFromLldp([[1, ''], ['x', 1], 'junk'])).toBeUndefined();
    expect(linkFromLldp(null)).toBeUndefined();
  });

  it('derives properties as Ironic: cpus, arch, memory, root disk GiB minus one, boot mode', () => {
    const inv = { cpu: { count: 16, architecture: 'aarch64' }, memory: { physical_mb: 65536 }, disks: [{ name: '/dev/sdb', size: 2 * GIB }, { name: '/dev/sda', size: 480 * GIB }, { name: '/dev/sdc', size: 960 * GIB }], boot: { current_boot_mode: 'uefi' } };
    expect(propertiesFrom(inv, null)).toEqual({ cpus: 16, cpu_arch: 'aarch64', memory_mb: 65536, local_gb: 479, capabilities: 'boot_mode:uefi' });
    expect(propertiesFrom(inv, { name: '/dev/sdc', size: 960 * GIB }).local_gb).toBe(959);
    expect(propertiesFrom({}, null)).toEqual({});
  });

  it('makes ports for valid MACs, PXE-enabled for the boot NIC, and keeps the rest as plugin data', () => {
    const result = inspectionResult({
      inventory: {
        interfaces: [
          { name: 'eth0', mac_address: '52:54:00:00:00:AA', lldp: lldpTlvs('00:00:00:00:00:01', 'p1', 's1') },
          { name: 'eth1', mac_address: '52:54:00:00:00:bb' },
          { name: 'ib0', mac_address: 'not-a-mac' },
        ],
        boot: { pxe_interface: '52:54:00:00:00:aa' },
      },
      lldp_raw: { eth1: lldpTlvs('00:00:00:00:00:02', 'p2', 's2') },
      root_disk: null,
    });
    expect(result.ports).toEqual([
      { address: '52:54:00:00:00:aa', pxe_enabled: true, local_link_connection: { switch_id: '00:00:00:00:00:01', port_id: 'p1', switch_info: 's1' } },
      { address: '52:54:00:00:00:bb', pxe_enabled: false, local_link_connection: { switch_id: '00:00:00:00:00:02', port_id: 'p2', switch_info: 's2' } },
    ]);
    expect(result.plugin_data).toEqual({
      lldp_raw: expect.any(Object),
      root_disk: null,
      parsed_lldp: {
        eth0: { switch_chassis_id: '00:00:00:00:00:01', switch_port_id: 'p1', switch_system_name: 's1' },
        eth1: { switch_chassis_id: '00:00:00:00:00:02', switch_port_id: 'p2', switch_system_name: 's2' },
      },
    });
  });

  it('refuses data without an inventory', () => {
    expect(() => inspectionResult({ foo: 1 })).toThrow('The inspection data has no inventory with interfaces');
  });
});
