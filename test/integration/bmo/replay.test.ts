// A faithful replay of Metal3's baremetal-operator (BMO) against Anvil: its call sequence, bodies,
// microversion choice and gophercloud's expectations (status codes, answer shapes), written from
// BMO's pkg/provisioner/ironic and pkg/hardwareutils/bmc and gophercloud's openstack/baremetal/v1
// (the modules beside this file, one per BMO concept). One Anvil all-in-one with http_basic over
// TLS, as Metal3 runs Ironic; a virtual rack of Redfish servers (generic, and one iDRAC-flavoured)
// and one of IPMI servers, whose machines boot the agent from the network (iPXE), the virtual CD
// or a UEFI HTTP boot URI. For each BMC kind: register, inspect, HostFirmwareSettings and
// components, RAID and BIOS in manual cleaning, provide, OpenShift's custom deploy (install_coreos
// with an Ignition config drive, read back from the disk with debugfs),
// DataImage attach/detach, a firmware update through servicing, deprovision, delete.
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import { startAllInOne, type RoleHandle } from '../../../services/roles.ts';
import { MAX_VERSION } from '../../../services/api/version.ts';
import { VirtualRack, type RackEvent } from '../../../simulators/rack/index.ts';
import { debugfsCat, makeCoreosImage, type CoreosImage } from '../../helpers/coreos-image.ts';
import { makeTestPki, type TestPki } from '../../helpers/tls.ts';
import { accessDetails, type BmcKind } from './access.ts';
import { dataImageCycle } from './data-image.ts';
import { deleteHost, deprovision } from './deprovision.ts';
import { nodes, ServiceClient } from './gophercloud.ts';
import { chooseMicroversion, hasCapacity, type Host } from './host.ts';
import { getFirmwareComponents, getFirmwareSettings } from './host-firmware.ts';
import { inspectHardware } from './inspect.ts';
import { prepare } from './prepare.ts';
import { provide, provision, type ProvisionData } from './provision.ts';
import { register } from './register.ts';
import { firmwareUpdateStep, service } from './servicing.ts';

const DEPLOY_ISO = 'http://127.0.0.1:9/ironic-python-agent.iso';
const IGNITION = JSON.stringify({ ignition: { version: '3.2.0' }, passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAA replay'] }] } });

// Which rack machine each kind drives: the Redfish rack's machines 0–3 (3 is iDRAC), the IPMI rack's 0.
const KINDS: { kind: BmcKind; rack: 'redfish' | 'ipmi'; machine: number }[] = [
  { kind: 'ipmi', rack: 'ipmi', machine: 0 },
  { kind: 'redfish', rack: 'redfish', machine: 0 },
  { kind: 'redfish-virtualmedia', rack: 'redfish', machine: 1 },
  { kind: 'redfish-uefihttp', rack: 'redfish', machine: 2 },
  { kind: 'idrac-virtualmedia', rack: 'redfish', machine: 3 },
];

describe('BMO replay against Anvil (http_basic over TLS)', { timeout: 600_000 }, () => {
  let dir: string;
  let pki: TestPki;
  let anvil: RoleHandle;
  let racks: Record<'redfish' | 'ipmi', VirtualRack>;
  let image: CoreosImage;
  let files: http.Server;
  let filesUrl: string;
  const events: RackEvent[] = [];
  const password = 'metal3 ironic:password';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-bmo-'));
    pki = makeTestPki();
    const userFile = path.join(pki.dir, 'htpasswd');
    writeFileSync(userFile, execFileSync('htpasswd', ['-nbB', '-C', '5', 'metal3', password], { encoding: 'utf8' }));
    const config = defaultConfig(dir);
    config.api.port = 0;
    config.api.tls = { cert: pki.serverCert, key: pki.serverKey, clientCa: undefined };
    Object.assign(config.auth, { strategy: 'http_basic', userFile });
    config.conductor = { ...config.conductor, hostname: 'bmo-replay', pollInterval: 0.2, heartbeatInterval: 0.5, powerSyncInterval: 0 };
    config.netboot = { serverAddress: '127.0.0.1', apiCa: pki.caCert, dhcp: { enabled: false }, tftp: { enabled: false }, http: { listen: '127.0.0.1:0' } };
    image = await makeCoreosImage(path.join(dir, 'images'));
    // What Metal3's httpd serves: the image, and firmware packages (the version is in the name).
    files = http.createServer((req, res) => {
      if (req.url === '/image.qcow2') createReadStream(image.qcow2).pipe(res);
      else if (req.url?.endsWith('.bin')) res.end(Buffer.alloc(4096, 1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    anvil = await startAllInOne(config, silentLogger);
    const common = { apiUrl: anvil.apiUrl!, netbootUrl: anvil.netbootUrl, logger: silentLogger, apiCa: readFileSync(pki.caCert, 'utf8'), deployIso: DEPLOY_ISO };
    racks = {
      redfish: await VirtualRack.start({ ...common, machines: 4, bmc: 'redfish', diskDir: path.join(dir, 'disks-redfish'), redfish: { flavor: (_m, i) => (i === 3 ? 'idrac' : 'generic'), taskMs: 50 } }),
      ipmi: await VirtualRack.start({ ...common, machines: 1, firstMachine: 5, bmc: 'ipmi', diskDir: path.join(dir, 'disks-ipmi') }),
    };
    for (const rack of Object.values(racks)) rack.on('event', (e: RackEvent) => events.push(e));
  });

  afterAll(async () => {
    for (const rack of Object.values(racks ?? {})) await rack.close();
    await anvil?.stop();
    await new Promise((r) => files?.close(r));
    await rm(dir, { recursive: true, force: true });
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  /** The BMC address a BareMetalHost of this kind would carry, pointing at the rack's simulator (plain http: "+http"). */
  function bmcAddress(kind: BmcKind, rack: VirtualRack, machine: number): string {
    const info = rack.enrollment(machine).node.driver_info;
    if (kind === 'ipmi') return `ipmi://${info.ipmi_address}:${info.ipmi_port}`;
    return `${kind}+${String(info.redfish_address)}${info.redfish_system_id}`;
  }

  it('chooses its microversion from the server maximum, with basic auth over TLS', async () => {
    const client = new ServiceClient({ endpoint: `${anvil.apiUrl}/v1/`, username: 'metal3', password, ca: readFileSync(pki.caCert, 'utf8') });
    // BMO sends 1.110 (deploy abort) once the server serves it, as Anvil does from 1.110.
    expect(await chooseMicroversion(client)).toEqual({ max: MAX_VERSION, chosen: '1.110' });
    // The version document is public, as Ironic's; anything else with wrong credentials is a 401 gophercloud reports.
    const wrong = new ServiceClient({ ...client.opts, password: 'nope' });
    await expect(nodes.get(wrong, 'metal3~nobody')).rejects.toThrow(/but got 401/);
  });

  it.each(KINDS)('drives a $kind host through its whole life', async ({ kind, rack: rackName, machine: index }) => {
    const rack = racks[rackName];
    const machine = rack.machines[index];
    const client = new ServiceClient({ endpoint: `${anvil.apiUrl}/v1/`, username: 'metal3', password, ca: readFileSync(pki.caCert, 'utf8') });
    await chooseMicroversion(client);
    const enrolment = rack.enrollment(index);
    const host: Host = {
      client, namespace: 'openshift-machine-api', name: `worker-${kind}`, uid: `0b6d3a7e-1c2f-4b5a-9d8e-${(index + (rackName === 'ipmi' ? 10 : 0)).toString(16).padStart(12, '0')}`,
      access: accessDetails(bmcAddress(kind, rack, index)),
      credentials: { username: String(enrolment.node.driver_info.redfish_username ?? enrolment.node.driver_info.ipmi_username), password: String(enrolment.node.driver_info.redfish_password ?? enrolment.node.driver_info.ipmi_password) },
      bootMACAddress: machine.hardware.nics[0].mac,
      deployImages: { kernel: 'http://127.0.0.1:9/ironic-python-agent.kernel', ramdisk: 'http://127.0.0.1:9/ironic-python-agent.initramfs', iso: DEPLOY_ISO },
    };
    const since = events.length;
    const redfishLike = kind !== 'ipmi';

    // Registering: enrolled with BMO's body (disable_power_off, its interfaces), port, manageable, configured.
    let node = await register(host, { disablePowerOff: false, bootMode: 'UEFI', cpuArchitecture: 'x86_64', hasCustomDeploy: true });
    expect(node.automated_clean).toBe(true);

    // Inspecting (in band: BMO's default inspection mode) once HasCapacity says so, then its NICs as ports.
    expect(await hasCapacity(host)).toBe(true);
    const { nics } = await inspectHardware(host, node, 'UEFI');
    expect(nics.map((n) => n.mac).sort()).toEqual(machine.hardware.nics.map((n) => n.mac).sort());

    // HostFirmwareSettings and HostFirmwareComponents.
    const { settings, schema } = await getFirmwareSettings(host);
    const components = await getFirmwareComponents(host);
    if (redfishLike) {
      expect(settings.ProcTurboMode).toBe('Enabled');
      expect(schema.ProcTurboMode).toMatchObject({ attributeType: 'Enumeration', allowableValues: ['Enabled', 'Disabled'] });
      // BMO keeps NIC firmware as components named nic:<adapter>, as Anvil's Redfish firmware interface reports them.
      expect(components.map((c) => c.component).sort()).toEqual(['bios', 'bmc', 'nic:NIC.Slot.1']);
    } else {
      // ipmi: no-bios and no-firmware; both lists are empty, as from Ironic.
      expect(settings).toEqual({});
      expect(components).toEqual([]);
    }

    // Preparing: RAID and BIOS settings in one manual clean. RAID on the iDRAC only: the generic
    // simulator has SimpleStorage and no Storage controller to build volumes on.
    const raid = kind === 'idrac-virtualmedia';
    node = await nodes.get(host.client, host.nodeID!);
    const steps = await prepare(host, node, {
      targetRAID: raid ? [{ level: '0', sizeGibibytes: 50, name: 'root' }] : null,
      targetFirmwareSettings: redfishLike ? { ProcTurboMode: 'Disabled' } : {},
      actualFirmwareSettings: settings,
    });
    if (redfishLike) {
      expect(steps.map((s) => `${s.interface}.${s.step}`)).toEqual([...(raid ? ['raid.delete_configuration', 'raid.create_configuration'] : []), 'bios.apply_configuration']);
      node = await nodes.get(host.client, host.nodeID!);
      if (raid) expect(node.raid_config.logical_disks).toEqual([expect.objectContaining({ raid_level: '0', size_gb: 50, is_root_volume: true, volume_name: 'root' })]);
      expect((await getFirmwareSettings(host)).settings.ProcTurboMode).toBe('Disabled');
    } else {
      expect(steps).toEqual([]);
    }

    // Provisioning: provide (automated cleaning), then OpenShift's custom deploy: install_coreos
    // writes the CoreOS image and the config drive's Ignition config where CoreOS's first boot reads it.
    await provide(host);
    expect(await hasCapacity(host)).toBe(true);
    const data: ProvisionData = {
      image: { url: `${filesUrl}/image.qcow2`, checksum: image.sha256, checksumType: 'sha256', diskFormat: 'qcow2' },
      customDeployMethod: 'install_coreos',
      userData: IGNITION,
    };
    node = await provision(host, data);
    expect(node).toMatchObject({ power_state: 'power on', instance_uuid: host.uid });
    const disk = rack.diskPath(machine);
    const written = async () => ({ os: await debugfsCat(disk, image.root.offset, 'etc/os-release'), ignition: await debugfsCat(disk, image.boot!.offset, 'ignition/config.ign') });
    expect(await written()).toEqual({ os: image.osRelease.trimEnd(), ignition: IGNITION });

    // DataImage on BMCs with virtual media (Redfish management); IPMI has none.
    if (redfishLike) await dataImageCycle(host, `${filesUrl}/data-image.iso`);

    // A firmware update through servicing (HostFirmwareComponents spec.updates), back to active.
    if (redfishLike) {
      await service(host, [firmwareUpdateStep([{ component: 'bios', url: `${filesUrl}/bios-2.2.0.bin` }])]);
      const bios = (await getFirmwareComponents(host)).find((c) => c.component === 'bios')!;
      expect(bios).toMatchObject({ currentVersion: '2.2.0', lastVersionFlashed: '2.2.0' });
      expect(await written()).toEqual({ os: image.osRelease.trimEnd(), ignition: IGNITION });
    }

    // Deprovisioning (automated cleaning) and delete.
    node = await deprovision(host);
    await deleteHost(host, node);

    // The machine booted the agent the way its boot interface says.
    const mine = events.slice(since).filter((e) => e.machine === machine.name);
    if (kind === 'ipmi' || kind === 'redfish') expect(mine.some((e) => e.kind === 'netboot')).toBe(true);
    if (kind === 'redfish-virtualmedia' || kind === 'idrac-virtualmedia') expect(mine).toContainEqual(expect.objectContaining({ kind: 'iso-boot', via: 'cdrom', image: DEPLOY_ISO, agent: true }));
    if (kind === 'redfish-uefihttp') expect(mine).toContainEqual(expect.objectContaining({ kind: 'iso-boot', via: 'http', image: DEPLOY_ISO, agent: true }));
    // Every call answered with a status gophercloud accepts (a refused one would have thrown).
    expect(client.calls.every((c) => c.status < 400 || (c.method === 'GET' && c.status === 404))).toBe(true);
  });
});
