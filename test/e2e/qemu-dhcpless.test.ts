// DHCP-less provisioning, end to end: the QEMU machine's network has no DHCP server at all (the
// rig without its relay). The redfish driver on the simulated BMC attaches the node's own ISO
// (deploy kernel and ramdisk, agent command line, network_data) to QEMU as a CD through QMP; the
// machine boots it on UEFI (OVMF), the ramdisk's init configures the static address network_data
// gives, and the agent is inspected, cleaned and deployed (fast track: one ramdisk boot) with the
// hybrid BIOS/UEFI OS image (support/os-image.ts) and a config drive; OVMF boots that OS from the
// disk (GRUB), which reports the config drive's hostname, user-data output and static address.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOsImage, expectOsReport, OS_IMAGE_ESP, OS_USER_DATA, type OsImage } from './support/os-image.ts';
import { qcow2InstanceInfo } from './support/payload-image.ts';
import { rawView, startQemuRig, type QemuRig } from './support/rig.ts';

const STATIC_IP = '172.31.3.50';

let rig: QemuRig;
let nodeUuid: string;
let os: OsImage;
/** The node ISO's image cache key. */
let isoKey: string;

const consoleText = async () => readFile(rig.machine.consoleLog, 'latin1').catch(() => '');

beforeAll(async () => {
  rig = await startQemuRig({ name: 'dhcpless', relay: false, mac: '52:54:00:e2:e0:05', cpus: 2, memoryMb: 1024, machine: { firmware: 'uefi' } });
  os = await rig.timed('build the instance OS image (cached after the first run)', () => buildOsImage());
}, 900_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

describe('DHCP-less deploy over virtual media on UEFI', () => {
  it('enrolls the machine with redfish-virtual-media and its static network_data', async () => {
    nodeUuid = await rig.enroll({
      boot_interface: 'redfish-virtual-media',
      network_data: {
        links: [{ id: 'prov', type: 'phy', ethernet_mac_address: rig.mac }],
        networks: [{ id: 'prov-v4', type: 'ipv4', link: 'prov', ip_address: STATIC_IP, netmask: '255.255.255.0', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '172.31.3.1' }] }],
        services: [{ type: 'dns', address: '172.31.3.1' }],
      },
    });
  });

  it('inspects it: the BMC mounts the node ISO through QMP, OVMF boots it, the static address reaches the API', async () => {
    await rig.timed('inspect (UEFI boot of the node ISO, static network)', async () => {
      await rig.provision(nodeUuid, 'inspect');
      let mounted: string | null = null;
      for (let i = 0; i < 240 && !mounted; i++) {
        mounted = await rig.machine.insertedMediaFile();
        if (!mounted) await new Promise((r) => setTimeout(r, 250));
      }
      expect(mounted, await rig.diagnostics()).toMatch(/media-\d+\.iso$/);
      expect(rig.machine.getVirtualMedia().image).toMatch(/^http:\/\/172\.31\.0\.1:\d+\/[0-9a-f]{40}\?node=.*temp_url_sig=/);
      const node = await rig.waitForState(nodeUuid, 'manageable', 400);
      expect(node.last_error).toBeNull();
    });
    const log = await consoleText();
    expect(log).toContain(`static network: ip -4 addr add ${STATIC_IP}/24 dev`);
    expect(log).toContain('static network: ip -4 route replace default via 172.31.3.1');
    expect(log).not.toContain('anvil-ramdisk: DHCP on');
    const inventory = (await rig.api.get(`/v1/nodes/${nodeUuid}/inventory`)).data;
    const nic = inventory.inventory.interfaces.find((i: { mac_address: string }) => i.mac_address === rig.mac);
    expect(nic?.ipv4_address, JSON.stringify(inventory.inventory.interfaces)).toBe(STATIC_IP);
    // The ramdisk saw EFI firmware: OVMF booted the ISO's ESP.
    expect(inventory.inventory.boot.current_boot_mode).toBe('uefi');
    // Fast track: the agent runs on, and so the CD stays mounted, for cleaning and the deploy.
    isoKey = new URL(rig.machine.getVirtualMedia().image!).pathname.slice(1);
    expect(existsSync(join(rig.dir, 'images', isoKey))).toBe(true);
  }, 600_000);

  let consoleBefore = 0;
  it('cleans and deploys it on the same ramdisk boot, reaches active, and OVMF boots the deployed OS, which reports its config drive', async () => {
    await rig.timed('provide (cleaning) and deploy', async () => {
      await rig.provision(nodeUuid, 'provide');
      await rig.waitForState(nodeUuid, 'available', 300);
      const patch = await rig.api.patch(`/v1/nodes/${nodeUuid}`, qcow2InstanceInfo(os));
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      consoleBefore = await rig.consoleLength();
      await rig.provision(nodeUuid, 'active', {
        configdrive: {
          meta_data: { uuid: nodeUuid, hostname: 'e2e-uefi' },
          user_data: OS_USER_DATA,
          network_data: {
            links: [{ id: 'nic0', type: 'phy', ethernet_mac_address: rig.mac }],
            networks: [{ id: 'net0', type: 'ipv4', link: 'nic0', ip_address: STATIC_IP, netmask: '255.255.255.0', routes: [] }],
            services: [],
          },
        },
      });
      await rig.waitForState(nodeUuid, 'active', 300);
    });
    // boot_instance powered the machine on from its disk: OVMF, GRUB, the kernel, the OS's first boot.
    const report = await rig.timed('instance boot on UEFI to its first-boot report', () => rig.consoleUntil(consoleBefore, 'anvil-os: first boot done', 240));
    expectOsReport(report, { firmware: 'uefi', hostname: 'e2e-uefi', address: STATIC_IP });
    await rig.powerOff(nodeUuid);
    const same = await execa('qemu-img', ['compare', '-U', '--image-opts', rawView(os.qcow2, OS_IMAGE_ESP.offset, OS_IMAGE_ESP.size), rawView(rig.disk, OS_IMAGE_ESP.offset, OS_IMAGE_ESP.size)], { reject: false });
    expect(same.stdout).toContain('Images are identical');
    // Booting the instance ejected the CD and deleted the node's ISO.
    expect(rig.machine.getVirtualMedia().inserted).toBe(false);
    expect(existsSync(join(rig.dir, 'images', isoKey))).toBe(false);
    // One ramdisk boot served inspection, cleaning and the deploy.
    expect(((await consoleText()).match(/anvil-ramdisk: \[[\d.]+\] starting the agent/g) ?? []).length).toBe(1);
  }, 600_000);
});
