// Node health from threshold sensors: the SDR repository is walked once, read again only after a
// sensor answers "not present" (the BMC's repository changed), and the verdict is kept between reads.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { NodeRecord } from '../../../db/nodes.ts';
import type { IpmiInfo } from '../../../drivers/ipmi/driver-info.ts';
import { Completion } from '../../../drivers/ipmi/protocol/constants.ts';
import type { DecodedSensor } from '../../../drivers/ipmi/protocol/sdr.ts';
import { ThresholdBit } from '../../../drivers/ipmi/protocol/sensor-state.ts';

const sdr = vi.hoisted(() => ({ fullSensors: vi.fn(), readSensor: vi.fn() }));
vi.mock('../../../drivers/ipmi/sdr-repository.ts', () => sdr);
const { sensorHealth } = await import('../../../drivers/ipmi/sensor-health.ts');

const INTERVAL_SEC = 60;
const info = { healthSensorIntervalSec: INTERVAL_SEC } as IpmiInfo;
const node = (uuid: string) => ({ uuid }) as NodeRecord;
const sensor = (sensorNumber: number): DecodedSensor => ({ recordId: sensorNumber, sensorNumber, sensorType: 1, unit: 1, name: `s${sensorNumber}`, threshold: true, convert: (raw) => raw });
/** A Get Sensor Reading answer: scanning enabled, the comparison status given. */
const reading = (status: number) => ({ completion: 0, data: Buffer.from([50, 0x40, status]) });
const notPresent = { completion: Completion.notPresent, data: Buffer.alloc(0) };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
  vi.resetAllMocks();
});

it('walks the repository again only after a sensor is no longer there, and keeps the verdict in between', async () => {
  sdr.fullSensors.mockResolvedValueOnce([sensor(1), sensor(2)]).mockResolvedValueOnce([sensor(1), sensor(3)]);
  sdr.readSensor.mockImplementation(async (_info: IpmiInfo, n: number) => (n === 2 ? notPresent : n === 3 ? reading(ThresholdBit.upperCritical) : reading(ThresholdBit.upperNonCritical)));
  const n = node('00000000-0000-4000-8000-0000000000a1');

  // Sensor 2 is gone: sensor 1's Warning stands, and the repository is to be walked again.
  expect(await sensorHealth(n, info)).toBe('Warning');
  expect(sdr.fullSensors).toHaveBeenCalledTimes(1);
  // Within the interval's smallest share (half of it) nothing is read: the verdict is kept.
  vi.setSystemTime(1_000_000 + (INTERVAL_SEC * 1000) / 2 - 1);
  expect(await sensorHealth(n, info)).toBe('Warning');
  expect(sdr.readSensor).toHaveBeenCalledTimes(2);
  // Past the largest share the sensors are read again, from a new walk that finds sensor 3.
  vi.setSystemTime(1_000_000 + INTERVAL_SEC * 1000 * 1.5 + 1);
  expect(await sensorHealth(n, info)).toBe('Critical');
  expect(sdr.fullSensors).toHaveBeenCalledTimes(2);
  expect(sdr.readSensor.mock.calls.map((c) => c[1])).toEqual([1, 2, 1, 3]);
});

it('does not walk again while every sensor is there', async () => {
  sdr.fullSensors.mockResolvedValue([sensor(1)]);
  sdr.readSensor.mockResolvedValue(reading(0));
  const n = node('00000000-0000-4000-8000-0000000000a2');
  expect(await sensorHealth(n, info)).toBe('OK');
  vi.setSystemTime(1_000_000 + INTERVAL_SEC * 1000 * 1.5 + 1);
  expect(await sensorHealth(n, info)).toBe('OK');
  expect(sdr.fullSensors).toHaveBeenCalledTimes(1);
  expect(sdr.readSensor).toHaveBeenCalledTimes(2);
});
