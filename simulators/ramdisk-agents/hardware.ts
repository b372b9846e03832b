// The agent's view of a simulated machine: inventory from its MachineHardware, a file for its
// disk, power through the SimulatedMachine, and failures a test asks for.
import { open, stat } from 'node:fs/promises';
import type { Hardware, RootDisk } from '../../deploy-agent/hardware.ts';
import { lldpTlvs, type Inventory, type PciDevice } from '../../deploy-agent/inventory.ts';
import { pickRootDisk } from '../../deploy-agent/root-device.ts';
import type { SimulatedMachine } from '../machine.ts';

/**
 * Step names a test can make fail: `standby.prepare_image`, `download`, `write`, `configdrive`,
 * `deploy.write_image`, `clean.<step>` (e.g. clean.erase_devices_metadata), `standby.power_off`,
 * `standby.get_partition_uuids`, `image.install_bootloader`, `inspection`, and `heartbeat`
 * (the agent stops heart-beating).
 */
export type Failures = Map<string, string>;

export interface SimulatedHardwareOptions {
  machine: SimulatedMachine;
  /** The file that stands for the first disk; created sparse at the disk's size. */
  diskPath: string;
  /** The address the agent reports for its NICs (its command API's address). */
  ipv4Address?: string;
  failures?: Failures;
  /** The simulated top-of-rack switch the NICs are cabled to (LLDP). */
  switchMac?: string;
  switchName?: string;
}

export class SimulatedHardware implements Hardware {
  readonly failures: Failures;

  constructor(private readonly opts: SimulatedHardwareOptions) {
    this.failures = opts.failures ?? new Map();
  }

  async inventory(): Promise<Inventory> {
    const hw = this.opts.machine.hardware;
    const switchMac = this.opts.switchMac ?? '52:54:00:ff:00:01';
    const switchName = this.opts.switchName ?? 'sim-tor-1';
    return {
      interfaces: hw.nics.map((nic, n) => ({
        name: nic.name,
        mac_address: nic.mac.toLowerCase(),
        ipv4_address: n === 0 ? this.opts.ipv4Address ?? null : null,
        ipv6_address: null,
        has_carrier: true,
        vendor: '0x1af4',
        product: '0x0001',
        speed_mbps: nic.speedMbps,
        pci_address: `0000:00:${(3 + n).toString(16).padStart(2, '0')}.0`,
        biosdevname: null,
        client_id: null,
        lldp: lldpTlvs(switchMac, `Ethernet${this.opts.machine.id.replace(/\D/g, '') || '0'}/${n + 1}`, switchName),
      })),
      cpu: { model_name: hw.cpuModel, frequency: '2400.000', count: hw.cpus, architecture: hw.cpuArch, flags: ['fpu', 'vme', 'lm', 'vmx'] },
      disks: hw.disks.map((d) => ({
        name: d.name, model: d.model, size: d.sizeBytes, rotational: d.rotational, wwn: null, serial: d.serial, vendor: 'ANVIL',
        wwn_with_extension: null, wwn_vendor_extension: null, hctl: '0:0:0:0', by_path: null,
      })),
      memory: { total: hw.memoryMb * 1024 * 1024, physical_mb: hw.memoryMb },
      bmc_address: null,
      bmc_v6address: null,
      system_vendor: { product_name: hw.model, serial_number: hw.serial, manufacturer: hw.manufacturer, firmware: { vendor: 'Anvil', version: '1.0', build_date: '2026-01-01' } },
      boot: { current_boot_mode: this.opts.machine.getBootOverride().mode, pxe_interface: hw.nics[0]?.mac.toLowerCase() ?? null },
      hostname: this.opts.machine.name,
    };
  }

  /** The NICs (virtio, at the addresses the inventory gives them) and the machine's other devices. */
  async pciDevices(): Promise<PciDevice[]> {
    const hw = this.opts.machine.hardware;
    const nics = hw.nics.map((_nic, n) => ({ vendor_id: '1af4', product_id: '1000', class: '020000', revision: '00', bus: `0000:00:${(3 + n).toString(16).padStart(2, '0')}.0` }));
    const others = (hw.pciDevices ?? []).map((d, n) => ({ vendor_id: d.vendorId, product_id: d.productId, class: d.class, revision: '00', bus: `0000:${(0x10 + n).toString(16)}:00.0` }));
    return [...nics, ...others];
  }

  async macAddresses(): Promise<string[]> {
    return this.opts.machine.hardware.nics.map((n) => n.mac.toLowerCase());
  }

  /** The file standing for disk `index` (the first is diskPath itself). */
  diskFile(index: number): string {
    return index === 0 ? this.opts.diskPath : this.opts.diskPath.replace(/(\.disk)?$/, `-${index}.disk`);
  }

  async rootDisk(hints?: Record<string, unknown> | null): Promise<RootDisk> {
    const disks = (await this.inventory()).disks;
    if (disks.length === 0) throw new Error(`Machine ${this.opts.machine.name} has no disk`);
    // Simulated disks may be tiny: no minimum size.
    const chosen = pickRootDisk(disks, hints ?? null, 0);
    const index = disks.indexOf(chosen);
    const file = this.diskFile(index);
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size !== chosen.size) {
      const fh = await open(file, size < 0 ? 'w' : 'r+');
      await fh.truncate(chosen.size);
      await fh.close();
    }
    return { name: chosen.name, path: file, sizeBytes: chosen.size, blockDevice: false };
  }

  /** The rescue password's hash the agent was given (finalize_rescue), for tests to check. */
  rescuePasswordHash: string | null = null;

  async setRescuePassword(hash: string): Promise<void> {
    this.rescuePasswordHash = hash;
  }

  async powerOff(): Promise<void> {
    await this.opts.machine.power('off');
  }

  async reboot(): Promise<void> {
    await this.opts.machine.power('reset');
  }

  injectedFailure(step: string): string | null {
    const message = this.failures.get(step);
    return message === undefined ? null : message || `Injected failure of ${step}`;
  }
}
