// Node health (API 1.109) from the BMC's threshold sensors, beside the chassis status fault bits: a
// sensor at or past a critical or non-recoverable threshold makes the node Critical, past a
// non-critical one a Warning. A server's BMC holds tens of threshold sensors and each reading is a
// command ipmi_min_command_interval apart from the next, so the power sync reads them at most about
// every ipmi_health_sensor_interval per node and keeps the verdict in between. The SDR repository is
// walked once and its threshold sensors remembered (walked again when a sensor is no longer there),
// and the next read is due at a random point of half to one and a half intervals, so the nodes a
// conductor read in one sweep are not all read again in one later sweep. Reads go through the native
// client where the node allows it, as the power-state read does, not an ipmitool process a command.
import { BoundedMemo } from '../../common/bounded-memo.ts';
import type { NodeRecord } from '../../db/nodes.ts';
import type { NodeHealth } from '../interfaces.ts';
import type { IpmiInfo } from './driver-info.ts';
import { Completion } from './protocol/constants.ts';
import { readingHealth, worstHealth } from './protocol/sensor-state.ts';
import { fullSensors, readSensor } from './sdr-repository.ts';

interface SensorVerdict {
  /** When the sensors were last read (ms since the epoch). */
  readAt: number;
  /** This node's share of the interval before the next read, 0.5–1.5. */
  spread: number;
  health: NodeHealth | null;
  /** The threshold sensors' numbers; null until the repository is walked. */
  sensors: number[] | null;
}

/** By node UUID; past the bound (more nodes than one conductor holds) it starts over. */
const verdicts = new BoundedMemo<SensorVerdict>(100_000);

/** The worst state of the node's threshold sensors (null: none readable, or none read for this node). */
export async function sensorHealth(node: NodeRecord, info: IpmiInfo): Promise<NodeHealth | null> {
  if (info.healthSensorIntervalSec === 0) return null;
  const last = verdicts.get(node.uuid, () => ({ readAt: Number.NEGATIVE_INFINITY, spread: 1, health: null, sensors: null }));
  if (Date.now() - last.readAt < info.healthSensorIntervalSec * 1000 * last.spread) return last.health;
  // Marked read before the read: a BMC whose read fails is asked after the interval, not at every sync.
  last.readAt = Date.now();
  last.spread = 0.5 + Math.random();
  last.health = null;
  last.sensors ??= (await fullSensors(info, 'read')).filter((s) => s.threshold).map((s) => s.sensorNumber);
  const healths: (NodeHealth | null)[] = [];
  for (const sensor of last.sensors) {
    const res = await readSensor(info, sensor, 'read');
    // The repository changed under us: walked again at the next read.
    if (res.completion === Completion.notPresent) last.sensors = null;
    // A sensor the BMC cannot read now says nothing about the node.
    if (res.completion === 0) healths.push(readingHealth(res.data));
  }
  last.health = worstHealth(healths);
  return last.health;
}
