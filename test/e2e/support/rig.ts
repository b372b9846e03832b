// The QEMU end-to-end rig every e2e case starts from: a routed provisioning network in network
// namespaces, Anvil all-in-one (netboot role included) in one of them, a QEMU machine (TCG) on a
// leaf behind ISC dhcrelay, and a simulated BMC (Redfish, IPMI with Serial over LAN to the machine's
// serial port, or an oVirt Engine) driving it.
//
//   prov (172.31.0.1: anvil all-in-one) ─p0──l0─ leaf (router, dhcrelay, radvd)
//   leaf tap0 172.31.3.1/24 ── the QEMU machine (iPXE ROM, virtio NIC, qcow2 disk)
//   leaf l9 172.31.9.1/24 ── site (172.31.9.2: dnsmasq, the site's DHCP server; with siteDhcp only)
//
// With `leafSwitch`, the leaf's side of the machine is an Open vSwitch playing the top-of-rack
// switch (switch `tor` in Anvil's configuration), whose ports Anvil's switch network interface moves:
//   leaf: OVS bridge sw0 ─ tap0 (the machine's NIC; the isolation VLAN until Anvil moves it)
//                      ─ gw 172.31.3.1/24 (internal port, the router: provisioning VLAN)
//                      ─ patch pair provisioning VLAN ↔ cleaning VLAN (in a rack both are routed to the relay)
//
// With `ipv6`, the machine's leaf is IPv6 only: prov fd00:31::1 ─ leaf fd00:31::2, the router's side
// fd00:31:3::1/64 with no IPv4 address; radvd advertises the managed flag (addresses by DHCPv6 only),
// dhcrelay -6 relays to Anvil's DHCPv6 server, Anvil's URLs (API, HTTP boot, images) and the BMC's are IPv6 literals.
//
// The test process (host namespace) runs the BMC simulator and the QEMU machine object; it reaches
// the API, and the conductor reaches the BMC, through unix-socket bridges, so no address is added
// outside the test's own namespaces. Each test file starts its own rig (namespace names are unique).
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios, { type AxiosInstance } from 'axios';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { expect } from 'vitest';
import { buildRamdisk } from '../../../ramdisk/build.ts';
import { startRedfishSimulator, type RedfishSimulator } from '../../../simulators/redfish-bmc/index.ts';
import { startEngineSimulator, type EngineSimulator } from '../../../simulators/ovirt-engine/index.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../../../simulators/ipmi-bmc/index.ts';
import { QemuMachine, type QemuMachineOptions } from '../../../simulators/qemu/machine.ts';
import { canUseNetns, createNamespaces, type Namespaces } from '../../integration/netboot/netns.ts';
import { startSiteDhcp, type SiteDhcp } from '../../integration/netboot/site-dhcp.ts';
import { startOvs, type TestOvs } from '../../helpers/ovs.ts';
import { startBridge } from './bridge.ts';
import { urlHost } from '../../../common/url-host.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const ANVIL = join(ROOT, 'bin', 'anvil.js');
const BRIDGE = join(ROOT, 'test', 'e2e', 'support', 'bridge.ts');
export const SERVER = '172.31.0.1';
/** The prov namespace's IPv6 address: Anvil's API, DHCPv6 and HTTP boot server in the IPv6 rig. */
export const SERVER6 = 'fd00:31::1';
const LEAF6 = 'fd00:31:3::';
const BMC_USER = 'admin';

export type RigPower = 'redfish' | 'ovirt' | 'ipmi';

export interface RigOptions {
  /** Names the VM and the temporary folder. */
  name: string;
  mac?: string;
  /** The BMC: ipmi's Serial over LAN needs machine.serialSocket (it carries the machine's serial port). */
  power?: RigPower;
  cpus?: number;
  memoryMb?: number;
  diskBytes?: number;
  /** More QEMU machine options (firmware, extra NICs …); the rig's disk and NIC come first. */
  machine?: Partial<QemuMachineOptions>;
  /** false: no dhcrelay on the leaf (a network without DHCP). */
  relay?: boolean;
  /**
   * The site's own DHCP server (dnsmasq, addresses only) behind the leaf, its relay forwarding to it and
   * to Anvil: the setting of Anvil's ProxyDHCP mode (set netboot.dhcp.mode through `configure`).
   */
  siteDhcp?: boolean;
  /** The machine's leaf is IPv6 only (DHCPv6 through dhcrelay -6, router advertisements with the managed flag; see the top). */
  ipv6?: boolean;
  /** Edits the all-in-one configuration before Anvil starts. */
  configure?: (config: Record<string, any>) => void;
  /** The leaf is an Open vSwitch (see the top of this file) with these VLANs; the configuration gets its switch `tor` and isolationVlan. */
  leafSwitch?: { provisioningVlan: number; cleaningVlan: number; isolationVlan: number };
  /** Debian's lldpd on the leaf's side of the machine's link (tap0) announces a switch: chassis id `chassisMac` (tap0's MAC), port "tap0", `systemName`. */
  lldp?: { systemName: string; chassisMac: string };
}

export interface QemuRig {
  dir: string;
  ns: Namespaces;
  machine: QemuMachine;
  /** The API through its unix-socket bridge. */
  api: AxiosInstance;
  /** Output of the processes started in namespaces, by name (`anvil`, …). */
  output: Record<string, string>;
  /** The netboot role's HTTP root (deploy.kernel and deploy.initramfs are there). */
  httpRoot: string;
  tftpRoot: string;
  /** The site's DHCP server, with siteDhcp. */
  site?: SiteDhcp;
  /** The leaf's Open vSwitch (leafSwitch), its bridge `sw0`. */
  ovs?: TestOvs;
  /** The machine's first disk (qcow2). */
  disk: string;
  diskBytes: number;
  mac: string;
  power: RigPower;
  bmcPassword: string;
  /** driver_info that reaches the rig's BMC from the prov namespace. */
  driverInfo(): Record<string, unknown>;
  phases: [string, number][];
  timed<T>(phase: string, work: () => Promise<T>): Promise<T>;
  /** Starts a long-running process in a namespace and waits for `ready` in its output. */
  startIn(role: string, name: string, cmd: string[], ready: string): Promise<void>;
  /** A unix socket (in the rig's folder) whose connections reach `target` (tcp:HOST:PORT) inside namespace `role`. */
  reachIn(role: string, name: string, target: string): Promise<string>;
  /** The end of the machine's serial console and of Anvil's log, for failure messages. */
  diagnostics(): Promise<string>;
  /** The serial console's length now: where a later consoleUntil starts reading. */
  consoleLength(): Promise<number>;
  /** Waits for `line` on the serial console after `from` (a consoleLength); returns what came since. */
  consoleUntil(from: number, line: string, limitSec: number): Promise<string>;
  /** Waits for the node to reach `state`; a failure state ends the wait with the node's last_error. */
  waitForState(node: string, state: string, limitSec: number): Promise<Record<string, unknown>>;
  provision(node: string, target: string, extra?: Record<string, unknown>): Promise<void>;
  /** Powers the node off through the API and waits until the machine is off. */
  powerOff(node: string): Promise<void>;
  /** Enrolls the machine (node + PXE port), then manage → manageable; returns the node's UUID. */
  enroll(fields?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startQemuRig(options: RigOptions): Promise<QemuRig> {
  const problem = await canUseNetns();
  if (problem) throw new Error(`the QEMU e2e tests cannot run on this machine: ${problem}`);
  const power = options.power ?? 'redfish';
  const mac = options.mac ?? '52:54:00:e2:e0:01';
  const diskBytes = options.diskBytes ?? 5 * 1024 ** 3;
  // IPMI 2.0 passwords are at most 20 bytes.
  const bmcPassword = power === 'ipmi' ? `e2e-ipmi-${options.name}`.slice(0, 20) : `e2e-bmc-secret-${options.name}`;
  // Where prov reaches the BMC: on ::1 in the IPv6 rig (a BMC that speaks only IPv6).
  const bmcHost = options.ipv6 ? '::1' : '127.0.0.1';
  const output: Record<string, string> = {};
  const phases: [string, number][] = [];
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      phases.push([phase, (Date.now() - started) / 1000]);
      console.log(`e2e phase ${phase}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  };

  const ramdisk = await timed('build ramdisk (cached after the first run)', () => buildRamdisk());
  const dir = await mkdtemp(join(tmpdir(), `anvil-e2e-${options.name}-`));
  const tftpRoot = join(dir, 'tftpboot');
  const httpRoot = join(dir, 'httpboot');
  await mkdir(tftpRoot);
  await mkdir(httpRoot);
  await copyFile(ramdisk.kernel, join(httpRoot, 'deploy.kernel'));
  await copyFile(ramdisk.initramfs, join(httpRoot, 'deploy.initramfs'));
  const disk = join(dir, 'disk.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, String(diskBytes)]);

  const ns = createNamespaces();
  let machine: QemuMachine | undefined;
  let redfish: RedfishSimulator | undefined;
  let engine: EngineSimulator | undefined;
  let ipmi: IpmiSimulator | undefined;
  let bmcBridge: { close(): void } | undefined;
  let site: SiteDhcp | undefined;
  let ovs: TestOvs | undefined;
  let lldpdDir: string | undefined;
  const close = async (): Promise<void> => {
    await machine?.close().catch(() => undefined);
    await ovs?.stop();
    await ns.remove();
    if (lldpdDir) await rm(lldpdDir, { recursive: true, force: true });
    bmcBridge?.close();
    await redfish?.close();
    await engine?.close();
    await ipmi?.close();
    if (phases.length) console.log(`e2e phase times (${options.name}):\n${phases.map(([p, s]) => `  ${p.padEnd(48)} ${s.toFixed(1)} s`).join('\n')}`);
    // ANVIL_E2E_KEEP_LOGS=DIR keeps Anvil's log and the serial console (DIR/NAME.anvil.log, DIR/NAME.console.log) for timing a run.
    const keep = process.env.ANVIL_E2E_KEEP_LOGS;
    if (keep) {
      await mkdir(keep, { recursive: true });
      await writeFile(join(keep, `${options.name}.anvil.log`), output.anvil ?? '');
      await copyFile(join(dir, 'vm', 'console.log'), join(keep, `${options.name}.console.log`)).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const startIn = async (role: string, name: string, cmd: string[], ready: string): Promise<void> => {
    const child = ns.spawn(role, cmd);
    output[name] = '';
    child.all!.on('data', (chunk: Buffer) => { output[name] += chunk.toString(); });
    const deadline = Date.now() + 30_000;
    while (!output[name].includes(ready)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start:\n${output[name].slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    await timed('network namespaces, relay and Anvil start', async () => {
      await ns.add('prov');
      await ns.add('leaf');
      await ns.link({ role: 'prov', ifname: 'p0', addr: `${SERVER}/24` }, { role: 'leaf', ifname: 'l0', addr: '172.31.0.2/24' });
      await ns.run('leaf', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      await ns.run('leaf', ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
      await ns.run('leaf', ['ip', 'link', 'set', 'tap0', 'up']);
      // The leaf router's side of the machine's network: tap0 itself, or the switch's gw port.
      const router = options.leafSwitch ? 'gw' : 'tap0';
      if (options.leafSwitch) {
        const { provisioningVlan, cleaningVlan, isolationVlan } = options.leafSwitch;
        ovs = await startOvs({ netns: ns.name('leaf') });
        await ovs.addBridge('sw0');
        await ovs.vsctl('add-port', 'sw0', 'tap0', `tag=${isolationVlan}`);
        await ovs.vsctl('add-port', 'sw0', 'gw', `tag=${provisioningVlan}`, '--', 'set', 'interface', 'gw', 'type=internal');
        await ovs.vsctl(
          'add-port', 'sw0', 'pp', `tag=${provisioningVlan}`, '--', 'set', 'interface', 'pp', 'type=patch', 'options:peer=pc',
          '--', 'add-port', 'sw0', 'pc', `tag=${cleaningVlan}`, '--', 'set', 'interface', 'pc', 'type=patch', 'options:peer=pp',
        );
        await ns.run('leaf', ['ip', 'link', 'set', 'gw', 'up']);
      }
      if (!options.ipv6) await ns.run('leaf', ['ip', 'addr', 'add', '172.31.3.1/24', 'dev', router]);
      if (options.lldp) {
        await ns.run('leaf', ['ip', 'link', 'set', 'tap0', 'address', options.lldp.chassisMac]);
        // Its control socket where lldpd's unprivileged half can reach it (the rig's folder is root's alone).
        lldpdDir = await mkdtemp(join(tmpdir(), 'anvil-e2e-lldpd-'));
        await chmod(lldpdDir, 0o755);
        const conf = join(lldpdDir, 'lldpd.conf');
        await writeFile(conf, `configure system hostname ${options.lldp.systemName}\nconfigure lldp portidsubtype ifname\nconfigure lldp tx-interval 1\n`);
        await startIn('leaf', 'lldpd', ['lldpd', '-d', '-I', 'tap0', '-u', join(lldpdDir, 'lldpd.sock'), '-O', conf], 'lldpd should resume operations');
      }
      await ns.run('prov', ['ip', 'route', 'add', '172.31.3.0/24', 'via', '172.31.0.2']);
      if (options.siteDhcp) site = await startSiteDhcp(ns, { leaf: 'leaf', net: '172.31.9', dir, subnets: [{ cidr: '172.31.3.0/24', start: '172.31.3.150', end: '172.31.3.160', router: '172.31.3.1' }] });
      await ns.run('leaf', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
      if (options.ipv6) {
        await ns.run('prov', ['ip', '-6', 'addr', 'add', `${SERVER6}/64`, 'dev', 'p0', 'nodad']);
        await ns.run('leaf', ['ip', '-6', 'addr', 'add', 'fd00:31::2/64', 'dev', 'l0', 'nodad']);
        await ns.run('leaf', ['ip', '-6', 'addr', 'add', `${LEAF6}1/64`, 'dev', router, 'nodad']);
        await ns.run('prov', ['ip', '-6', 'route', 'add', `${LEAF6}/64`, 'via', 'fd00:31::2']);
        // The relay: clients on the router's side (lower), Anvil's DHCPv6 server upstream on l0.
        if (options.relay !== false) ns.spawn('leaf', ['dhcrelay', '-6', '-d', '--no-pid', '-l', router, '-u', `${SERVER6}%l0`]);
        // Managed: addresses come from DHCPv6 alone (no autonomous prefix), the route from this advertisement.
        await writeFile(join(dir, 'radvd.conf'), `interface ${router} {\n  AdvSendAdvert on;\n  AdvManagedFlag on;\n  AdvOtherConfigFlag on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  prefix ${LEAF6}/64 { AdvAutonomous off; AdvOnLink on; };\n};\n`);
      } else {
        if (options.relay !== false) {
          const upstream = site ? ['-iu', 'l0', '-iu', 'l9', SERVER, site.address] : ['-iu', 'l0', SERVER];
          ns.spawn('leaf', ['dhcrelay', '-4', '-d', '-a', '--no-pid', '-id', router, ...upstream]);
        }
        // A link-local-only router advertisement spares iPXE its ~16 s wait for IPv6 autoconfiguration.
        await writeFile(join(dir, 'radvd.conf'), `interface ${router} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n};\n`);
      }
      ns.spawn('leaf', ['radvd', '-n', '-C', join(dir, 'radvd.conf'), '-p', join(dir, 'radvd.pid'), '-m', 'stderr']);

      const config: Record<string, any> = {
        dataDir: dir,
        api: { host: SERVER, port: 6385 },
        // The API listens only inside this test's own network namespaces, reached by the test and the VM alone.
        auth: { strategy: 'noauth', allowInsecureNoauth: true },
        log: { level: 'info', pretty: false },
        conductor: {
          pollInterval: 1,
          timeouts: { deployCallback: 300, cleanCallback: 300, inspectWait: 300, working: 300 },
        },
        netboot: {
          serverAddress: SERVER,
          apiUrl: `http://${SERVER}:6385`,
          dhcp: { listen: '0.0.0.0:67' },
          tftp: { listen: '0.0.0.0:69', root: tftpRoot },
          http: { listen: '0.0.0.0:8080', root: httpRoot },
          subnets: [{ name: 'vmleaf', cidr: '172.31.3.0/24', range: { start: '172.31.3.100', end: '172.31.3.110' }, router: '172.31.3.1' }],
        },
      };
      if (ovs) config.network = { isolationVlan: options.leafSwitch!.isolationVlan, switches: { tor: { driver: 'ovs', socket: ovs.socket, bridge: 'sw0' } } };
      if (options.ipv6) {
        // Every URL the machine and its BMC get is an IPv6 literal; IPv4 DHCP is off.
        config.api = { host: '::', port: 6385, publicUrl: `http://[${SERVER6}]:6385` };
        Object.assign(config.netboot, {
          serverAddress6: SERVER6,
          apiUrl: `http://[${SERVER6}]:6385`,
          dhcp: { enabled: false },
          dhcp6: { listen: '[::]:547' },
          // The iPXE ROM fetches everything over HTTP; the TFTP server speaks IPv4 only.
          tftp: { enabled: false, root: tftpRoot },
          http: { listen: '[::]:8080', root: httpRoot, publicUrl: `http://[${SERVER6}]:8080` },
          subnets: [],
          subnets6: [{ name: 'vmleaf6', prefix: `${LEAF6}/64`, range: { start: `${LEAF6}100`, end: `${LEAF6}1ff` } }],
        });
      }
      options.configure?.(config);
      const configFile = join(dir, 'anvil.yaml');
      await writeFile(configFile, stringify(config));
      await startIn('prov', 'anvil', [process.execPath, ANVIL, 'all-in-one', '--config', configFile], 'API listening on');

      // The BMC: a simulator in this process, driving the QEMU machine, reached from prov at 127.0.0.1:8000.
      machine = await QemuMachine.create({
        name: `e2e-${options.name}`, workDir: join(dir, 'vm'), cpus: options.cpus ?? 2, memoryMb: options.memoryMb ?? 1024,
        netns: ns.name('leaf'),
        ...options.machine,
        disks: [disk, ...(options.machine?.disks ?? [])],
        nics: [{ mac, tap: 'tap0', ...(ovs ? { offloads: false } : {}) }, ...(options.machine?.nics ?? [])],
      });
      const bmcSocket = `unix:${join(dir, 'bmc.sock')}`;
      if (power === 'ipmi') {
        // prov reaches the BMC on the same UDP port as it listens on here: its SOL answer names that port.
        ipmi = await startIpmiSimulator({ machines: [machine], firstPort: 0, username: BMC_USER, password: bmcPassword });
        bmcBridge = await startBridge(bmcSocket, `udp:127.0.0.1:${ipmi.ports[0]}`);
        await startIn('prov', 'bmc-bridge', [process.execPath, '--import', 'tsx', BRIDGE, `udp:127.0.0.1:${ipmi.ports[0]}`, bmcSocket], 'bridge ready');
      } else {
        if (power === 'ovirt') {
          engine = await startEngineSimulator({ machines: [machine], users: { [`${BMC_USER}@internal`]: bmcPassword } });
          await writeFile(join(dir, 'engine-ca.pem'), engine.certificate!);
        } else redfish = await startRedfishSimulator({ machines: [machine], auth: { username: BMC_USER, password: bmcPassword } });
        bmcBridge = await startBridge(bmcSocket, `tcp:127.0.0.1:${(engine ?? redfish)!.port}`);
        await startIn('prov', 'bmc-bridge', [process.execPath, '--import', 'tsx', BRIDGE, `tcp:${bmcHost}:8000`, bmcSocket], 'bridge ready');
      }
      await startIn('prov', 'api-bridge', [process.execPath, '--import', 'tsx', BRIDGE, `unix:${join(dir, 'api.sock')}`, `tcp:${options.ipv6 ? SERVER6 : SERVER}:6385`], 'bridge ready');
    });
  } catch (err) {
    await close();
    throw err;
  }
  const vm = machine!;
  const api = axios.create({
    socketPath: join(dir, 'api.sock'),
    baseURL: 'http://anvil',
    headers: { 'X-OpenStack-Ironic-API-Version': '1.89' },
    validateStatus: () => true,
  });

  const diagnostics = async (): Promise<string> => {
    const console_ = (await readFile(vm.consoleLog, 'latin1').catch(() => '')).slice(-3000);
    return `--- serial console ---\n${console_}\n--- anvil ---\n${(output.anvil ?? '').slice(-4000)}`;
  };
  const consoleLength = async (): Promise<number> => (await readFile(vm.consoleLog, 'latin1').catch(() => '')).length;
  const consoleUntil = async (from: number, line: string, limitSec: number): Promise<string> => {
    const deadline = Date.now() + limitSec * 1000;
    for (;;) {
      const since = (await readFile(vm.consoleLog, 'latin1').catch(() => '')).slice(from);
      if (since.includes(line)) return since;
      if (Date.now() > deadline) throw new Error(`no "${line}" on the serial console after ${limitSec} s:\n${await diagnostics()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const waitForState = async (node: string, state: string, limitSec: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + limitSec * 1000;
    for (;;) {
      const found = (await api.get(`/v1/nodes/${node}`)).data as Record<string, unknown>;
      if (found.provision_state === state && !found.target_provision_state) return found;
      if (/failed$|^error$|^enroll$/.test(String(found.provision_state)) && state !== found.provision_state) {
        throw new Error(`node went to ${found.provision_state}: ${found.last_error}\n${await diagnostics()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`node still ${found.provision_state} (target ${found.target_provision_state}) after ${limitSec} s; last_error ${found.last_error}\n${await diagnostics()}`);
      }
      // Every 0.1 s: bench/qemu-deploy times each phase by this wait, a 0.5 s pause added 0.25 s to each on average.
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const provision = async (node: string, target: string, extra: Record<string, unknown> = {}): Promise<void> => {
    const res = await api.put(`/v1/nodes/${node}/states/provision`, { target, ...extra });
    expect(res.status, JSON.stringify(res.data)).toBe(202);
  };
  const driverInfo = (): Record<string, unknown> => {
    if (power === 'ovirt') return { ovirt_address: `${urlHost(bmcHost)}:8000`, ovirt_password: bmcPassword, ovirt_vm_name: `e2e-${options.name}`, ovirt_ca_file: join(dir, 'engine-ca.pem') };
    if (power === 'ipmi') return { ipmi_address: '127.0.0.1', ipmi_port: ipmi!.ports[0], ipmi_username: BMC_USER, ipmi_password: bmcPassword };
    return { redfish_address: `http://${urlHost(bmcHost)}:8000`, redfish_system_id: `/redfish/v1/Systems/${redfish!.systemIds[0]}`, redfish_username: BMC_USER, redfish_password: bmcPassword };
  };

  return {
    dir, ns, site, machine: vm, api, output, ovs, httpRoot, tftpRoot, disk, diskBytes, mac, power, bmcPassword, phases,
    driverInfo, timed, startIn, diagnostics, consoleLength, consoleUntil, waitForState, provision, close,
    async reachIn(role, name, target) {
      const socket = join(dir, `${name}.sock`);
      await startIn(role, name, [process.execPath, '--import', 'tsx', BRIDGE, `unix:${socket}`, target], 'bridge ready');
      return socket;
    },
    async powerOff(node) {
      const off = await api.put(`/v1/nodes/${node}/states/power`, { target: 'power off' });
      expect(off.status, JSON.stringify(off.data)).toBe(202);
      for (let i = 0; i < 60 && (await vm.powerState()) !== 'off'; i++) await new Promise((r) => setTimeout(r, 500));
      expect(await vm.powerState()).toBe('off');
    },
    async enroll(fields = {}) {
      const created = await api.post('/v1/nodes', {
        name: `e2e-${options.name}`,
        driver: power,
        driver_info: { ...driverInfo(), kernel_append_params: 'console=ttyS0 quiet' },
        boot_interface: 'ipxe',
        deploy_interface: 'direct',
        inspect_interface: 'agent',
        ...fields,
      });
      expect(created.status, JSON.stringify(created.data)).toBe(201);
      expect(JSON.stringify(created.data)).not.toContain(bmcPassword);
      const uuid = created.data.uuid as string;
      const port = await api.post('/v1/ports', { node_uuid: uuid, address: mac, pxe_enabled: true });
      expect(port.status, JSON.stringify(port.data)).toBe(201);
      await provision(uuid, 'manage');
      await waitForState(uuid, 'manageable', 60);
      return uuid;
    },
  };
}

/** QEMU's raw view of `size` bytes at `offset` of a qcow2 file, for qemu-img --image-opts. */
export function rawView(file: string, offset: number, size: number): string {
  return `driver=raw,offset=${offset},size=${size},file.driver=qcow2,file.file.driver=file,file.file.filename=${file}`;
}

/**
 * `count` 512-byte sectors of a qcow2 disk from sector `skip`, read while QEMU may hold it open.
 * (Not `qemu-img dd`: 7.2 fails to skip far into a large image, yet exits 0 with nothing written.)
 */
export async function readSectors(disk: string, skip: number, count: number): Promise<Buffer> {
  const out = `${disk}.sectors-${skip}-${count}.bin`;
  await execa('qemu-img', ['convert', '-U', '-O', 'raw', '--image-opts', rawView(disk, skip * 512, count * 512), out]);
  const data = await readFile(out);
  await rm(out);
  return data;
}

