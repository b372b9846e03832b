// UEFI HTTP boot with ProxyDHCP, end to end, and no TFTP at all: an OVMF machine whose firmware boots
// its NIC over UEFI HTTP only (PXE off, no iPXE option ROM) sits on a leaf whose relay forwards to the
// site's DHCP server (dnsmasq, addresses only) and to Anvil in ProxyDHCP mode. The firmware takes its
// address from dnsmasq and the URL of iPXE's snponly.efi from Anvil's address-less offer (vendor class
// HTTPClient), downloads it over HTTP; iPXE asks again, gets the node's script from Anvil's next proxy
// offer, boots the agent over HTTP, and the node is inspected, cleaned and deployed.
// Then redfish-https: the simulated BMC writes the node ISO's URL (Redfish HttpBootUri) into the OVMF
// machine's variable store as a boot option and BootNext, as a BMC hands it to its BIOS; OVMF HTTP-boots
// that ISO as a RAM disk, its address from dnsmasq (Anvil's DHCP answers nothing for this node).
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePayloadImage, qcow2InstanceInfo, type PayloadImage } from './support/payload-image.ts';
import { readSectors, SERVER, startQemuRig, type QemuRig } from './support/rig.ts';

const MAC = '52:54:00:e2:e0:07';

let rig: QemuRig;
let nodeUuid: string;
let image: PayloadImage;

const consoleText = async () => readFile(rig.machine.consoleLog, 'latin1').catch(() => '');

describe('UEFI HTTP boot beside the site DHCP server (ProxyDHCP), no TFTP', () => {
  beforeAll(async () => {
    rig = await startQemuRig({
      name: 'httpboot', mac: MAC, siteDhcp: true, machine: { firmware: 'uefi', uefiHttpBoot: true },
      configure: (config) => {
        config.netboot.dhcp.mode = 'proxy';
        config.netboot.bootFiles = { httpClient: 'snponly.efi' };
      },
    });
    // Debian's iPXE build that drives the NIC through the firmware's own network interface (SNP).
    await copyFile('/usr/lib/ipxe/snponly.efi', join(rig.httpRoot, 'snponly.efi'));
    image = await makePayloadImage(rig.dir, 13);
  }, 900_000);

  afterAll(async () => {
    await rig?.close();
  }, 60_000);

  it('enrolls the machine with the http boot interface', async () => {
    nodeUuid = await rig.enroll({ boot_interface: 'http' });
  });

  it('inspects it: OVMF boots snponly.efi by HTTP from Anvil\'s proxy offer, its address from dnsmasq', async () => {
    await rig.timed('inspect (UEFI HTTP boot, ProxyDHCP)', async () => {
      await rig.provision(nodeUuid, 'inspect');
      const node = await rig.waitForState(nodeUuid, 'manageable', 500);
      expect(node.last_error).toBeNull();
    });
    const log = await consoleText();
    expect(log).toContain('Start HTTP Boot over IPv4');
    expect(log).not.toMatch(/Start PXE over IPv4/);
    expect(log).toContain(`http://${SERVER}:8080/boot/${MAC}.ipxe`);
    const inventory = (await rig.api.get(`/v1/nodes/${nodeUuid}/inventory`)).data;
    expect(inventory.inventory.boot.current_boot_mode).toBe('uefi');
    const nic = inventory.inventory.interfaces.find((i: { mac_address: string }) => i.mac_address === MAC);
    // The ramdisk's address, too, is the site server's (its pool is .150-.160; Anvil's would be .100-.110).
    expect(nic?.ipv4_address, JSON.stringify(inventory.inventory.interfaces)).toMatch(/^172\.31\.3\.1(5\d|60)$/);
    expect(rig.site!.log()).toMatch(new RegExp(`DHCPACK\\(s0\\) 172\\.31\\.3\\.1(5\\d|60) ${MAC}`));
    // Anvil leased nothing.
    expect((await rig.api.get('/v1/netboot/leases')).data).toMatchObject({ leases: [] });
  }, 600_000);

  it('cleans and deploys it and reaches active, with nothing served over TFTP', async () => {
    await rig.timed('provide (cleaning) and deploy', async () => {
      await rig.provision(nodeUuid, 'provide');
      await rig.waitForState(nodeUuid, 'available', 400);
      const patch = await rig.api.patch(`/v1/nodes/${nodeUuid}`, qcow2InstanceInfo(image));
      expect(patch.status, JSON.stringify(patch.data)).toBe(200);
      await rig.provision(nodeUuid, 'active');
      await rig.waitForState(nodeUuid, 'active', 400);
    });
    expect((await readSectors(rig.disk, 2048, image.payload.length / 512)).equals(image.payload)).toBe(true);
    const metrics = String((await rig.api.get('/metrics')).data);
    // Two proxy offers through the relay (the firmware's, iPXE's), and no ACK from Anvil on port 67.
    expect(metrics).toMatch(/^anvil_netboot_dhcp_messages_total\{direction="out",type="OFFER",relayed="true"\} [1-9]/m);
    expect(metrics).not.toMatch(/^anvil_netboot_dhcp_messages_total\{direction="out",type="ACK",relayed="true"\}/m);
    expect(metrics).toMatch(/^anvil_netboot_tftp_bytes_total 0$/m);
    expect(metrics).not.toMatch(/^anvil_netboot_tftp_transfers_total\{/m);
  }, 900_000);
});

describe('redfish-https: the BMC\'s HttpBootUri booted by OVMF', () => {
  const URI_MAC = '52:54:00:e2:e0:08';
  beforeAll(async () => {
    rig = await startQemuRig({ name: 'httpboot-uri', mac: URI_MAC, siteDhcp: true, machine: { firmware: 'uefi', uefiHttpBoot: true } });
  }, 900_000);

  afterAll(async () => {
    await rig?.close();
  }, 60_000);

  it('inspects a redfish-https node: OVMF boots the node ISO at the HttpBootUri the BMC was given', async () => {
    nodeUuid = await rig.enroll({ boot_interface: 'redfish-https' });
    await rig.timed('inspect (redfish-https: HttpBootUri of the node ISO)', async () => {
      await rig.provision(nodeUuid, 'inspect');
      const node = await rig.waitForState(nodeUuid, 'manageable', 500);
      expect(node.last_error).toBeNull();
    });
    const uri = rig.machine.getBootOverride().httpBootUri;
    expect(uri).toMatch(/^http:\/\/172\.31\.0\.1:\d+\/[0-9a-f]{40}\?node=.*temp_url_sig=/);
    // Nothing was mounted: the ISO came over UEFI HTTP.
    expect(rig.machine.getVirtualMedia().inserted).toBe(false);
    const log = await consoleText();
    expect(log).toContain('Start HTTP Boot over IPv4');
    // GRUB of the node ISO, from the RAM disk OVMF made of the download, then the agent.
    expect(log).toMatch(/anvil-ramdisk: \[[\d.]+\] starting the agent/);
    const inventory = (await rig.api.get(`/v1/nodes/${nodeUuid}/inventory`)).data;
    expect(inventory.inventory.boot.current_boot_mode).toBe('uefi');
    const nic = inventory.inventory.interfaces.find((i: { mac_address: string }) => i.mac_address === URI_MAC);
    expect(nic?.ipv4_address, JSON.stringify(inventory.inventory.interfaces)).toMatch(/^172\.31\.3\.1(5\d|60)$/);
    // No boot record, so Anvil's DHCP server answered nothing: the site server gave both addresses.
    expect((await rig.api.get('/v1/netboot/leases')).data).toMatchObject({ leases: [] });
    expect(String((await rig.api.get('/metrics')).data)).not.toMatch(/^anvil_netboot_dhcp_messages_total\{direction="out"/m);
  }, 600_000);
});
