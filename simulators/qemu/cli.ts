// `anvil simulate qemu`: a virtual BMC for one QEMU machine (as VirtualBMC or sushy-tools are for
// libvirt): Redfish, and IPMI or an oVirt Engine with it as its VM when asked, power it on and off,
// set its boot device and insert virtual media, until SIGINT/SIGTERM (which powers the machine off).
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseListen } from '../../common/config.ts';
import { InvalidInput } from '../../common/errors.ts';
import { startIpmiSimulator, type IpmiSimulator } from '../ipmi-bmc/index.ts';
import { startRedfishSimulator } from '../redfish-bmc/index.ts';
import { startEngineSimulator, type EngineSimulator } from '../ovirt-engine/index.ts';
import { QemuMachine } from './machine.ts';

interface Options {
  name: string;
  disk: string[];
  mac: string;
  tap?: string;
  netns?: string;
  cpus: string;
  memory: string;
  workDir?: string;
  redfish: string;
  ipmi?: string;
  ovirt?: string;
  username: string;
  password: string;
}

function positive(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidInput(`--${name} must be an integer from 1 to ${max}, got "${value}"`);
  return n;
}

export function registerSimulateQemu(program: Command): void {
  const simulate = program.commands.find((c) => c.name() === 'simulate') ?? program.command('simulate').description('Run simulated hardware for tests');
  simulate.command('qemu')
    .description('A virtual BMC (Redfish, optionally IPMI) for one QEMU machine (TCG) that boots from the network or its disks')
    .requiredOption('--disk <file>', 'disk image (qcow2 or raw); repeat for more disks', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--name <name>', 'machine name (also its Redfish system id)', 'qemu-1')
    .option('--mac <mac>', 'MAC of its virtio NIC', '52:54:00:00:00:01')
    .option('--tap <ifname>', 'attach the NIC to this existing tap device (else QEMU user-mode networking)')
    .option('--netns <name>', 'run QEMU in this network namespace (where the tap is)')
    .option('--cpus <n>', 'virtual CPUs', '1')
    .option('--memory <mib>', 'memory in MiB', '1024')
    .option('--work-dir <dir>', 'QMP socket, serial console log and downloaded media (default ./data/qemu/NAME)')
    .option('--redfish <host:port>', 'Redfish listen address', '127.0.0.1:8000')
    .option('--ipmi <host:port>', 'also serve IPMI (RMCP+) on this UDP address')
    .option('--ovirt <host:port>', 'also serve an oVirt Engine (HTTPS) with the machine as its VM, user USERNAME@internal')
    .option('--username <name>', 'BMC user name', 'admin')
    .option('--password <password>', 'BMC password', 'password')
    .action(async (opts: Options) => {
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(opts.mac)) throw new InvalidInput(`--mac is not a MAC address: "${opts.mac}"`);
      for (const disk of opts.disk) if (!existsSync(disk)) throw new InvalidInput(`--disk ${disk}: no such file (qemu-img create -f qcow2 ${disk} 10G makes one)`);
      const workDir = resolve(opts.workDir ?? join('data', 'qemu', opts.name));
      const machine = await QemuMachine.create({
        name: opts.name,
        workDir,
        cpus: positive('cpus', opts.cpus, 64),
        memoryMb: positive('memory', opts.memory, 1024 * 1024),
        disks: opts.disk.map((d) => resolve(d)),
        nics: [{ mac: opts.mac, tap: opts.tap }],
        netns: opts.netns,
      });
      const auth = { username: opts.username, password: opts.password };
      const redfish = await startRedfishSimulator({ machines: [machine], listen: parseListen(opts.redfish, '--redfish'), auth });
      let ipmi: IpmiSimulator | undefined;
      if (opts.ipmi) {
        const at = parseListen(opts.ipmi, '--ipmi');
        ipmi = await startIpmiSimulator({ machines: [machine], host: at.host, firstPort: at.port, ...auth });
      }
      let ovirt: EngineSimulator | undefined;
      let ovirtCa = '';
      if (opts.ovirt) {
        const at = parseListen(opts.ovirt, '--ovirt');
        const user = opts.username.includes('@') ? opts.username : `${opts.username}@internal`;
        ovirt = await startEngineSimulator({ machines: [machine], host: at.host, port: at.port, users: { [user]: opts.password }, stepMs: 500 });
        ovirtCa = join(workDir, 'ovirt-engine-ca.pem');
        writeFileSync(ovirtCa, ovirt.certificate!);
      }
      process.stdout.write(
        `QEMU BMC ready: Redfish ${redfish.url}/redfish/v1/Systems/${redfish.systemIds[0]}` +
          `${ipmi ? `, IPMI ${ipmi.host}:${ipmi.ports[0]}` : ''}${ovirt ? `, oVirt Engine ${ovirt.url}/ovirt-engine/api (VM ${machine.name}, CA ${ovirtCa})` : ''}` +
          `; serial console ${machine.consoleLog}\n`,
      );
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await ipmi?.close();
      await ovirt?.close();
      await redfish.close();
      await machine.close();
    });
}
