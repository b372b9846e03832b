// Faults injected in the simulator and bad configurations end in clear errors from the driver,
// never in a hang: retries of 5xx, timeouts, dropped sessions, stuck power, bad credentials, TLS,
// ETag conflicts, ambiguous or unknown systems.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BmcTimeout, DriverError, InvalidInput, MissingParameter } from '../../../common/errors.ts';
import { getImplementation } from '../../../drivers/registry.ts';
import { RedfishClient } from '../../../drivers/redfish/client.ts';
import { closeAllClients } from '../../../drivers/redfish/connections.ts';
import { parseRedfishInfo } from '../../../drivers/redfish/driver-info.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { startBmcFaultProxy, type BmcFaultProxy } from '../../helpers/bmc-fault-proxy.ts';
import { redfishContext } from './context.ts';

describe('Redfish driver under injected faults', () => {
  let sim: RedfishSimulator;
  const info = (extra: Record<string, unknown> = {}) => ({
    redfish_address: sim.url,
    redfish_system_id: sim.systemIds[0],
    redfish_username: 'admin',
    redfish_password: 'pw',
    redfish_timeout: 10,
    redfish_connection_attempts: 2,
    redfish_retry_interval: 0.05,
    ...extra,
  });
  const power = () => getImplementation('power', 'redfish');

  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 2, auth: { username: 'admin', password: 'pw' } });
  });
  afterAll(async () => {
    await closeAllClients();
    await sim.close();
  });

  it('retries a passing 5xx and succeeds', async () => {
    sim.faults.set(sim.systemIds[0], { errorStatus: 503, errorCount: 1 });
    expect(await power().getPowerState(redfishContext('redfish', info()))).toBe('power off');
    sim.faults.clear();
  });

  it('reports a lasting 5xx with the BMC\'s message, and only for the faulty system', async () => {
    sim.faults.set(sim.systemIds[0], { errorStatus: 500 });
    const err = await power().getPowerState(redfishContext('redfish', info())).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.message).toMatch(new RegExp(`Redfish GET /redfish/v1/Systems/${sim.systemIds[0]} on ${sim.url} failed with HTTP 500: Injected fault: HTTP 500`));
    expect(await power().getPowerState(redfishContext('redfish', info({ redfish_system_id: sim.systemIds[1] })))).toBe('power off');
    sim.faults.clear();
  });

  it('gives up on a BMC that never answers after the per-call timeout and bounded retries', async () => {
    sim.faults.set(sim.systemIds[0], { hang: true });
    const err = await power().setPowerState(redfishContext('redfish', info({ redfish_timeout: 0.3 })), 'power on', 2).catch((e) => e);
    expect(err).toBeInstanceOf(BmcTimeout);
    expect(err.message).toMatch(/did not answer GET \/redfish\/v1\/Systems\/node-0001 within 0.3 s after 2 attempts/);
    sim.faults.clear();
  });

  it('logs in again when the BMC drops its sessions', async () => {
    const ctx = redfishContext('redfish', info({ redfish_auth_type: 'session' }));
    expect(await power().getPowerState(ctx)).toBe('power off');
    sim.faults.set('*', { dropSessions: true });
    expect(await power().getPowerState(ctx)).toBe('power off');
    sim.faults.clear();
  });

  it('times out clearly when the power state never changes', async () => {
    sim.faults.set(sim.systemIds[0], { powerStuck: true, latencyMs: 20 });
    const err = await power().setPowerState(redfishContext('redfish', info()), 'power on', 0.5).catch((e) => e);
    expect(err).toBeInstanceOf(BmcTimeout);
    expect(err.message).toMatch(/Timed out after 0.5 s waiting for the BMC at .* to report power on for node .* \(it still reports power off\)/);
    sim.faults.clear();
  });

  it('says when the credentials are wrong, for Basic and for sessions', async () => {
    await expect(power().getPowerState(redfishContext('redfish', info({ redfish_password: 'nope', redfish_auth_type: 'basic' })))).rejects.toThrow(/failed with HTTP 401: the BMC refused the credentials/);
    await expect(power().getPowerState(redfishContext('redfish', info({ redfish_password: 'nope', redfish_auth_type: 'session' })))).rejects.toThrow(/Cannot open a Redfish session on .* \(HTTP 401: The user name or password is not valid/);
    // auto falls back to Basic, which the BMC refuses too.
    await expect(power().getPowerState(redfishContext('redfish', info({ redfish_password: 'nope2' })))).rejects.toThrow(/HTTP 401/);
  });

  it('says when nothing listens at the address', async () => {
    const err = await power().getPowerState(redfishContext('redfish', info({ redfish_address: 'http://127.0.0.1:1' }))).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.message).toMatch(/Cannot reach the BMC at http:\/\/127.0.0.1:1 for GET \/redfish\/v1 after 2 attempts: connection refused \(ECONNREFUSED\)$/);
  });

  it('needs redfish_system_id when the BMC has several systems, and rejects an unknown one', async () => {
    await expect(power().getPowerState(redfishContext('redfish', info({ redfish_system_id: undefined })))).rejects.toThrow(MissingParameter);
    await expect(power().getPowerState(redfishContext('redfish', info({ redfish_system_id: undefined })))).rejects.toThrow(/driver_info\/redfish_system_id is required .* has 2 systems/);
    await expect(power().getPowerState(redfishContext('redfish', info({ redfish_system_id: 'nosuch' })))).rejects.toThrow(InvalidInput);
    // The canonical path and the UUID both name a system.
    expect(await power().getPowerState(redfishContext('redfish', info({ redfish_system_id: `/redfish/v1/Systems/${sim.systemIds[1]}` })))).toBe('power off');
    expect(await power().getPowerState(redfishContext('redfish', info({ redfish_system_id: sim.machines[1].uuid })))).toBe('power off');
  });

  it('re-reads a stale ETag (412) and supplies one when the BMC requires If-Match (428)', async () => {
    const node = redfishContext('redfish', info()).node;
    const path = `/redfish/v1/Systems/${sim.systemIds[0]}`;
    const client = new RedfishClient(parseRedfishInfo(node));
    try {
      // Never read: the BMC answers 428, the client reads the ETag and retries.
      await client.patch(path, { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } });
      expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'pxe', persistent: false });
      // Read, then changed behind the client's back: its ETag is stale (412).
      await client.get(path);
      sim.machines[0].setBootOverride({ device: 'disk', persistent: true });
      await client.patch(path, { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Continuous' } });
      expect(sim.machines[0].getBootOverride()).toMatchObject({ device: 'cdrom', persistent: true });
    } finally {
      await client.close();
    }
  });
});

describe('Redfish driver behind a faulty link (fault proxy)', () => {
  let sim: RedfishSimulator;
  let proxy: BmcFaultProxy;
  const info = (extra: Record<string, unknown> = {}) => ({
    redfish_address: proxy.url,
    redfish_system_id: sim.systemIds[0],
    redfish_timeout: 2,
    redfish_connection_attempts: 2,
    redfish_retry_interval: 0.05,
    ...extra,
  });
  const power = () => getImplementation('power', 'redfish');
  const rootReads = () => proxy.seen.filter((s) => /^GET \/redfish\/v1\/?$/.test(s)).length;

  beforeAll(async () => {
    sim = await startRedfishSimulator({ systems: 1 });
    proxy = await startBmcFaultProxy(sim.url);
  });
  afterAll(async () => {
    await closeAllClients();
    await proxy.close();
    await sim.close();
  });

  it('a service root that answered 503 is not kept: the next action asks the BMC again and works', async () => {
    const ctx = redfishContext('redfish', info());
    proxy.set({ path: /^\/redfish\/v1\/?$/, fault: { kind: 'status', status: 503 } });
    const err = await power().getPowerState(ctx).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.message).toBe(`Redfish GET /redfish/v1 on ${proxy.url} failed with HTTP 503: Fault proxy: HTTP 503 for GET /redfish/v1`);
    proxy.clear();
    const before = proxy.seen.length;
    expect(await power().getPowerState(ctx)).toBe('power off');
    expect(proxy.seen.length).toBeGreaterThan(before);
  });

  it('keeps a good service root for redfish_cache_ttl seconds, then reads it again', async () => {
    const ctx = redfishContext('redfish', info({ redfish_cache_ttl: 0.3 }));
    await power().getPowerState(ctx);
    const first = rootReads();
    await power().getPowerState(ctx);
    expect(rootReads()).toBe(first);
    await new Promise((r) => setTimeout(r, 400));
    await power().getPowerState(ctx);
    expect(rootReads()).toBe(first + 1);
  });
});

describe('Redfish driver and TLS', () => {
  it('verifies the certificate by default and can be told not to', async () => {
    const sim = await startRedfishSimulator({ tls: true });
    try {
      const base = { redfish_address: sim.url.replace('https://', ''), redfish_retry_interval: 0.05, redfish_connection_attempts: 1 };
      const err = await getImplementation('power', 'redfish').getPowerState(redfishContext('redfish', base)).catch((e) => e);
      expect(err).toBeInstanceOf(DriverError);
      expect(err.message).toMatch(/Cannot reach the BMC at https:\/\/127.0.0.1:\d+ .*(self-signed|certificate)/i);
      expect(await getImplementation('power', 'redfish').getPowerState(redfishContext('redfish', { ...base, redfish_verify_ca: 'false' }))).toBe('power off');
    } finally {
      await closeAllClients();
      await sim.close();
    }
  });
});
