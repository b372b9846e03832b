// The redfish firmware interface against the Redfish simulator, through the API and a conductor on
// SQLite and PostgreSQL: verification records the BIOS and BMC versions (GET /firmware, 1.86);
// servicing an active node runs firmware.update (SimpleUpdate, its task followed to the end, the
// reboot a BIOS image needs) and records the new versions as flashed; an image the BMC cannot
// download fails the servicing with the task's message, and abort brings the node back to active.
// Debian's python3-sushy reads what the simulator holds after each step.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type NodeRecord } from '../../../db/nodes.ts';
import { BACKENDS } from '../../helpers/db.ts';
import { untilState } from '../conductor/helpers.ts';
import { startOobHarness, sushy, type OobHarness } from './oob-harness.ts';

const sushyFirmware = (h: OobHarness, system: string) => sushy<{ bios_version: string; bmc_version: string; inventory: Record<string, string> }>('sushy_firmware.py', h.sim, `/redfish/v1/Systems/${system}`);

describe.each(BACKENDS)('redfish firmware interface, API and conductor on %s', (backend) => {
  let h: OobHarness;
  let images: http.Server;
  let imageUrl: string;
  const downloads: string[] = [];

  beforeAll(async () => {
    images = http.createServer((req, res) => {
      downloads.push(req.url ?? '');
      if (req.url?.endsWith('.bin') && !req.url.includes('missing')) res.end(Buffer.alloc(4096, 1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    h = await startOobHarness(backend, 'firmware', { systems: 2 });
  });
  afterAll(async () => {
    await h.close();
    await new Promise((resolve) => images.close(resolve));
  });
  const call: OobHarness['call'] = (...args) => h.call(...args);
  const provision: OobHarness['provision'] = (node, body) => h.provision(node, body);
  const firmware = async (node: NodeRecord) => Object.fromEntries(((await call('GET', `/v1/nodes/${node.uuid}/firmware`)).body.firmware as Record<string, string>[]).map((c) => [c.component, c]));

  it('records the versions, updates BIOS and BMC through servicing, and fails an image the BMC cannot fetch', async () => {
    const node = await createNode(h.t.db.knex, { driver: 'redfish', firmware_interface: 'redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll', driver_info: h.driverInfo(1) });
    expect((await call('GET', `/v1/nodes/${node.uuid}/firmware`, undefined, '1.85')).status).toBe(404);
    await h.toActive(node);
    let fw = await firmware(node);
    expect(fw.bios).toMatchObject({ component: 'bios', initial_version: '2.1.0', current_version: '2.1.0', last_version_flashed: null, updated_at: null });
    expect(fw.bmc).toMatchObject({ component: 'bmc', initial_version: '1.0.0', current_version: '1.0.0', last_version_flashed: null });
    expect(fw.bios.created_at).toMatch(/\+00:00$/);

    await provision(node, { target: 'service', service_steps: [{ interface: 'firmware', step: 'update', args: { settings: [{ component: 'bios', url: `${imageUrl}/bios-2.2.0.bin` }, { component: 'bmc', url: `${imageUrl}/bmc-1.1.0.bin` }] } }] });
    let r = await untilState(h.t.db, node.id, 'active', 30_000);
    expect(r.last_error).toBeNull();
    fw = await firmware(node);
    expect(fw.bios).toMatchObject({ initial_version: '2.1.0', current_version: '2.2.0', last_version_flashed: '2.2.0' });
    expect(fw.bmc).toMatchObject({ initial_version: '1.0.0', current_version: '1.1.0', last_version_flashed: '1.1.0' });
    expect(fw.bios.updated_at).toMatch(/\+00:00$/);
    expect(downloads).toEqual(['/bios-2.2.0.bin', '/bmc-1.1.0.bin']);
    const seen = await sushyFirmware(h, h.sim.systemIds[1]);
    expect(seen).toMatchObject({ bios_version: '2.2.0', bmc_version: '1.1.0' });
    expect(seen.inventory).toMatchObject({ [`BIOS-${h.sim.systemIds[1]}`]: '2.2.0', [`BMC-${h.sim.systemIds[1]}`]: '1.1.0', [`BIOS-${h.sim.systemIds[0]}`]: '2.1.0' });
    expect(await h.sim.machines[1].powerState()).toBe('on');

    await provision(node, { target: 'service', service_steps: [{ interface: 'firmware', step: 'update', args: { settings: [{ component: 'bios', url: `${imageUrl}/missing-3.0.0.bin` }] } }] });
    r = await untilState(h.t.db, node.id, 'service failed', 30_000);
    expect(r.last_error).toMatch(/Firmware Update|ended in state Exception/);
    expect(r.last_error).toMatch(/missing-3\.0\.0\.bin failed: HTTP 404/);
    await provision(node, { target: 'service', service_steps: [{ interface: 'firmware', step: 'update', args: { settings: [{ component: 'nic', url: `${imageUrl}/nic-1.bin` }] } }] });
    r = await untilState(h.t.db, node.id, 'service failed', 30_000);
    expect(r.last_error).toMatch(/component "nic" is not supported/);
    await provision(node, { target: 'abort' });
    await untilState(h.t.db, node.id, 'active');
    expect((await firmware(node)).bios.current_version).toBe('2.2.0');
  });

  it('names each component\'s vendor, model and serial number from 1.114, the NICs included', async () => {
    const node = await createNode(h.t.db.knex, { driver: 'redfish', firmware_interface: 'redfish', deploy_interface: 'fake', boot_interface: 'fake', provision_state: 'enroll', driver_info: h.driverInfo(0) });
    await h.toActive(node);
    const at = async (version: string) => ((await call('GET', `/v1/nodes/${node.uuid}/firmware`, undefined, version)).body.firmware as Record<string, unknown>[]);
    const hw = h.sim.machines[0].hardware;
    expect(await at('1.114')).toEqual([
      expect.objectContaining({ component: 'bios', current_version: '2.1.0', vendor: null, model: null, serial_number: null }),
      expect.objectContaining({ component: 'bmc', current_version: '1.0.0', vendor: hw.manufacturer, model: 'Anvil Simulated BMC', serial_number: `BMC-${hw.serial}` }),
      expect.objectContaining({ component: 'nic:NIC.Slot.1', initial_version: '22.31.6', current_version: '22.31.6', vendor: 'Anvil Simulated NICs', model: `Simulated ${hw.nics.length}-port Ethernet`, serial_number: `NIC-${hw.serial}` }),
    ]);
    expect((await at('1.113')).map((c) => Object.keys(c).sort())[0]).toEqual(['component', 'created_at', 'current_version', 'initial_version', 'last_version_flashed', 'updated_at']);
  });
});
