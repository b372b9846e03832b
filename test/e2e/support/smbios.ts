// An SMBIOS type 42 structure (Redfish Host Interface, DMTF DSP0270) naming a Redfish service, for
// QEMU's -smbios file=: the firmware of a VM then describes its BMC as a server's firmware does.
export function smbiosRedfishHostInterface(service: { address: string; port: number; hostname?: string }): Buffer {
  const hostname = Buffer.from(service.hostname ?? '', 'utf8');
  const record = Buffer.alloc(91 + hostname.length);
  // Service UUID (0-15) and the host's own address (16-49) are left unknown (zero).
  record[50] = 1; // Redfish service IP discovery: static
  record[51] = 1; // IPv4
  Buffer.from(service.address.split('.').map(Number)).copy(record, 52);
  Buffer.from([255, 255, 255, 255]).copy(record, 68);
  record.writeUInt16LE(service.port, 84);
  record[90] = hostname.length;
  hostname.copy(record, 91);
  const body = Buffer.concat([
    Buffer.from([0x40, 0]), // network host interface, no device descriptor
    Buffer.from([1, 0x04, record.length]), // one protocol record: Redfish over IP
    record,
  ]);
  const header = Buffer.from([42, 4 + body.length, 0x00, 0x2a]);
  return Buffer.concat([header, body, Buffer.from([0, 0])]);
}
