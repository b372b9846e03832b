// IPv6-only provisioning, end to end: the QEMU machine's leaf has no IPv4 at all (the rig's `ipv6`
// mode). Its iPXE ROM learns from radvd's managed flag to ask DHCPv6, through ISC dhcrelay -6, of
// Anvil's DHCPv6 server, which names the iPXE script at http://[fd00:31::1]:8080; the script boots
// the agent ramdisk with ipa-api-url=http://[fd00:31::1]:6385, whose init asks DHCPv6 again (ISC
// dhclient -6); the agent looks up, heart-beats with a bracketed callback URL and is inspected,
// cleaned and deployed (fast track: one ramdisk boot), the image fetched from the image server at
// its IPv6 address. The BMC (the Redfish simulator) is reached at http://[::1]:8000.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePayloadImage, qcow2InstanceInfo } from './support/payload-image.ts';
import { readSectors, SERVER6, startQemuRig, type QemuRig } from './support/rig.ts';

const MIB = 1024 * 1024;
/** Addresses the DHCPv6 server leases on the machine's leaf (the rig's subnets6 range). */
const LEASED = /^fd00:31:3::1[0-9a-f]{2}$/;

let rig: QemuRig;
let nodeUuid: string;
let image: string;
let imageSha256: string;
let payload: Buffer;

const consoleText = async () => readFile(rig.machine.consoleLog, 'latin1').catch(() => '');

beforeAll(async () => {
  rig = await startQemuRig({ name: 'ipv6', ipv6: true, mac: '52:54:00:e2:e0:06', cpus: 2, memoryMb: 1024 });
  ({ qcow2: image, sha256: imageSha256, payload } = await makePayloadImage(rig.dir, 29));
}, 900_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

describe('a QEMU machine provisioned over IPv6 only', () => {
  it('enrolls the machine; its BMC is reached at an IPv6 literal', async () => {
    expect(rig.driverInfo().redfish_address).toBe('http://[::1]:8000');
    nodeUuid = await rig.timed('enroll and manage', () => rig.enroll());
  }, 120_000);

  it('inspects it: iPXE over DHCPv6 through the relay, the agent over IPv6', async () => {
    const node = await rig.timed('inspect (iPXE over DHCPv6, agent over IPv6)', async () => {
      await rig.provision(nodeUuid, 'inspect');
      return rig.waitForState(nodeUuid, 'manageable', 420);
    });
    expect(node.last_error).toBeNull();
    const log = await consoleText();
    // The script iPXE fetched over IPv6 handed the bracketed API URL to the ramdisk (the agent logs it on the console).
    expect(log).toContain(`"api":"http://[${SERVER6}]:6385","callback":"http://[fd00:31:3::`);
    expect(log).toMatch(/anvil-ramdisk: \[[\d.]+\] IPv6 \(router advertisements, DHCPv6\) on/);
    expect(log).not.toContain('anvil-ramdisk: DHCP on');
    const inventory = (await rig.api.get(`/v1/nodes/${nodeUuid}/inventory`)).data.inventory;
    const nic = inventory.interfaces.find((i: { mac_address: string }) => i.mac_address === rig.mac);
    expect(nic?.ipv4_address ?? null, JSON.stringify(inventory.interfaces)).toBeNull();
    expect(nic?.ipv6_address, JSON.stringify(inventory.interfaces)).toMatch(LEASED);
    // The agent heart-beats with a bracketed IPv6 callback URL, at the address DHCPv6 leased it.
    const agentUrl = new URL(String((await rig.api.get(`/v1/nodes/${nodeUuid}`)).data.driver_internal_info.agent_url));
    expect(agentUrl.hostname.replace(/^\[|\]$/g, '')).toMatch(LEASED);
    expect(agentUrl.hostname.startsWith('[')).toBe(true);
  }, 480_000);

  it('cleans and deploys it on the same ramdisk boot, the image from the image server\'s IPv6 address, and reaches active', async () => {
    await rig.timed('provide (cleaning) and deploy', async () => {
      await rig.provision(nodeUuid, 'provide');
      await rig.waitForState(nodeUuid, 'available', 300);
      const patch = await rig.api.patch(`/v1/nodes/${nodeUuid}`, qcow2InstanceInfo({ qcow2: image, sha256: imageSha256 }));
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      await rig.provision(nodeUuid, 'active');
      await rig.waitForState(nodeUuid, 'active', 300);
    });
    // The machine has no IPv4 address: the image came from the image server's IPv6 address.
    expect((await readSectors(rig.disk, 2048, MIB / 512)).equals(payload)).toBe(true);
    expect(((await consoleText()).match(/anvil-ramdisk: \[[\d.]+\] starting the agent/g) ?? []).length).toBe(1);
  }, 600_000);
});
