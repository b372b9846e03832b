// Faulty BMCs in a virtual rack, with Anvil all-in-one on SQLite and PostgreSQL: a fault proxy in
// front of the rack's Redfish BMC hangs one node's system, answers 503 for another and cuts a third
// off mid-clean (once it netbooted the cleaning ramdisk). Each faulty node ends in
// "clean failed" with a last_error naming its BMC, the healthy node next to them becomes available,
// and once the BMC is back the failed ones recover as an operator would: maintenance off, manage, provide.
// The same for an IPMI BMC behind a UDP fault proxy that goes dark mid-clean.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { startAllInOne } from '../../../services/roles.ts';
import type { AxiosInstance } from 'axios';
import { apiClient } from '../../../simulators/rack/cycle.ts';
import { VirtualRack, type RackBmc, type RackEvent } from '../../../simulators/rack/index.ts';
import { startBmcFaultProxy, startUdpFaultProxy, type BmcFaultProxy, type UdpFaultProxy } from '../../helpers/bmc-fault-proxy.ts';
import { BACKENDS, createTestDatabaseUrl, type Backend } from '../../helpers/db.ts';
import { eventually } from '../conductor/helpers.ts';

type Node = { uuid: string; name: string; provision_state: string; last_error: string | null; maintenance: boolean; reservation: string | null };

/** What a client of the rack's nodes does: read a node, ask for a verb (retrying 409 NodeLocked, as clients do), wait for a state. */
function rackClient(api: () => AxiosInstance, uuids: Map<string, string>) {
  const retryLocked = <T>(call: () => Promise<T>) => eventually(() => call().catch((e) => {
    if (e.response?.status === 409) return undefined;
    throw e;
  }), 10_000, 'the node lock');
  const node = async (name: string): Promise<Node> => (await api().get(`/nodes/${uuids.get(name)}`)).data;
  return {
    retryLocked,
    provision: (name: string, target: string) => retryLocked(() => api().put(`/nodes/${uuids.get(name)}/states/provision`, { target })),
    unsetMaintenance: (name: string) => retryLocked(() => api().delete(`/nodes/${uuids.get(name)}/maintenance`)),
    settled: (name: string, states: string[]) => eventually(async () => {
      const n = await node(name);
      return states.includes(n.provision_state) && n.reservation === null ? n : undefined;
    }, 90_000, `${name} to reach ${states.join('|')}`),
  };
}

/** Anvil all-in-one (with netboot's HTTP boot) on a fresh database of `backend`, and a rack of `machines` servers. */
async function startRack(backend: Backend, bmc: RackBmc, machines: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `anvil-${bmc}-faults-`));
  const db = await createTestDatabaseUrl(backend);
  const config = defaultConfig(dir);
  config.database.url = db.url;
  config.api.port = 0;
  config.conductor = { ...config.conductor, hostname: `${bmc}-faults-${backend}`, pollInterval: 0.2, heartbeatInterval: 0.5, powerSyncInterval: 0, timeoutCheckInterval: 0.5 };
  config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
  const anvil = await startAllInOne(config, silentLogger);
  const rack = await VirtualRack.start({ machines, bmc, apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger, heartbeatIntervalMs: 300 });
  const api = () => apiClient(anvil.apiUrl!);
  const uuids = new Map<string, string>();
  return {
    rack,
    api,
    uuids,
    ...rackClient(api, uuids),
    /** Enrolls machine `index` as node `name` (iPXE boot, direct deploy) with these driver_info changes. */
    async enroll(index: number, name: string, driverInfo: Record<string, unknown>) {
      const { node, ports } = rack.enrollment(index);
      const created = await api().post('/nodes', { ...node, name, boot_interface: 'ipxe', deploy_interface: 'direct', driver_info: { ...node.driver_info, ...driverInfo } });
      uuids.set(name, created.data.uuid);
      for (const port of ports) await api().post('/ports', { ...port, node_uuid: created.data.uuid });
    },
    async close() {
      await rack.close();
      await anvil.stop();
      await db.remove();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.each(BACKENDS)('BMC faults in a virtual rack on %s', (backend) => {
  let env: Awaited<ReturnType<typeof startRack>>;
  let proxy: BmcFaultProxy;
  const names = ['hanging', 'erroring', 'cut-off', 'healthy'] as const;
  /** The proxy path of each machine's system, which its node's every BMC call names. */
  const systemPath = (i: number) => String(env.rack.enrollment(i).node.driver_info.redfish_system_id);

  beforeAll(async () => {
    env = await startRack(backend, 'redfish', names.length);
    proxy = await startBmcFaultProxy(String(env.rack.enrollment(0).node.driver_info.redfish_address));
    for (const [i, name] of names.entries()) {
      await env.enroll(i, name, { redfish_address: proxy.url, redfish_timeout: 2, redfish_connection_attempts: 2, redfish_retry_interval: 0.05 });
    }
  });
  afterAll(async () => {
    await env?.close();
    await proxy?.close();
  });


  it('a hanging, a 5xx and a cut-off BMC each fail only their own node, which recovers once the BMC is back', async () => {
    for (const name of names) await env.provision(name, 'manage');
    for (const name of names) expect((await env.settled(name, ['manageable', 'enroll'])).provision_state).toBe('manageable');

    // Cut "cut-off" off once its machine netboots the cleaning ramdisk: the conductor has powered it
    // on, and the next BMC call (the wait for power on, or the power off that ends cleaning) fails.
    const cutOff = env.rack.machines[2];
    let armed = true;
    env.rack.on('event', (e: RackEvent) => {
      if (armed && e.machine === cutOff.name && e.kind === 'netboot') {
        armed = false;
        proxy.set(
          { path: new RegExp(`^${systemPath(0)}`), fault: { kind: 'hang' } },
          { path: new RegExp(`^${systemPath(1)}`), fault: { kind: 'status', status: 503 } },
          { path: new RegExp(`^${systemPath(2)}`), fault: { kind: 'reset' } },
        );
      }
    });
    proxy.set(
      { path: new RegExp(`^${systemPath(0)}`), fault: { kind: 'hang' } },
      { path: new RegExp(`^${systemPath(1)}`), fault: { kind: 'status', status: 503 } },
    );
    for (const name of names) await env.provision(name, 'provide');

    expect((await env.settled('healthy', ['available', 'clean failed'])).provision_state).toBe('available');
    const failed = await Promise.all(['hanging', 'erroring', 'cut-off'].map((n) => env.settled(n, ['clean failed', 'available'])));
    const system = (i: number) => `${proxy.url.replace(/[.]/g, '\\.')}.*${systemPath(i)}|${systemPath(i)}.*${proxy.url.replace(/[.]/g, '\\.')}`;
    expect(failed.map((n) => n.provision_state)).toEqual(['clean failed', 'clean failed', 'clean failed']);
    expect(failed[0].last_error).toMatch(new RegExp(`did not answer GET ${systemPath(0)} within 2 s after 2 attempts`));
    expect(failed[0].last_error).toMatch(new RegExp(system(0)));
    expect(failed[1].last_error).toMatch(new RegExp(`failed with HTTP 503: Fault proxy: HTTP 503`));
    expect(failed[1].last_error).toMatch(new RegExp(system(1)));
    expect(failed[2].last_error).toMatch(/connection (reset|closed without an answer)/);
    expect(failed[2].last_error).toMatch(new RegExp(system(2)));
    for (const n of failed) expect(n.maintenance).toBe(true);

    // In maintenance, "provide" is refused as Ironic refuses it; with the BMC back, the operator's recovery works.
    proxy.clear();
    const refused = await env.provision('cut-off', 'provide').catch((e) => e.response);
    expect(refused.status).toBe(400);
    for (const name of ['hanging', 'erroring', 'cut-off']) {
      await env.unsetMaintenance(name);
      await env.provision(name, 'manage');
      await env.settled(name, ['manageable']);
      await env.provision(name, 'provide');
    }
    for (const name of ['hanging', 'erroring', 'cut-off']) {
      const n = await env.settled(name, ['available', 'clean failed']);
      expect({ name, state: n.provision_state, last_error: n.last_error }).toEqual({ name, state: 'available', last_error: null });
    }
  }, 240_000);
});

describe.each(BACKENDS)('an IPMI BMC going dark mid-clean in a virtual rack on %s', (backend) => {
  let env: Awaited<ReturnType<typeof startRack>>;
  let proxy: UdpFaultProxy;

  beforeAll(async () => {
    env = await startRack(backend, 'ipmi', 2);
    const dark = env.rack.enrollment(0).node.driver_info;
    proxy = await startUdpFaultProxy({ host: String(dark.ipmi_address), port: Number(dark.ipmi_port) });
    const tuning = { ipmi_command_timeout: 0.5, ipmi_retries: 1, ipmi_min_command_interval: 0, ipmi_power_poll_interval: 0.2 };
    await env.enroll(0, 'dark', { ...tuning, ipmi_port: proxy.port });
    await env.enroll(1, 'healthy', tuning);
  });
  afterAll(async () => {
    await env?.close();
    await proxy?.close();
  });


  it('fails only the dark node\'s cleaning, naming its BMC, and it recovers once the BMC answers again', async () => {
    for (const name of env.uuids.keys()) await env.provision(name, 'manage');
    for (const name of env.uuids.keys()) expect((await env.settled(name, ['manageable', 'enroll'])).provision_state).toBe('manageable');
    let armed = true;
    env.rack.on('event', (e: RackEvent) => {
      if (armed && e.machine === env.rack.machines[0].name && e.kind === 'netboot') {
        armed = false;
        proxy.dark = true;
      }
    });
    for (const name of env.uuids.keys()) await env.provision(name, 'provide');
    expect((await env.settled('healthy', ['available', 'clean failed'])).provision_state).toBe('available');
    const failed = await env.settled('dark', ['clean failed', 'available']);
    expect(failed.provision_state).toBe('clean failed');
    expect(failed.last_error).toMatch(new RegExp(`^Cleaning failed: BMC 127\\.0\\.0\\.1:${proxy.port} did not answer`));

    proxy.dark = false;
    await env.unsetMaintenance('dark');
    await env.provision('dark', 'manage');
    await env.settled('dark', ['manageable']);
    await env.provision('dark', 'provide');
    expect(await env.settled('dark', ['available', 'clean failed'])).toMatchObject({ provision_state: 'available', last_error: null });
  }, 240_000);
});
