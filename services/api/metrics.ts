// GET /metrics on the API's port: this process's registry (common/metrics.ts) and the fleet read
// from the database at each scrape (nodes by provision state, power state, maintenance and fault),
// so any API process answers for the whole fleet. Request latency is observed here by route
// pattern, never the raw URL (node names and UUIDs would make a series per node).
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { apiRequestDuration, registry } from '../../common/metrics.ts';
import type { Database } from '../../db/index.ts';
import { fleetCounts } from '../../db/nodes.ts';

function fleetRegistry(db: Database): Registry {
  const fleet = new Registry();
  let counts: Promise<Awaited<ReturnType<typeof fleetCounts>>> | null = null;
  // One query per scrape for all four gauges: the first collector starts it, the others share it.
  const read = () => (counts ??= fleetCounts(db.knex).finally(() => setImmediate(() => { counts = null; })));
  const gauge = (name: string, help: string, label: string | null, key: (r: Awaited<ReturnType<typeof fleetCounts>>[number]) => string | null) =>
    new Gauge({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [fleet],
      async collect() {
        this.reset();
        const sums = new Map<string, number>();
        for (const r of await read()) {
          const k = key(r);
          if (k !== null) sums.set(k, (sums.get(k) ?? 0) + r.count);
        }
        if (!label) this.set(sums.get('') ?? 0);
        else for (const [k, n] of sums) this.set({ [label]: k }, n);
      },
    });
  gauge('anvil_nodes_by_provision_state', 'Nodes by provision state', 'provision_state', (r) => r.provision_state);
  gauge('anvil_nodes_by_power_state', 'Nodes by power state (none: not read yet)', 'power_state', (r) => r.power_state ?? 'none');
  gauge('anvil_nodes_in_maintenance', 'Nodes in maintenance', null, (r) => (r.maintenance ? '' : null));
  gauge('anvil_nodes_by_fault', "Nodes by health: Ironic's fault (none: healthy)", 'fault', (r) => r.fault ?? 'none');
  return fleet;
}

export function registerMetrics(app: FastifyInstance, db: Database): void {
  const fleet = fleetRegistry(db);
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url === '/metrics') return;
    apiRequestDuration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_req, reply) => {
    const merged = Registry.merge([registry, fleet]);
    reply.type(merged.contentType);
    return merged.metrics();
  });
}
