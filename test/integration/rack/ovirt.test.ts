// The virtual rack with its machines as the VMs of a simulated oVirt Engine and Anvil all-in-one:
// a node of type ovirt goes manage → provide → deploy → undeploy through the public REST API,
// netbooting the agent as the Engine starts its VM, and ends active with the image on its disk,
// then available again. Then the Engine's faults: down (nothing listening, or its Apache answering 503), wrong credentials, a VM that does
// not exist, an action it refuses; each node ends in the right state with a last_error that says so.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { startAllInOne, type RoleHandle } from '../../../services/roles.ts';
import { apiClient, runCycle } from '../../../simulators/rack/cycle.ts';
import { diskHoldsImage, makeDemoImage, type DemoImage } from '../../../simulators/rack/demo.ts';
import { VirtualRack, type RackEvent } from '../../../simulators/rack/index.ts';

describe('a virtual rack of oVirt VMs', () => {
  let dir: string;
  let anvil: RoleHandle;
  let rack: VirtualRack;
  let image: DemoImage;
  const events: RackEvent[] = [];
  const fields = { boot_interface: 'ipxe', deploy_interface: 'direct', inspect_interface: 'agent' };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-rack-ovirt-'));
    const config = defaultConfig(dir);
    config.api.port = 0;
    config.conductor = { ...config.conductor, hostname: 'rack-ovirt', pollInterval: 0.2, heartbeatInterval: 0.5, powerSyncInterval: 0, powerStateChangeTimeout: 30 };
    config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
    image = await makeDemoImage(path.join(dir, 'images'));
    anvil = await startAllInOne(config, silentLogger);
    rack = await VirtualRack.start({ machines: 2, bmc: 'ovirt', apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger });
    rack.on('event', (e: RackEvent) => events.push(e));
  }, 120_000);

  afterAll(async () => {
    await rack?.close();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const api = () => apiClient(anvil.apiUrl!);
  const node = async (ident: string) => (await api().get(`/nodes/${ident}`)).data as { uuid: string; provision_state: string; power_state: string | null; last_error: string | null; driver_info: Record<string, unknown> };
  async function until(ident: string, state: string, timeout = 120_000) {
    await expect.poll(async () => (await node(ident)).provision_state, { timeout, interval: 200 }).toBe(state);
    return node(ident);
  }

  it('takes an ovirt node from enroll to active and back to available', async () => {
    const result = await runCycle({
      apiUrl: anvil.apiUrl!,
      rack,
      image: { source: pathToFileURL(image.qcow2).href, sha256: image.sha256, format: 'qcow2' },
      nodeFields: fields,
      phases: ['enroll', 'manage', 'provide', 'deploy'],
      configdrive: (name) => ({ meta_data: { hostname: name } }),
      phaseTimeoutSec: 120,
    });
    expect(result.phases.map((p) => [p.phase, p.failed.map((n) => `${n.name}: ${n.provision_state} ${n.last_error}`)])).toEqual(
      ['enroll', 'manage', 'provide', 'deploy'].map((p) => [p, []]),
    );
    const engine = rack.ovirt!.engine;
    for (const n of result.nodes) {
      expect(n).toMatchObject({ provision_state: 'active', power_state: 'power on', last_error: null });
      const machine = rack.machines.find((m) => m.name === n.name)!;
      expect(await diskHoldsImage(rack.diskPath(machine), image.raw)).toBe(true);
      // The Engine shows the VM up, booting from its disk.
      const vm = engine.vms.find((v) => v.name === n.name)!;
      expect(await vm.status()).toBe('up');
      expect(vm.bootDevices()).toEqual(['hd']);
      const purposes = events.filter((e): e is Extract<RackEvent, { kind: 'netboot' }> => e.kind === 'netboot' && e.machine === n.name).map((e) => e.purpose);
      expect(purposes).toEqual(['clean', 'deploy']);
    }
    // The password stays masked in what the API shows.
    expect((await node(result.nodes[0].uuid)).driver_info.ovirt_password).toBe('******');

    const uuid = result.nodes[0].uuid;
    await api().put(`/nodes/${uuid}/states/provision`, { target: 'deleted' });
    const back = await until(uuid, 'available');
    expect(back).toMatchObject({ last_error: null, power_state: 'power off' });
    expect(await engine.vms.find((v) => v.name === result.nodes[0].name)!.status()).toBe('down');
  }, 400_000);

  it('lists ovirt among the drivers, with its driver_info keys', async () => {
    const drivers = (await api().get('/drivers')).data.drivers as { name: string; hosts: string[] }[];
    expect(drivers.find((d) => d.name === 'ovirt')).toMatchObject({ hosts: ['rack-ovirt'] });
    const detail = (await api().get('/drivers/ovirt')).data;
    expect(detail).toMatchObject({ default_power_interface: 'ovirt', default_management_interface: 'ovirt', default_boot_interface: 'ipxe', default_deploy_interface: 'direct' });
    const properties = (await api().get('/drivers/ovirt/properties')).data as Record<string, string>;
    expect(Object.keys(properties)).toEqual(expect.arrayContaining(['ovirt_address', 'ovirt_username', 'ovirt_password', 'ovirt_vm_name', 'ovirt_insecure', 'ovirt_ca_file']));
  });

  /** A node enrolled for machine `index` with driver_info changed by `extra`. */
  async function enroll(name: string, index: number, extra: Record<string, unknown>): Promise<string> {
    const { node: body } = rack.enrollment(index);
    const created = await api().post('/nodes', { ...body, ...fields, name, driver_info: { ...body.driver_info, ...extra } });
    return created.data.uuid as string;
  }

  async function manageFails(uuid: string): Promise<string> {
    await api().put(`/nodes/${uuid}/states/provision`, { target: 'manage' });
    await expect.poll(async () => (await node(uuid)).last_error, { timeout: 60_000, interval: 200 }).toBeTruthy();
    const n = await node(uuid);
    expect(n.provision_state).toBe('enroll');
    expect(n.last_error).not.toContain('not-the-password');
    return n.last_error!;
  }

  it('stays in enroll with a clear last_error when the Engine is down, refuses the credentials or has no such VM', async () => {
    const engine = rack.ovirt!.engine;
    const at = `oVirt Engine ${engine.url}`;

    engine.faults.unavailable = true;
    try {
      expect(await manageFails(await enroll('ovirt-engine-down', 1, {}))).toMatch(new RegExp(`${at}: .* failed \\(HTTP 503\\)`));
    } finally {
      engine.faults.unavailable = false;
    }
    // An Engine that is not running at all: nothing listens on its port.
    const listener = createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    const closedPort = (listener.address() as AddressInfo).port;
    await new Promise((r) => listener.close(r));
    expect(await manageFails(await enroll('ovirt-engine-stopped', 1, { ovirt_address: `127.0.0.1:${closedPort}` })))
      .toBe(`Verification failed: oVirt Engine https://127.0.0.1:${closedPort} is unreachable (SSO login of admin@internal): connection refused`);
    expect(await manageFails(await enroll('ovirt-wrong-password', 1, { ovirt_password: 'not-the-password' })))
      .toContain(`${at} refused the SSO login of admin@internal: access_denied: Cannot authenticate user 'admin@internal'`);
    expect(await manageFails(await enroll('ovirt-no-vm', 1, { ovirt_vm_name: 'ghost-vm' }))).toContain(`VM "ghost-vm" on ${at} was not found`);
  }, 200_000);

  it('fails the deploy with the Engine\'s fault when it refuses to start the VM', async () => {
    const engine = rack.ovirt!.engine;
    const machine = rack.machines[1];
    const uuid = (await node(machine.name)).uuid;
    expect((await node(uuid)).provision_state).toBe('active');
    await api().put(`/nodes/${uuid}/states/provision`, { target: 'deleted' });
    await until(uuid, 'available');
    const detail = '[Cannot run VM. There is no host that satisfies current scheduling constraints.]';
    engine.faults.refuse.set(machine.name, { actions: ['start'], detail });
    try {
      await api().patch(`/nodes/${uuid}`, [
        { op: 'add', path: '/instance_info/image_source', value: pathToFileURL(image.qcow2).href },
        { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
        { op: 'add', path: '/instance_info/image_os_hash_value', value: image.sha256 },
      ]);
      await api().put(`/nodes/${uuid}/states/provision`, { target: 'active' });
      const failed = await until(uuid, 'deploy failed');
      expect(failed.last_error).toContain(`oVirt Engine ${engine.url}: start of VM ${machine.name} failed: Operation Failed: ${detail} (HTTP 409)`);
    } finally {
      engine.faults.refuse.delete(machine.name);
    }
  }, 300_000);
});
