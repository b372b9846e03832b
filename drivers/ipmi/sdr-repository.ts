// The BMC's SDR repository walked for its full sensor records, and one sensor's reading: what the
// sensor data (metrics) and the node health from threshold sensors both read.
import { Cmd, Completion, NetFn } from './protocol/constants.ts';
import { decodeFullSensor, type DecodedSensor } from './protocol/sdr.ts';
import type { IpmiInfo } from './driver-info.ts';
import { ipmiRequest, type RequestKind } from './client.ts';
import { expectOk } from './transport.ts';

/** Every full sensor record of the repository, in its order (other record types are skipped; none without a repository). */
export async function fullSensors(info: IpmiInfo, kind: RequestKind = 'change'): Promise<DecodedSensor[]> {
  const out: DecodedSensor[] = [];
  const reserved = await ipmiRequest(info, kind, NetFn.storage, Cmd.reserveSdrRepository);
  // A BMC without a repository (VirtualBMC's pyghmi) has no sensors to read, which is no failure.
  if (reserved.completion === Completion.invalidCommand) return out;
  const reservation = expectOk(reserved, 'Reserve SDR Repository', info.target);
  let recordId = 0;
  for (let guard = 0; recordId !== 0xffff && guard < 1024; guard++) {
    const { next, record } = await readSdr(info, kind, reservation, recordId);
    recordId = next;
    const sensor = decodeFullSensor(record);
    if (sensor) out.push(sensor);
  }
  return out;
}

/** Get Sensor Reading: its completion code and data (reading, flags, threshold comparison status...). */
export function readSensor(info: IpmiInfo, sensorNumber: number, kind: RequestKind = 'change') {
  return ipmiRequest(info, kind, NetFn.sensor, Cmd.getSensorReading, [sensorNumber]);
}

/** One SDR: the whole record at once, or in 16-byte pieces when the BMC cannot return that much. */
async function readSdr(info: IpmiInfo, kind: RequestKind, reservation: Buffer, recordId: number): Promise<{ next: number; record: Buffer }> {
  const get = (offset: number, count: number) => ipmiRequest(info, kind, NetFn.storage, Cmd.getSdr,
    [reservation[0], reservation[1], recordId & 0xff, recordId >> 8, offset, count]);
  const whole = await get(0, 0xff);
  if (whole.completion === 0 && whole.data.length >= 7) return { next: whole.data.readUInt16LE(0), record: whole.data.subarray(2) };
  const head = expectOk(await get(0, 5), 'Get SDR', info.target);
  const next = head.readUInt16LE(0);
  const length = head[2 + 4];
  const parts = [head.subarray(2)];
  for (let offset = 5; offset < 5 + length; offset += 16) {
    parts.push(expectOk(await get(offset, Math.min(16, 5 + length - offset)), 'Get SDR', info.target).subarray(2));
  }
  return { next, record: Buffer.concat(parts) };
}
