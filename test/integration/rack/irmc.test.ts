// A virtual rack of Fujitsu servers, each behind its own simulated iRMC S6, with Anvil all-in-one:
// nodes of type irmc go enroll → manage → inspect (out of band, with the OEM inventory) → provide
// → deploy → undeploy through the public REST API. Then the faults: an iRMC that is down and wrong
// credentials stop manage (back to enroll), a BIOS settings task that fails stops a clean (clean
// failed); each last_error names the iRMC.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
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

type Node = { uuid: string; name: string; provision_state: string; power_state: string | null; last_error: string | null; reservation: string | null; properties: Record<string, unknown> };

async function startRack(name: string, machines: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `anvil-irmc-${name}-`));
  const config = defaultConfig(dir);
  config.api.port = 0;
  config.conductor = { ...config.conductor, hostname: `irmc-${name}`, pollInterval: 0.2, heartbeatInterval: 0.5, powerSyncInterval: 0, timeoutCheckInterval: 0.5 };
  config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
  const anvil: RoleHandle = await startAllInOne(config, silentLogger);
  const rack = await VirtualRack.start({ machines, bmc: 'irmc', apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger, heartbeatIntervalMs: 300 });
  const api = apiClient(anvil.apiUrl!);
  const node = async (id: string): Promise<Node> => (await api.get(`/nodes/${id}`)).data;
  /** Waits until the node rests (no lock) in one of `states`. */
  const settled = async (id: string, states: string[]): Promise<Node> => {
    let last: Node | undefined;
    await expect.poll(async () => {
      last = await node(id);
      return states.includes(last.provision_state) && last.reservation === null;
    }, { timeout: 120_000, interval: 200 }).toBe(true);
    return last!;
  };
  return {
    dir, anvil, rack, api, node, settled,
    async close() {
      await rack.close();
      await anvil.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('a virtual rack of Fujitsu servers behind iRMCs (driver irmc)', () => {
  let env: Awaited<ReturnType<typeof startRack>>;
  let image: DemoImage;
  const events: RackEvent[] = [];

  beforeAll(async () => {
    env = await startRack('cycle', 2);
    image = await makeDemoImage(path.join(env.dir, 'images'));
    env.rack.on('event', (e: RackEvent) => events.push(e));
  });
  afterAll(async () => {
    await env?.close();
  });

  it('lists irmc among the drivers, with Ironic\'s irmc_* keys among its properties', async () => {
    const drivers = (await env.api.get('/drivers')).data.drivers as { name: string }[];
    expect(drivers.map((d) => d.name)).toContain('irmc');
    const props = (await env.api.get('/drivers/irmc/properties')).data;
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['irmc_address', 'irmc_username', 'irmc_password', 'irmc_port', 'irmc_auth_method', 'irmc_client_timeout', 'irmc_verify_ca', 'irmc_management_protocol']));
    const detail = (await env.api.get('/drivers/irmc')).data;
    expect(detail).toMatchObject({ default_power_interface: 'irmc', default_management_interface: 'irmc' });
    expect(detail.enabled_boot_interfaces).toContain('irmc-virtual-media');
  });

  it('takes every server enroll → manage → inspect → provide → deploy → undeploy', async () => {
    const result = await runCycle({
      apiUrl: env.anvil.apiUrl!,
      rack: env.rack,
      image: { source: pathToFileURL(image.qcow2).href, sha256: image.sha256, format: 'qcow2' },
      nodeFields: { boot_interface: 'ipxe', deploy_interface: 'direct', inspect_interface: 'irmc', bios_interface: 'irmc' },
      configdrive: (name) => ({ meta_data: { hostname: name }, user_data: '#cloud-config\n' }),
      phaseTimeoutSec: 120,
    });
    expect(result.phases.map((p) => [p.phase, p.failed.map((n) => `${n.name}: ${n.provision_state} ${n.last_error}`)])).toEqual(
      ['enroll', 'manage', 'inspect', 'provide', 'deploy'].map((p) => [p, []]),
    );
    for (const n of result.nodes) {
      expect(n).toMatchObject({ provision_state: 'active', power_state: 'power on', last_error: null });
      const machine = env.rack.machines.find((m) => m.name === n.name)!;
      expect(await diskHoldsImage(env.rack.diskPath(machine), image.raw)).toBe(true);
      // Out-of-band inspection read the iRMC: Ironic's irmc capabilities and the BIOS settings.
      const node = await env.node(n.uuid);
      expect(String(node.properties.capabilities)).toMatch(/irmc_firmware_version:3\.03S/);
      expect(node.properties).toMatchObject({ cpus: machine.hardware.cpus, memory_mb: machine.hardware.memoryMb });
      expect(((await env.api.get(`/nodes/${n.uuid}/bios`)).data.bios as unknown[]).length).toBeGreaterThan(0);
    }
    // Each server netbooted the cleaning and deploy ramdisks (inspection needed none), then ran its image.
    for (const m of env.rack.machines) {
      const purposes = events.filter((e): e is Extract<RackEvent, { kind: 'netboot' }> => e.kind === 'netboot' && e.machine === m.name).map((e) => e.purpose);
      expect(purposes).toEqual(['clean', 'deploy']);
      expect(events).toContainEqual({ machine: m.name, kind: 'disk-boot', bootable: true, partitionTable: 'mbr' });
    }

    // Undeploy: the servers are cleaned again (the cleaning ramdisk netboots) and are available once more.
    const since = events.length;
    await Promise.all(result.nodes.map((n) => env.api.put(`/nodes/${n.uuid}/states/provision`, { target: 'deleted' })));
    for (const n of result.nodes) {
      expect(await env.settled(n.uuid, ['available', 'clean failed', 'error'])).toMatchObject({ provision_state: 'available', last_error: null, power_state: 'power off' });
    }
    for (const m of env.rack.machines) {
      expect(events.slice(since).some((e) => e.kind === 'netboot' && e.machine === m.name && e.purpose === 'clean')).toBe(true);
    }
  }, 400_000);
});

describe('iRMC faults in a virtual rack', () => {
  let env: Awaited<ReturnType<typeof startRack>>;
  const uuids = new Map<string, string>();

  beforeAll(async () => {
    env = await startRack('faults', 3);
  });
  afterAll(async () => {
    await env?.close();
  });

  async function enroll(index: number, name: string, driverInfo: Record<string, unknown> = {}): Promise<string> {
    const { node, ports } = env.rack.enrollment(index);
    const created = await env.api.post('/nodes', { ...node, name, boot_interface: 'ipxe', deploy_interface: 'direct', bios_interface: 'irmc', driver_info: { ...node.driver_info, ...driverInfo } });
    for (const port of ports) await env.api.post('/ports', { ...port, node_uuid: created.data.uuid });
    uuids.set(name, created.data.uuid);
    return created.data.uuid;
  }

  it('an iRMC that is down: manage ends back in enroll, last_error names the iRMC and what its connection met', async () => {
    // A port nothing listens on: one the system just gave and took back.
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const uuid = await enroll(0, 'irmc-down', { irmc_address: `http://127.0.0.1:${port}`, irmc_client_timeout: 2 });
    await env.api.put(`/nodes/${uuid}/states/provision`, { target: 'manage' });
    const node = await env.settled(uuid, ['enroll', 'manageable']);
    expect(node.provision_state).toBe('enroll');
    expect(node.last_error).toMatch(new RegExp(`^Verification failed: iRMC http://127\\.0\\.0\\.1:${port} of node ${uuid}: .*connection refused`));
  }, 120_000);

  it('wrong credentials: manage ends back in enroll, last_error names the iRMC and the irmc_* keys to check', async () => {
    const uuid = await enroll(1, 'irmc-wrong-password', { irmc_password: 'not-the-password' });
    await env.api.put(`/nodes/${uuid}/states/provision`, { target: 'manage' });
    const node = await env.settled(uuid, ['enroll', 'manageable']);
    expect(node.provision_state).toBe('enroll');
    expect(node.last_error).toContain(`iRMC ${env.rack.enrollment(1).node.driver_info.irmc_address}`);
    expect(node.last_error).toMatch(/HTTP 401.*check irmc_username and irmc_password/);
  }, 120_000);

  it('a BIOS settings task that fails: the clean fails, last_error names the iRMC and the task\'s message', async () => {
    const uuid = await enroll(2, 'irmc-task-fails');
    await env.api.put(`/nodes/${uuid}/states/provision`, { target: 'manage' });
    expect((await env.settled(uuid, ['manageable', 'enroll'])).provision_state).toBe('manageable');
    env.rack.redfishFaults!.set('0', { taskFails: 'The BIOS refused the parameter change' });
    try {
      await env.api.put(`/nodes/${uuid}/states/provision`, { target: 'clean', clean_steps: [{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'ProcTurboMode', value: 'Disabled' }] } }] });
      const node = await env.settled(uuid, ['clean failed', 'manageable']);
      expect(node.provision_state).toBe('clean failed');
      expect(node.last_error).toContain(`iRMC ${env.rack.enrollment(2).node.driver_info.irmc_address}`);
      expect(node.last_error).toMatch(/ended in state Exception: The BIOS refused the parameter change/);
    } finally {
      env.rack.redfishFaults!.clear('0');
    }
  }, 120_000);
});
