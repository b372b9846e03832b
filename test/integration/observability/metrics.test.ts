// /metrics of a listening API, checked by Debian's promtool (the reference parser and linter of the
// text format) and scraped by a real Prometheus server whose HTTP API the test queries: the fleet by
// state, API latency by route pattern, BMC calls to a simulated iDRAC, operation durations, the
// conductor's queue and claims, BMC sensors as ironic-prometheus-exporter names them, HTTP boot
// and TFTP counters; and a conductor process's own metrics server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { createApiServer } from '../../../services/api/server.ts';
import { Conductor } from '../../../services/conductor/conductor.ts';
import { startMetricsServer } from '../../../services/metrics-server.ts';
import { startHttpBootServer } from '../../../services/netboot/http/server.ts';
import { startTftpServer } from '../../../services/netboot/tftp/server.ts';
import { execa } from 'execa';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { promtoolCheck, startPrometheus, type PrometheusServer, type VectorSample } from '../../helpers/prometheus.ts';
import { testConfig, untilState } from '../conductor/helpers.ts';

const one = (s: VectorSample[]) => (s.length === 1 ? s[0].value : Number.NaN);

/** promtool's lint findings, less those on prom-client's own process gauges (named *_total, which it cannot change). */
async function lint(text: string): Promise<string[]> {
  return (await promtoolCheck(text)).filter((l) => !/^anvil_nodejs_active_(handles|requests|resources)_total non-counter/.test(l));
}

describe('Prometheus metrics', () => {
  let t: TestDatabase;
  let sim: RedfishSimulator;
  let app: FastifyInstance;
  let conductor: Conductor;
  let prom: PrometheusServer;
  let base: string;
  const config = testConfig(`metrics-${process.pid}`, { powerSyncInterval: 0.3 });
  config.metrics.sensors = true;
  config.metrics.sensorInterval = 0.3;
  const host = config.conductor.hostname;

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, { method, headers: { 'X-OpenStack-Ironic-API-Version': '1.95', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const drive = async (uuid: string, target: string, state: string) => {
    expect((await call('PUT', `/v1/nodes/${uuid}/states/provision`, { target })).status).toBe(202);
    const id = (await t.db.knex('nodes').where({ uuid }).first()).id;
    expect((await untilState(t.db, id, state, 60_000)).last_error).toBeNull();
  };

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    sim = await startRedfishSimulator({ systems: 1, flavor: 'idrac', auth: { username: 'admin', password: 'pw' } });
    app = await createApiServer({ db: t.db, config, logger: silentLogger });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    conductor = new Conductor({ db: t.db, config, logger: silentLogger });
    await conductor.start();
    prom = await startPrometheus({ host: '127.0.0.1', port: new URL(base).port ? Number(new URL(base).port) : 80 });
  }, 60_000);
  afterAll(async () => {
    await prom?.close();
    await conductor?.stop();
    await app?.close();
    await closeAllClients();
    await sim?.close();
    await t?.drop();
  });

  it('is valid, lint-clean exposition text that Prometheus scrapes', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await lint(await res.text())).toEqual([]);
    await prom.until('up{job="anvil"}', (s) => one(s) === 1);
  }, 90_000);

  it('counts the fleet, API routes, BMC calls, durations, the conductor and sensors', async () => {
    const fake = (await call('POST', '/v1/nodes', { driver: 'fake-hardware', name: 'metrics-fake' })).body;
    for (const [target, state] of [['manage', 'manageable'], ['provide', 'available'], ['active', 'active']]) await drive(fake.uuid, target, state);
    const rf = (await call('POST', '/v1/nodes', {
      driver: 'idrac', name: 'metrics-idrac',
      driver_info: { redfish_address: sim.url, redfish_system_id: sim.systemIds[0], redfish_username: 'admin', redfish_password: 'pw' },
    })).body;
    await drive(rf.uuid, 'manage', 'manageable');

    await prom.until('anvil_nodes_by_provision_state{provision_state="active"}', (s) => one(s) === 1);
    await prom.until('anvil_nodes_by_provision_state{provision_state="manageable"}', (s) => one(s) === 1);
    await prom.until('anvil_nodes_in_maintenance', (s) => one(s) === 0);
    await prom.until('anvil_nodes_by_fault{fault="none"}', (s) => one(s) === 2);
    await prom.until('sum(anvil_nodes_by_power_state)', (s) => one(s) === 2);

    // Latency by route pattern: two creations, and no series names a node.
    await prom.until('anvil_api_request_duration_seconds_count{route="/v1/nodes",method="POST",status="201"}', (s) => one(s) === 2);
    const routes = await prom.until('count by (route) (anvil_api_request_duration_seconds_count)', (s) => s.some((x) => x.metric.route === '/v1/nodes/:ident/states/provision'));
    for (const r of routes) expect(r.metric.route).not.toContain(fake.uuid);

    // The simulated iDRAC names its vendor in the service root's Oem section.
    await prom.until('sum(anvil_bmc_request_duration_seconds_count{driver="redfish",vendor="dell",outcome="ok"})', (s) => one(s) > 0);
    await prom.until('anvil_provision_operation_duration_seconds_count{operation="deploy",result="success"}', (s) => one(s) === 1);
    await prom.until('anvil_provision_operation_duration_seconds_count{operation="clean",result="success"}', (s) => one(s) === 1);
    await prom.until(`anvil_conductor_claims_total{conductor="${host}"}`, (s) => one(s) > 0);
    await prom.until(`anvil_conductor_workers{conductor="${host}"}`, (s) => one(s) === config.conductor.workers);
    await prom.until(`anvil_conductor_queue_depth{conductor="${host}"}`, (s) => one(s) >= 0);
    await prom.until(`anvil_conductor_workers_busy{conductor="${host}"}`, (s) => one(s) >= 0);

    // Sensors, as ironic-prometheus-exporter names them.
    const temps = await prom.until(`{__name__=~"baremetal_temp_.+_celsius", node_uuid="${rf.uuid}"}`, (s) => s.length > 0);
    expect(temps[0].metric).toMatchObject({ node_name: 'metrics-idrac', node_uuid: rf.uuid });
    expect(temps[0].value).toBeGreaterThan(0);
    await prom.until(`baremetal_power_status{node_uuid="${rf.uuid}"}`, (s) => s.length > 0 && s.every((x) => x.value === 0));
    await prom.until(`baremetal_last_payload_timestamp_seconds{node_uuid="${rf.uuid}"}`, (s) => one(s) > 0);

    // Nothing secret in any label of any series.
    const all = await prom.query('{job="anvil"}');
    for (const s of all) expect(JSON.stringify(s.metric)).not.toMatch(/"pw"|redfish_password/);
  }, 180_000);

  it('counts HTTP boot requests by kind and status', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'anvil-metrics-http-'));
    writeFileSync(path.join(root, 'kernel'), 'k');
    const server = await startHttpBootServer({ host: '127.0.0.1', port: 0, root, targets: { lookup: async () => undefined }, logger: silentLogger });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/kernel`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${server.port}/boot/52-54-00-00-00-01.ipxe`)).status).toBe(404);
      await prom.until('anvil_netboot_http_requests_total{kind="file",status="200"}', (s) => one(s) === 1);
      await prom.until('anvil_netboot_http_requests_total{kind="boot config",status="404"}', (s) => one(s) === 1);
    } finally {
      await server.close();
    }
  }, 90_000);

  it('counts TFTP transfers and bytes, fetched with tftp-hpa', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'anvil-metrics-tftp-'));
    writeFileSync(path.join(root, 'undionly.kpxe'), Buffer.alloc(3000, 1));
    const server = await startTftpServer({ host: '127.0.0.1', port: 0, root, timeoutSec: 1, retries: 3, logger: silentLogger, render: async () => undefined });
    try {
      const out = path.join(root, 'fetched');
      await execa('tftp', ['-m', 'binary', '127.0.0.1', String(server.port), '-c', 'get', 'undionly.kpxe', out]);
      await execa('tftp', ['-m', 'binary', '127.0.0.1', String(server.port), '-c', 'get', 'missing.efi', path.join(root, 'nothing')], { reject: false });
      await prom.until('anvil_netboot_tftp_transfers_total{result="complete"}', (s) => one(s) === 1);
      await prom.until('anvil_netboot_tftp_transfers_total{result="not found"}', (s) => one(s) === 1);
      await prom.until('anvil_netboot_tftp_bytes_total', (s) => one(s) === 3000);
    } finally {
      await server.close();
    }
  }, 90_000);

  it("serves a conductor process's registry on metrics.listen", async () => {
    const server = await startMetricsServer({ ...config, metrics: { ...config.metrics, listen: '127.0.0.1:0' } }, silentLogger);
    try {
      const res = await fetch(server!.url);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(await lint(text)).toEqual([]);
      expect(text).toContain(`anvil_conductor_workers{conductor="${host}"} ${config.conductor.workers}`);
      expect((await fetch(server!.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server?.close();
    }
  });
});
