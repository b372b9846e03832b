// Tenant networks end to end on a QEMU machine (TCG): the leaf's top-of-rack switch is an Open
// vSwitch (userspace datapath, in the leaf namespace: support/rig.ts `leafSwitch`) whose port tap0
// is the machine's NIC, and the node has the `switch` network interface. The agent is inspected
// and deploys on the provisioning VLAN (it reaches Anvil through the switch and the relay), waits
// on the cleaning VLAN, and switch_to_tenant_network moves the port to the tenant's VLAN before the
// instance boots. The booted OS takes its address from the network_data.json Anvil built from the
// VIF; a host on the tenant VLAN reaches it and the provisioning VLAN no longer does. Undeploy puts
// the port back on the cleaning VLAN, where the ramdisk boots for cleaning. Every VLAN the port
// carried is read from the switch's own transaction log. Where the port is plugged is learned by
// LLDP: OVS sends none, so lldpd on the switch side of tap0 is the switch's LLDP agent (system
// name tor, port tap0); the machine, whose switch port starts on the provisioning VLAN as a new
// rack's would, is inspected with the flat network interface, and its port's
// local_link_connection, now naming switch tor, lets it take the switch interface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOsImage, type OsImage } from './support/os-image.ts';
import { qcow2InstanceInfo } from './support/payload-image.ts';
import { startQemuRig, type QemuRig } from './support/rig.ts';

const VLAN = { provisioning: 100, cleaning: 110, tenant: 201, isolation: 4094 };
const SWITCH_MAC = '52:54:00:1e:af:02';
/** The tenant's subnet (TEST-NET-1: nothing routes it); the tenant host is its gateway. */
const TENANT_GATEWAY = '192.0.2.1';

let rig: QemuRig;
let nodeUuid: string;
let os: OsImage;
let tenantAddress = '';

const tapTag = async () => (await rig.ovs!.vsctl('get', 'port', 'tap0', 'tag')).trim();

/** Whether namespace role `role` gets an answer from `ip`. */
async function pings(role: string, ip: string): Promise<boolean> {
  return rig.ns.run(role, ['busybox', 'ping', '-c', '3', '-W', '2', ip], { timeout: 20_000 }).then(() => true, () => false);
}

beforeAll(async () => {
  rig = await startQemuRig({
    name: 'switch',
    memoryMb: 1024,
    leafSwitch: { provisioningVlan: VLAN.provisioning, cleaningVlan: VLAN.cleaning, isolationVlan: VLAN.isolation },
    lldp: { systemName: 'tor', chassisMac: SWITCH_MAC },
    configure(config) {
      Object.assign(config.network, { provisioningNetwork: 'prov', cleaningNetwork: 'clean', inspectionNetwork: 'prov' });
    },
  });
  os = await rig.timed('build the instance OS image (cached after the first run)', () => buildOsImage());
  // A host of the tenant's on the tenant VLAN: a namespace whose veth is a port of the switch.
  await rig.ns.add('tenant');
  await rig.ns.link({ role: 'tenant', ifname: 't0', addr: `${TENANT_GATEWAY}/24` }, { role: 'leaf', ifname: 'tv0' });
  await rig.ovs!.vsctl('add-port', 'sw0', 'tv0', `tag=${VLAN.tenant}`);
  for (const [name, kind, vlan, extra] of [
    ['prov', 'provisioning', VLAN.provisioning, {}], ['clean', 'cleaning', VLAN.cleaning, {}],
    ['tenant-a', 'tenant', VLAN.tenant, { cidr: '192.0.2.0/24', gateway: TENANT_GATEWAY }],
  ] as const) {
    const res = await rig.api.post('/v1/networks', { name, kind, vlan_id: vlan, ...extra });
    expect(res.status, JSON.stringify(res.data)).toBe(201);
  }
}, 900_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

describe('a QEMU machine behind an Open vSwitch top-of-rack switch', () => {
  it('inspects it with the flat interface: LLDP tells where its port is plugged, and it takes the switch interface', async () => {
    // The operator's starting point: a new machine's switch port on the provisioning VLAN.
    await rig.ovs!.vsctl('set', 'port', 'tap0', `tag=${VLAN.provisioning}`);
    nodeUuid = await rig.timed('enroll and manage', () => rig.enroll({ network_interface: 'flat' }));
    await rig.timed('inspect (flat, on the provisioning VLAN)', async () => {
      await rig.provision(nodeUuid, 'inspect');
      await rig.waitForState(nodeUuid, 'manageable', 300);
    });
    const port = (await rig.api.get(`/v1/ports?node=${nodeUuid}&detail=True`)).data.ports[0];
    expect(port.local_link_connection, `${await rig.diagnostics()}\n--- lldpd ---\n${rig.output.lldpd}`).toEqual({ switch_id: SWITCH_MAC, port_id: 'tap0', switch_info: 'tor' });
    const set = await rig.api.patch(`/v1/nodes/${nodeUuid}`, [{ op: 'replace', path: '/network_interface', value: 'switch' }]);
    expect(set.status, JSON.stringify(set.data)).toBe(200);
  }, 420_000);

  it('cleans it on the cleaning VLAN', async () => {
    await rig.timed('provide (cleaning on the cleaning VLAN)', async () => {
      await rig.provision(nodeUuid, 'provide');
      await rig.waitForState(nodeUuid, 'available', 300);
    });
    expect(await tapTag()).toBe(String(VLAN.cleaning));
  }, 330_000);

  it('deploys it through the provisioning VLAN; the booted OS is on the tenant VLAN only, with the address network_data gave it', async () => {
    const vif = await rig.api.post(`/v1/nodes/${nodeUuid}/vifs`, { id: 'tenant-a' });
    expect(vif.status, JSON.stringify(vif.data)).toBe(204);
    const patch = await rig.api.patch(`/v1/nodes/${nodeUuid}`, qcow2InstanceInfo(os));
    expect(patch.status, JSON.stringify(patch.data)).toBe(200);
    const consoleBefore = await rig.consoleLength();
    await rig.timed('deploy (agent on the provisioning VLAN, then the tenant VLAN)', async () => {
      // No network_data in the request: Anvil's, from the VIF and the network's subnet, goes in the config drive.
      await rig.provision(nodeUuid, 'active', { configdrive: { meta_data: { hostname: 'e2e-tenant' } } });
      await rig.waitForState(nodeUuid, 'active', 300);
    });
    expect(await tapTag()).toBe(String(VLAN.tenant));
    const history = (await rig.api.get(`/v1/nodes/${nodeUuid}/history`)).data.history.map((h: { event: string }) => h.event) as string[];
    const last = (prefix: string) => history.map((e) => e.startsWith(prefix)).lastIndexOf(true);
    const prov = last('Switch ports on the provisioning network prov: tor tap0 access VLAN 100');
    const tenant = last('Switch ports on the tenant networks: tor tap0 access VLAN 201');
    expect(prov).toBeGreaterThan(-1);
    expect(tenant).toBeGreaterThan(prov);

    const report = await rig.timed('instance boot to its first-boot report', () => rig.consoleUntil(consoleBefore, 'anvil-os: first boot done', 180));
    expect(report).toMatch(/anvil-os: hostname e2e-tenant\r?\n/);
    const address = /anvil-os: address eth0 (192\.0\.2\.\d+)\/24\r?\n/.exec(report);
    expect(address, report.slice(-2000)).not.toBeNull();
    tenantAddress = address![1];
    expect(tenantAddress).not.toBe(TENANT_GATEWAY);

    // The tenant's host reaches the instance through the switch...
    expect(await pings('tenant', tenantAddress)).toBe(true);
    // ...and the provisioning VLAN, given an address of that subnet for the test, does not.
    await rig.ns.run('leaf', ['ip', 'addr', 'add', '192.0.2.250/24', 'dev', 'gw']);
    try {
      expect(await pings('leaf', tenantAddress)).toBe(false);
    } finally {
      await rig.ns.run('leaf', ['ip', 'addr', 'del', '192.0.2.250/24', 'dev', 'gw']);
    }
  }, 630_000);

  it('undeploys it: the port goes back to the cleaning VLAN, where the ramdisk boots for cleaning', async () => {
    await rig.timed('undeploy (cleaning on the cleaning VLAN)', async () => {
      await rig.provision(nodeUuid, 'deleted');
      await rig.waitForState(nodeUuid, 'available', 300);
    });
    expect(await tapTag()).toBe(String(VLAN.cleaning));
    expect(await pings('tenant', tenantAddress)).toBe(false);
    // The switch's record: parked when plugged, the operator's provisioning VLAN for the first
    // inspection, then Anvil's moves: cleaning, provisioning for the deploy, the tenant's, cleaning.
    expect(await rig.ovs!.tagHistory('tap0')).toEqual([VLAN.isolation, VLAN.provisioning, VLAN.cleaning, VLAN.provisioning, VLAN.tenant, VLAN.cleaning].map(String));
  }, 330_000);
});
