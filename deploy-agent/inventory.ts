// The hardware inventory an agent reports, shaped as ironic-python-agent's (what Ironic stores
// and gophercloud decodes: types matter — sizes are integers, frequency a string).

export interface InventoryInterface {
  name: string;
  mac_address: string;
  ipv4_address: string | null;
  ipv6_address: string | null;
  has_carrier: boolean;
  vendor: string | null;
  product: string | null;
  speed_mbps: number | null;
  pci_address: string | null;
  biosdevname: string | null;
  client_id: string | null;
  /** Raw LLDP TLVs as IPA sends them: [type, hex of the TLV value]. */
  lldp: [number, string][] | null;
}

export interface InventoryDisk {
  name: string;
  model: string;
  size: number;
  rotational: boolean;
  wwn: string | null;
  serial: string | null;
  vendor: string | null;
  wwn_with_extension: string | null;
  wwn_vendor_extension: string | null;
  hctl: string | null;
  by_path: string | null;
}

export interface Inventory {
  interfaces: InventoryInterface[];
  cpu: { model_name: string; frequency: string; count: number; architecture: string; flags: string[] };
  disks: InventoryDisk[];
  memory: { total: number; physical_mb: number };
  bmc_address: string | null;
  bmc_v6address: string | null;
  system_vendor: { product_name: string; serial_number: string; manufacturer: string; firmware: { vendor: string; version: string; build_date: string } };
  boot: { current_boot_mode: 'uefi' | 'bios'; pxe_interface: string | null };
  hostname: string;
}

/** A PCI device as IPA's pci-devices collector reports it (hex ids without 0x). */
export interface PciDevice {
  vendor_id: string;
  product_id: string;
  class: string;
  revision: string;
  bus: string;
}

/** LLDP TLV types IPA/Ironic read (IEEE 802.1AB). */
export const LLDP_TLV = { CHASSIS_ID: 1, PORT_ID: 2, SYSTEM_NAME: 5 } as const;

/** Encodes LLDP TLV values for a switch port as IPA reports them (chassis id subtype 4 = MAC, port id subtype 5 = interface name). */
export function lldpTlvs(switchMac: string, portName: string, systemName: string): [number, string][] {
  const hex = (b: Buffer) => b.toString('hex');
  return [
    [LLDP_TLV.CHASSIS_ID, hex(Buffer.concat([Buffer.from([4]), Buffer.from(switchMac.split(':').map((x) => parseInt(x, 16)))]))],
    [LLDP_TLV.PORT_ID, hex(Buffer.concat([Buffer.from([5]), Buffer.from(portName, 'utf8')]))],
    [LLDP_TLV.SYSTEM_NAME, hex(Buffer.from(systemName, 'utf8'))],
  ];
}
