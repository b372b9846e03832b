// BMC sensor readings as Prometheus gauges (metrics.sensors), named and labelled as
// ironic-prometheus-exporter names them from Ironic's sensor data notifications, so its dashboards
// and alerts work: Redfish Thermal/Power as baremetal_temp_<context>_celsius, baremetal_fan_status
// and baremetal_power_status (0 healthy, 1 not); IPMI SDR readings as baremetal_<sensor>[_unit];
// baremetal_last_payload_timestamp_seconds per node. The conductor reads the nodes it owns (not
// in maintenance, not locked) every metrics.sensorInterval through the management interface.
import { Gauge } from 'prom-client';
import { errorMessage } from '../../common/errors.ts';
import { registry } from '../../common/metrics.ts';
import { UNSTABLE_STATES } from '../../common/states.ts';
import { getNodeById, nodesForPowerSync, type NodeRecord } from '../../db/nodes.ts';
import type { SensorReading } from '../../drivers/interfaces.ts';
import { openReadOnlyTask } from './context.ts';
import { untilAborted, type Runtime } from './runtime.ts';

const LABELS = ['node_name', 'node_uuid', 'instance_uuid', 'entity_id', 'sensor_id'] as const;
type Labels = Record<(typeof LABELS)[number], string>;
interface Sample { name: string; labels: Labels; value: number }

/** The last readings of each node, by node UUID. */
const readings = new Map<string, { at: number; node: Labels; samples: Sample[] }>();
const gauges = new Map<string, Gauge>();

function gaugeFor(name: string): void {
  if (gauges.has(name) || registry.getSingleMetric(name)) return;
  gauges.set(name, new Gauge({
    name,
    help: `BMC sensor reading (${name}), as ironic-prometheus-exporter exposes it`,
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of readings.values()) for (const s of r.samples) if (s.name === name) this.set(s.labels, s.value);
    },
  }));
}

new Gauge({
  name: 'baremetal_last_payload_timestamp_seconds',
  help: 'When the sensors of a node were last read',
  labelNames: ['node_name', 'node_uuid', 'instance_uuid'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const r of readings.values()) this.set({ node_name: r.node.node_name, node_uuid: r.node.node_uuid, instance_uuid: r.node.instance_uuid }, Math.floor(r.at / 1000));
  },
});

const metricName = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '');
const health = (v: unknown) => (v === 'OK' ? 0 : 1);

/** ironic-prometheus-exporter's names for one node's readings (Redfish or IPMI shaped). */
export function sensorSamples(node: Pick<NodeRecord, 'uuid' | 'name' | 'instance_uuid'>, data: SensorReading): Sample[] {
  const base = { node_name: node.name ?? '', node_uuid: node.uuid, instance_uuid: node.instance_uuid ?? '' };
  const out: Sample[] = [];
  const push = (name: string, entity: string, sensor: string, value: unknown) => {
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number.parseFloat(value) : Number.NaN;
    if (Number.isFinite(n)) out.push({ name, labels: { ...base, entity_id: entity, sensor_id: sensor }, value: n });
  };
  for (const [category, sensors] of Object.entries(data)) {
    for (const [id, s] of Object.entries(sensors)) {
      if (!s || typeof s !== 'object' || Array.isArray(s)) continue;
      const r = s as Record<string, unknown>;
      if (typeof r['Sensor Reading'] === 'string') {
        // IPMI: "<value> (+/- 0) <unit>"; words of the sensor's name without digits make the metric's name.
        const reading = r['Sensor Reading'];
        const words = String(r['Sensor ID'] ?? id).replace(/\(.*\)/, '').replace(/\d+/g, '').trim();
        const unit = metricName(reading.split(/\s+/).slice(3).join('_'));
        const cat = category.toLowerCase();
        const name = cat === 'temperature' ? `baremetal_${metricName(words)}_celsius`
          : cat === 'fan' ? `baremetal_fan${unit ? `_${unit}` : ''}`
            : cat === 'power supply' || cat === 'power' ? `baremetal_power_${metricName(words)}`
              : `baremetal_${metricName(words)}${unit && cat === 'voltage' ? `_${unit}` : ''}`;
        push(name, category, String(r['Sensor ID'] ?? id), reading.split(/\s+/)[0]);
      } else if (category === 'Temperature') {
        const context = typeof r.physical_context === 'string' ? r.physical_context : 'unknown';
        push(`baremetal_temp_${metricName(context)}_celsius`, context, String(r.identity ?? id), r.reading_celsius);
      } else if (category === 'Fan') {
        push('baremetal_fan_status', typeof r.physical_context === 'string' ? r.physical_context : 'Fan', String(r.identity ?? id), health(r.health));
      } else if (category === 'Power') {
        push('baremetal_power_status', 'PSU', id, health(r.health));
      }
    }
  }
  return out;
}

/** Reads the sensors of the nodes this conductor owns, a few at a time; a BMC that fails is logged and skipped. */
export async function readSensors(rt: Runtime): Promise<number> {
  const owned = (await nodesForPowerSync(rt.db.knex, rt.group, UNSTABLE_STATES)).filter((n) => rt.owns(n));
  const seen = new Set(owned.map((n) => n.uuid));
  for (const uuid of readings.keys()) if (!seen.has(uuid)) readings.delete(uuid);
  let read = 0;
  const one = async (id: number) => {
    const node = await getNodeById(rt.db.knex, id);
    if (!node || node.maintenance || node.reservation) return;
    const signal = AbortSignal.any([rt.stopSignal, AbortSignal.timeout(rt.config.conductor.powerStateChangeTimeout * 1000)]);
    const ctx = await openReadOnlyTask(rt, node, signal);
    const management = ctx.driver.management;
    if (!management.getSensorsData) return;
    try {
      const data = await untilAborted(management.getSensorsData(ctx), signal);
      const samples = sensorSamples(node, data);
      for (const s of samples) gaugeFor(s.name);
      readings.set(node.uuid, { at: Date.now(), node: { node_name: node.name ?? '', node_uuid: node.uuid, instance_uuid: node.instance_uuid ?? '', entity_id: '', sensor_id: '' }, samples });
      read++;
    } catch (err) {
      rt.logger.debug({ node: node.uuid }, `reading sensors failed: ${errorMessage(err)}`);
    }
  };
  for (let i = 0; i < owned.length && !rt.stopSignal.aborted; i += 16) await Promise.all(owned.slice(i, i + 16).map((n) => one(n.id)));
  return read;
}
