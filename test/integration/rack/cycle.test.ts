// The virtual rack with Anvil all-in-one (API, conductor, netboot HTTP boot): simulated servers
// go enroll → manage → inspect → provide → deploy through the public REST API, PXE-boot the
// simulated agent from the iPXE script the netboot role renders, and end active with the image on
// their disk.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { startAllInOne, type RoleHandle } from '../../../services/roles.ts';
import { apiClient, runCycle, type Phase } from '../../../simulators/rack/cycle.ts';
import { diskHoldsImage, makeDemoImage, type DemoImage } from '../../../simulators/rack/demo.ts';
import { VirtualRack, type RackEvent } from '../../../simulators/rack/index.ts';

describe.each(['redfish', 'ipmi'] as const)('a virtual rack of %s servers', (bmc) => {
  let dir: string;
  let anvil: RoleHandle;
  let rack: VirtualRack;
  let image: DemoImage;
  const events: RackEvent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-rack-'));
    const config = defaultConfig(dir);
    config.api.port = 0;
    config.conductor = { ...config.conductor, hostname: `rack-${bmc}`, pollInterval: 0.2, heartbeatInterval: 0.5, powerSyncInterval: 0 };
    config.netboot = { serverAddress: '127.0.0.1', dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
    image = await makeDemoImage(path.join(dir, 'images'));
    anvil = await startAllInOne(config, silentLogger);
    rack = await VirtualRack.start({ machines: 2, bmc, apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, diskDir: path.join(dir, 'disks'), logger: silentLogger });
    rack.on('event', (e: RackEvent) => events.push(e));
  });

  afterAll(async () => {
    await rack?.close();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes every server from enroll to active with the image and a config drive on its disk', async () => {
    const phases: Phase[] = [];
    const result = await runCycle({
      apiUrl: anvil.apiUrl!,
      rack,
      image: { source: pathToFileURL(image.qcow2).href, sha256: image.sha256, format: 'qcow2' },
      nodeFields: { boot_interface: 'ipxe', deploy_interface: 'direct', inspect_interface: 'agent', ...(bmc === 'redfish' ? { bios_interface: 'redfish' } : {}) },
      configdrive: (name) => ({ meta_data: { hostname: name }, user_data: '#cloud-config\n' }),
      phaseTimeoutSec: 120,
      onPhase: (p) => phases.push(p),
    });
    expect(result.phases.map((p) => [p.phase, p.failed.map((n) => `${n.name}: ${n.provision_state} ${n.last_error}`)])).toEqual(
      ['enroll', 'manage', 'inspect', 'provide', 'deploy'].map((p) => [p, []]),
    );
    for (const n of result.nodes) {
      expect(n).toMatchObject({ provision_state: 'active', power_state: 'power on', last_error: null });
      const machine = rack.machines.find((m) => m.name === n.name)!;
      expect(await diskHoldsImage(rack.diskPath(machine), image.raw)).toBe(true);
    }

    // Each server netbooted each ramdisk from the script the netboot role rendered, then ran its image.
    for (const m of rack.machines) {
      const purposes = events.filter((e): e is Extract<RackEvent, { kind: 'netboot' }> => e.kind === 'netboot' && e.machine === m.name).map((e) => e.purpose);
      expect(purposes).toEqual(['inspect', 'clean', 'deploy']);
      expect(events).toContainEqual({ machine: m.name, kind: 'disk-boot', bootable: true, partitionTable: 'mbr' });
    }

    // Inspection found the second NIC of each server and created its port.
    const api = apiClient(anvil.apiUrl!);
    const ports = (await api.get('/ports', { params: { fields: 'address,node_uuid' } })).data.ports as { address: string }[];
    expect(ports.map((p) => p.address).sort()).toEqual(rack.machines.flatMap((m) => m.hardware.nics.map((n) => n.mac)).sort());
  }, 300_000);

  // Only Redfish servers have a bios interface (the IPMI ones keep no-bios).
  if (bmc === 'redfish') it('services an active server out of band: its BIOS changes with a reboot, its workload disk is untouched', async () => {
    const api = apiClient(anvil.apiUrl!);
    const machine = rack.machines[0];
    const uuid = ((await api.get('/nodes', { params: { fields: 'uuid,name' } })).data.nodes as { uuid: string; name: string }[]).find((n) => n.name === machine.name)!.uuid;
    const before = (await api.get(`/nodes/${uuid}/bios`)).data.bios.find((s: { name: string }) => s.name === 'ProcTurboMode');
    expect(before.value).toBe('Enabled');
    const since = events.length;
    await api.put(`/nodes/${uuid}/states/provision`, { target: 'service', service_steps: [{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'ProcTurboMode', value: 'Disabled' }] } }] });
    await expect.poll(async () => (await api.get(`/nodes/${uuid}`)).data.provision_state, { timeout: 60_000, interval: 200 }).toBe('active');
    const node = (await api.get(`/nodes/${uuid}`)).data;
    expect(node).toMatchObject({ last_error: null, power_state: 'power on', service_step: null });
    expect((await api.get(`/nodes/${uuid}/bios`)).data.bios.find((s: { name: string }) => s.name === 'ProcTurboMode').value).toBe('Disabled');
    // The reboot that applied the setting started the deployed image again, from the disk it was written to.
    await expect.poll(() => events.slice(since).find((e) => e.machine === machine.name && e.kind === 'disk-boot'), { timeout: 10_000 }).toBeTruthy();
    expect(events.slice(since).some((e) => e.machine === machine.name && e.kind === 'netboot')).toBe(false);
    expect(await diskHoldsImage(rack.diskPath(machine), image.raw)).toBe(true);
  }, 120_000);

  it('gives nothing to a machine that is not being provisioned: an active server that PXE-boots finds no script', async () => {
    const machine = rack.machines[0];
    const before = events.length;
    machine.setBootOverride({ device: 'pxe', persistent: false });
    await machine.power('reset');
    await expect.poll(() => events.slice(before).find((e) => e.machine === machine.name && e.kind !== 'power'), { timeout: 10_000 })
      .toEqual({ machine: machine.name, kind: 'netboot-refused', reason: 'the netboot role serves none of its MACs' });
    expect(rack.agents.agentOf(machine)).toBeUndefined();
  });
});
