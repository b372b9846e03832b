// Codecs of the chassis data that both the driver and the simulator read and write: the boot flags
// (System Boot Options parameter 5, IPMI 2.0 table 28-14) and the power bit of Get Chassis Status.
import { BootSelector } from './constants.ts';

export interface BootFlags {
  /** The BMC applies the flags at the next boot only while this is set. */
  valid: boolean;
  /** Apply to all future boots, not only the next one. */
  persistent: boolean;
  /** EFI boot instead of PC-compatible (legacy BIOS). */
  efi: boolean;
  /** Device selector (BootSelector). */
  selector: number;
  /** The other bits of data bytes 2–5 (CMOS clear, console redirection, ...), kept as they were sent. */
  rest: Buffer;
}

export function decodeBootFlags(data: Buffer): BootFlags | null {
  if (data.length < 2) return null;
  const rest = Buffer.alloc(4);
  data.subarray(1, 5).copy(rest);
  rest[0] &= ~0x3c;
  return { valid: (data[0] & 0x80) !== 0, persistent: (data[0] & 0x40) !== 0, efi: (data[0] & 0x20) !== 0, selector: (data[1] >> 2) & 0x0f, rest };
}

export function encodeBootFlags(f: Pick<BootFlags, 'valid' | 'persistent' | 'efi' | 'selector'> & { rest?: Buffer }): Buffer {
  const out = Buffer.alloc(5);
  f.rest?.subarray(0, 4).copy(out, 1);
  out[0] = (f.valid ? 0x80 : 0) | (f.persistent ? 0x40 : 0) | (f.efi ? 0x20 : 0);
  out[1] = (out[1] & ~0x3c) | ((f.selector & 0x0f) << 2);
  return out;
}

/** Boot devices by the names Anvil (and Ironic) use. */
export const BOOT_DEVICE_SELECTORS: Readonly<Record<string, number>> = {
  pxe: BootSelector.pxe, disk: BootSelector.disk, safe: BootSelector.safe, cdrom: BootSelector.cdrom, bios: BootSelector.bios,
};

export function selectorName(selector: number): string | null {
  return Object.entries(BOOT_DEVICE_SELECTORS).find(([, s]) => s === selector)?.[0] ?? null;
}

/** Fault bits of Get Chassis Status (IPMI 2.0 table 28-3): byte 1 current power state, byte 3 misc chassis state. */
export const ChassisFault = {
  /** byte 1 */ powerOverload: 0x02, powerFault: 0x08, powerControlFault: 0x10,
  /** byte 3 */ driveFault: 0x04, coolingFault: 0x08,
} as const;

/**
 * The chassis' health from Get Chassis Status: a power fault, power control fault or overload is
 * Critical (the machine may not stay up), a drive or cooling/fan fault a Warning, none OK.
 */
export function chassisHealth(chassisStatus: Buffer): 'OK' | 'Warning' | 'Critical' {
  const power = chassisStatus[0] ?? 0;
  const misc = chassisStatus[2] ?? 0;
  if (power & (ChassisFault.powerOverload | ChassisFault.powerFault | ChassisFault.powerControlFault)) return 'Critical';
  if (misc & (ChassisFault.driveFault | ChassisFault.coolingFault)) return 'Warning';
  return 'OK';
}

export function powerIsOn(chassisStatus: Buffer): boolean {
  return (chassisStatus[0] & 0x01) !== 0;
}
