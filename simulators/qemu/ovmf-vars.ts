// The UEFI variable store of an OVMF machine (its copy of OVMF_VARS.fd), edited while QEMU is off, to do
// what a server's BMC does with Redfish Boot.HttpBootUri: hand the URI to the firmware as a boot option
// whose device path is the NIC's followed by Uri(<the URI>), named by BootNext. OVMF's boot manager
// matches that path to HttpBootDxe on the NIC, which then takes only an address from DHCP and boots
// the URI. Layout (edk2 MdeModulePkg/Include/Guid/VariableFormat.h, UEFI 2.x 3.1.3 and 10.3): a
// firmware volume header, the authenticated variable store header, then the variables, 4-byte aligned.
const STORE_GUID = 'aaf32c78-947b-439a-a180-2e144ec37792'; // gEfiAuthenticatedVariableGuid
const GLOBAL_VARIABLE = '8be4df61-93ca-11d2-aa0d-00e098032b8c'; // EFI_GLOBAL_VARIABLE
const START_ID = 0x55aa;
const VAR_ADDED = 0x3f;
/** A variable is deleted by clearing this bit of its state, as flash writes only clear bits. */
const VAR_DELETED_BIT = 0x02;
const HEADER = 60; // AUTHENTICATED_VARIABLE_HEADER
const STORE_HEADER = 28; // VARIABLE_STORE_HEADER
const NV_BS_RT = 0x7;
/** The boot option number the simulated BMC writes its HTTP boot URI to. */
const HTTP_BOOT_OPTION = 0x0100;

export class VariableStoreError extends Error {}

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  // The first three fields are little-endian.
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

const utf16z = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf16le');
const align4 = (n: number): number => (n + 3) & ~3;

interface StoreBounds {
  /** Offset of the first variable, and of the first byte past the store. */
  first: number;
  limit: number;
}

function bounds(fd: Buffer): StoreBounds {
  if (fd.length < 64 || fd.toString('latin1', 40, 44) !== '_FVH') throw new VariableStoreError('not a UEFI firmware volume (no _FVH signature)');
  const store = fd.readUInt16LE(48);
  if (!fd.subarray(store, store + 16).equals(guidBytes(STORE_GUID))) throw new VariableStoreError('the firmware volume holds no authenticated variable store');
  return { first: store + STORE_HEADER, limit: store + fd.readUInt32LE(store + 16) };
}

export interface StoredVariable {
  offset: number;
  /** Where the next variable starts. */
  end: number;
  state: number;
  name: string;
  guid: Buffer;
  data: Buffer;
}

export function listVariables(fd: Buffer): StoredVariable[] {
  const { first, limit } = bounds(fd);
  const out: StoredVariable[] = [];
  let at = first;
  while (at + HEADER <= limit && fd.readUInt16LE(at) === START_ID) {
    const nameSize = fd.readUInt32LE(at + 36);
    const dataSize = fd.readUInt32LE(at + 40);
    const name = fd.toString('utf16le', at + HEADER, at + HEADER + nameSize).replace(/\0$/, '');
    const end = align4(at + HEADER + nameSize + dataSize);
    out.push({ offset: at, end, state: fd[at + 2]!, name, guid: fd.subarray(at + 44, at + 60), data: fd.subarray(at + HEADER + nameSize, at + HEADER + nameSize + dataSize) });
    at = end;
  }
  return out;
}

const isLive = (v: StoredVariable): boolean => v.state === VAR_ADDED || v.state === (VAR_ADDED & 0xfe);

/** The live value of a variable, if any. */
export function readVariable(fd: Buffer, name: string, guid = GLOBAL_VARIABLE): Buffer | undefined {
  const g = guidBytes(guid);
  return listVariables(fd).find((v) => isLive(v) && v.name === name && v.guid.equals(g))?.data;
}

/** Replaces a variable: the old copy is marked deleted, the new one appended in the free space. */
function setVariable(fd: Buffer, name: string, guid: string, attributes: number, data: Buffer): void {
  const g = guidBytes(guid);
  const vars = listVariables(fd);
  for (const v of vars) if (isLive(v) && v.name === name && v.guid.equals(g)) fd[v.offset + 2] = v.state & ~VAR_DELETED_BIT;
  const { first, limit } = bounds(fd);
  const at = vars.at(-1)?.end ?? first;
  const nameBytes = utf16z(name);
  if (at + HEADER + nameBytes.length + data.length > limit) throw new VariableStoreError(`the variable store is full: no room for ${name} (${data.length} bytes)`);
  const header = Buffer.alloc(HEADER);
  header.writeUInt16LE(START_ID, 0);
  header[2] = VAR_ADDED;
  header.writeUInt32LE(attributes, 4);
  header.writeUInt32LE(nameBytes.length, 36);
  header.writeUInt32LE(data.length, 40);
  g.copy(header, 44);
  Buffer.concat([header, nameBytes, data]).copy(fd, at);
}

function node(type: number, subType: number, body: Buffer): Buffer {
  const head = Buffer.from([type, subType, 0, 0]);
  head.writeUInt16LE(4 + body.length, 2);
  return Buffer.concat([head, body]);
}

/** PciRoot(0x0)/Pci(device,0x0)/MAC(mac,0x1)/IPv4(0.0.0.0, DHCP)/Uri(uri): the path HttpBootDxe's NIC child carries, with a URI. */
export function httpBootDevicePath(pciDevice: number, mac: string, uri: string): Buffer {
  const acpi = Buffer.alloc(8);
  acpi.writeUInt32LE(0x0a0341d0, 0); // EISA PNP0A03, the PCI root bridge
  const macBody = Buffer.alloc(33);
  Buffer.from(mac.replace(/:/g, ''), 'hex').copy(macBody);
  macBody[32] = 1; // IfType: Ethernet
  return Buffer.concat([
    node(2, 1, acpi),
    node(1, 1, Buffer.from([0, pciDevice])),
    node(3, 11, macBody),
    node(3, 12, Buffer.alloc(23)),
    node(3, 24, Buffer.from(uri, 'latin1')),
    node(0x7f, 0xff, Buffer.alloc(0)),
  ]);
}

/** EFI_LOAD_OPTION: active, its description, its device path. */
function loadOption(description: string, devicePath: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32LE(1, 0); // LOAD_OPTION_ACTIVE
  head.writeUInt16LE(devicePath.length, 4);
  return Buffer.concat([head, utf16z(description), devicePath]);
}

/** Writes the boot option for `uri` on the NIC at PCI slot `pciDevice` and sets BootNext to it (the store is a Buffer of the whole file). */
export function setHttpBootNext(fd: Buffer, opts: { pciDevice: number; mac: string; uri: string }): void {
  const number = HTTP_BOOT_OPTION.toString(16).toUpperCase().padStart(4, '0');
  setVariable(fd, `Boot${number}`, GLOBAL_VARIABLE, NV_BS_RT, loadOption(`BMC HTTP boot ${opts.uri}`, httpBootDevicePath(opts.pciDevice, opts.mac, opts.uri)));
  const next = Buffer.alloc(2);
  next.writeUInt16LE(HTTP_BOOT_OPTION);
  setVariable(fd, 'BootNext', GLOBAL_VARIABLE, NV_BS_RT, next);
}
