// Full Sensor Records (SDR type 01h, IPMI 2.0 table 43-1) and the linear reading conversion
// y = (M·x + B·10^Bexp)·10^Rexp, for the simulator's repository and the driver's sensor reads.

export interface FullSensor {
  recordId: number;
  sensorNumber: number;
  entityId: number;
  /** Sensor type (0x01 temperature, 0x02 voltage, 0x04 fan...). */
  sensorType: number;
  /** Base unit (1 degrees C, 4 volts, 18 RPM). */
  unit: number;
  m: number;
  b: number;
  bExp: number;
  rExp: number;
  /** Raw thresholds: lower non-recoverable, critical, non-critical, upper non-critical, critical, non-recoverable. */
  thresholds: [number, number, number, number, number, number];
  name: string;
}

export const SENSOR_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x01: 'Temperature', 0x02: 'Voltage', 0x03: 'Current', 0x04: 'Fan', 0x07: 'Processor', 0x08: 'Power Supply',
};
export const UNIT_NAMES: Readonly<Record<number, string>> = { 1: 'degrees C', 4: 'Volts', 5: 'Amps', 6: 'Watts', 18: 'RPM' };

const signed = (value: number, bits: number) => (value & (1 << (bits - 1)) ? value - (1 << bits) : value);

export function encodeFullSensor(s: FullSensor): Buffer {
  const name = Buffer.from(s.name, 'ascii').subarray(0, 16);
  const body = Buffer.alloc(43 + name.length);
  const [lnr, lc, lnc, unc, uc, unr] = s.thresholds;
  body[0] = 0x20; // owner: the BMC
  body[1] = 0; // owner LUN
  body[2] = s.sensorNumber;
  body[3] = s.entityId;
  body[4] = 1; // entity instance
  body[5] = 0x7f; // initialisation: scanning and events enabled
  body[6] = 0x44; // capabilities: auto re-arm, no hysteresis, thresholds readable
  body[7] = s.sensorType;
  body[8] = 0x01; // event/reading type: threshold
  body.writeUInt16LE(0x0000, 9); // assertion event mask
  body.writeUInt16LE(0x0000, 11); // deassertion event mask
  body.writeUInt16LE(0x3f3f, 13); // settable/readable threshold masks
  body[15] = 0x00; // unsigned analog data
  body[16] = s.unit;
  body[17] = 0;
  body[18] = 0; // linear
  body[19] = s.m & 0xff;
  body[20] = (s.m >> 2) & 0xc0;
  body[21] = s.b & 0xff;
  body[22] = (s.b >> 2) & 0xc0;
  body[23] = 0;
  body[24] = ((s.rExp & 0x0f) << 4) | (s.bExp & 0x0f);
  body[25] = 0; // analog characteristics
  body[26] = 0; body[27] = 0; body[28] = 0; // nominal, normal max/min
  body[29] = 0xff; body[30] = 0x00; // sensor max/min
  body[31] = unr; body[32] = uc; body[33] = unc; body[34] = lnr; body[35] = lc; body[36] = lnc;
  body[37] = 0; body[38] = 0; // hysteresis
  body[41] = 0; // OEM
  body[42] = 0xc0 | name.length; // 8-bit ASCII id string
  name.copy(body, 43);
  const header = Buffer.alloc(5);
  header.writeUInt16LE(s.recordId, 0);
  header[2] = 0x51;
  header[3] = 0x01;
  header[4] = body.length;
  return Buffer.concat([header, body]);
}

export interface DecodedSensor {
  recordId: number;
  sensorNumber: number;
  sensorType: number;
  unit: number;
  name: string;
  /** Event/reading type 01h: the sensor has thresholds, and Get Sensor Reading says which it is past. */
  threshold: boolean;
  /** Converts a raw reading to the unit. */
  convert(raw: number): number;
}

/** Decodes a full sensor record; null for other record types and truncated records. */
export function decodeFullSensor(record: Buffer): DecodedSensor | null {
  if (record.length < 48 || record[3] !== 0x01) return null;
  const b = record.subarray(5);
  const m = signed(b[19] | ((b[20] & 0xc0) << 2), 10);
  const bb = signed(b[21] | ((b[22] & 0xc0) << 2), 10);
  const rExp = signed(b[24] >> 4, 4);
  const bExp = signed(b[24] & 0x0f, 4);
  const analogFormat = b[15] >> 6;
  const nameLength = b[42] & 0x1f;
  return {
    recordId: record.readUInt16LE(0),
    sensorNumber: b[2],
    sensorType: b[7],
    unit: b[16],
    threshold: b[8] === 0x01,
    name: b.subarray(43, 43 + nameLength).toString('ascii'),
    convert(raw: number) {
      const x = analogFormat === 2 ? signed(raw, 8) : analogFormat === 1 ? (raw & 0x80 ? -(~raw & 0x7f) : raw) : raw;
      return Number(((m * x + bb * 10 ** bExp) * 10 ** rExp).toFixed(6));
    },
  };
}
