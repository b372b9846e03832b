// The process's Prometheus metrics (prom-client): one registry per process, each metric defined once
// here and counted where its event happens (the API's hooks, the conductor, the drivers' BMC clients,
// the netboot servers, the image cache, the notifier). What a process serves is this registry: the
// API on its own port at /metrics, a conductor or netboot process on metrics.listen (see
// services/metrics-server.ts). Gauges read at scrape time (the fleet from the database, the
// conductors' queues) register a collector instead of being set.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'anvil_' });

/** Seconds, from a quick BMC read to a slow image write. */
const SHORT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OPERATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

export const apiRequestDuration = new Histogram({
  name: 'anvil_api_request_duration_seconds',
  help: 'API requests by method, route pattern (never the raw URL) and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: SHORT_BUCKETS,
  registers: [registry],
});

export const bmcRequestDuration = new Histogram({
  name: 'anvil_bmc_request_duration_seconds',
  help: 'Calls to BMCs by driver (redfish, ipmi), vendor (as the BMC names itself, or unknown) and outcome',
  labelNames: ['driver', 'vendor', 'outcome'] as const,
  buckets: SHORT_BUCKETS,
  registers: [registry],
});

export const bmcErrors = new Counter({
  name: 'anvil_bmc_errors_total',
  help: 'BMC calls that failed (no answer, an error status, a refused command) by driver and vendor',
  labelNames: ['driver', 'vendor'] as const,
  registers: [registry],
});

/** Observes one BMC call: its duration, and an error when it throws or `failed` says it failed. */
export async function timeBmcCall<T>(labels: () => { driver: string; vendor: string }, call: () => Promise<T>, failed: (result: T) => boolean = () => false): Promise<T> {
  const end = bmcRequestDuration.startTimer();
  try {
    const result = await call();
    const bad = failed(result);
    end({ ...labels(), outcome: bad ? 'error' : 'ok' });
    if (bad) bmcErrors.inc(labels());
    return result;
  } catch (err) {
    end({ ...labels(), outcome: 'error' });
    bmcErrors.inc(labels());
    throw err;
  }
}

export const operationDuration = new Histogram({
  name: 'anvil_provision_operation_duration_seconds',
  help: 'Deploy, clean and inspect operations from their first state to the state they ended in, by result (success, failure)',
  labelNames: ['operation', 'result'] as const,
  buckets: OPERATION_BUCKETS,
  registers: [registry],
});

export const conductorClaims = new Counter({
  name: 'anvil_conductor_claims_total',
  help: 'Node locks taken by a conductor to work a node',
  labelNames: ['conductor'] as const,
  registers: [registry],
});

export const conductorTakeovers = new Counter({
  name: 'anvil_conductor_takeovers_total',
  help: "Nodes whose lock a conductor took back from a dead conductor (or from its own previous run), by whether work was interrupted",
  labelNames: ['conductor', 'interrupted'] as const,
  registers: [registry],
});

/** What a running conductor reports at each scrape. */
export interface ConductorGauges {
  host: string;
  queued(): number;
  busy(): number;
  workers: number;
}
const conductors = new Set<ConductorGauges>();

/** A conductor's queue and workers, while it runs; returns the function that stops reporting it. */
export function reportConductor(c: ConductorGauges): () => void {
  conductors.add(c);
  return () => conductors.delete(c);
}

new Gauge({
  name: 'anvil_conductor_queue_depth',
  help: 'Nodes with work found by a conductor, waiting for a free worker',
  labelNames: ['conductor'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const c of conductors) this.set({ conductor: c.host }, c.queued());
  },
});

new Gauge({
  name: 'anvil_conductor_workers_busy',
  help: 'Workers of a conductor working a node now',
  labelNames: ['conductor'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const c of conductors) this.set({ conductor: c.host }, c.busy());
  },
});

new Gauge({
  name: 'anvil_conductor_workers',
  help: 'Workers of a conductor (conductor.workers)',
  labelNames: ['conductor'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const c of conductors) this.set({ conductor: c.host }, c.workers);
  },
});

export const dhcpMessages = new Counter({
  name: 'anvil_netboot_dhcp_messages_total',
  help: 'DHCP messages by direction (in, out), message type and whether a relay carried them',
  labelNames: ['direction', 'type', 'relayed'] as const,
  registers: [registry],
});

export const dhcpIgnored = new Counter({
  name: 'anvil_netboot_dhcp_ignored_total',
  help: 'DHCP requests left unanswered (not a provisioned MAC, no subnet, no free address...: the debug log says which)',
  registers: [registry],
});

export const dhcp6Messages = new Counter({
  name: 'anvil_netboot_dhcp6_messages_total',
  help: 'DHCPv6 messages by direction (in, out), client message type and whether a relay carried them',
  labelNames: ['direction', 'type', 'relayed'] as const,
  registers: [registry],
});

export const dhcp6Dropped = new Counter({
  name: 'anvil_netboot_dhcp6_dropped_total',
  help: 'DHCPv6 messages not answered, by reason kind (malformed: failed to decode; ignored: not a provisioned MAC, no subnet...: the debug log says which)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const tftpTransfers = new Counter({
  name: 'anvil_netboot_tftp_transfers_total',
  help: 'TFTP read requests by result (complete, not found, error)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const tftpBytes = new Counter({
  name: 'anvil_netboot_tftp_bytes_total',
  help: 'Bytes sent by the TFTP server',
  registers: [registry],
});

export const httpBootRequests = new Counter({
  name: 'anvil_netboot_http_requests_total',
  help: 'Requests to the HTTP boot server by kind (ipxe script, file) and status code',
  labelNames: ['kind', 'status'] as const,
  registers: [registry],
});

export const imageCacheLookups = new Counter({
  name: 'anvil_image_cache_lookups_total',
  help: 'Image cache lookups by result (hit, miss)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const notificationsPublished = new Counter({
  name: 'anvil_notifications_published_total',
  help: 'Versioned notifications confirmed by the message bus, by priority',
  labelNames: ['priority'] as const,
  registers: [registry],
});

export const notificationsDropped = new Counter({
  name: 'anvil_notifications_dropped_total',
  help: 'Versioned notifications dropped because the bus was unreachable and the buffer full, or refused by the bus',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const notificationsBuffered = new Gauge({
  name: 'anvil_notifications_buffered',
  help: 'Notifications waiting in the bounded buffer for the bus',
  registers: [registry],
});

/** The exposition text of this process's registry. */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
