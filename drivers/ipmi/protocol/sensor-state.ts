// The threshold comparison status of Get Sensor Reading (IPMI 2.0 section 35.14, response byte 4,
// here data[2]): which of a threshold sensor's six thresholds its reading is at or past. The
// simulator writes it from a raw reading, the driver reads node health from it.
import type { NodeHealth } from '../../interfaces.ts';

/** Bits of the comparison status; a non-critical state is a Warning, critical and non-recoverable are Critical. */
export const ThresholdBit = {
  lowerNonCritical: 0x01, lowerCritical: 0x02, lowerNonRecoverable: 0x04,
  upperNonCritical: 0x08, upperCritical: 0x10, upperNonRecoverable: 0x20,
} as const;
const CRITICAL = ThresholdBit.lowerCritical | ThresholdBit.lowerNonRecoverable | ThresholdBit.upperCritical | ThresholdBit.upperNonRecoverable;
const NON_CRITICAL = ThresholdBit.lowerNonCritical | ThresholdBit.upperNonCritical;

/** Reading flags (data[1]): scanning disabled or reading unavailable mean the status says nothing. */
const SCANNING_ENABLED = 0x40;
const READING_UNAVAILABLE = 0x20;

/**
 * The comparison status of a raw (unsigned) reading against raw thresholds in the SDR's order:
 * lower non-recoverable, critical, non-critical, upper non-critical, critical, non-recoverable.
 */
export function thresholdStatus(raw: number, [lnr, lc, lnc, unc, uc, unr]: readonly number[]): number {
  return (raw <= lnc ? ThresholdBit.lowerNonCritical : 0) | (raw <= lc ? ThresholdBit.lowerCritical : 0)
    | (raw <= lnr ? ThresholdBit.lowerNonRecoverable : 0) | (raw >= unc ? ThresholdBit.upperNonCritical : 0)
    | (raw >= uc ? ThresholdBit.upperCritical : 0) | (raw >= unr ? ThresholdBit.upperNonRecoverable : 0);
}

/** A threshold sensor's health from its Get Sensor Reading data; null when the BMC gave no usable state. */
export function readingHealth(data: Buffer): NodeHealth | null {
  if (data.length < 3 || (data[1] & SCANNING_ENABLED) === 0 || (data[1] & READING_UNAVAILABLE) !== 0) return null;
  if (data[2] & CRITICAL) return 'Critical';
  return data[2] & NON_CRITICAL ? 'Warning' : 'OK';
}

const RANK: Readonly<Record<NodeHealth, number>> = { OK: 0, Warning: 1, Critical: 2 };

/** The worse of the healths given (null when none is known). */
export function worstHealth(healths: readonly (NodeHealth | null)[]): NodeHealth | null {
  let worst: NodeHealth | null = null;
  for (const h of healths) if (h && (!worst || RANK[h] > RANK[worst])) worst = h;
  return worst;
}
