// What the agent needs from the machine it runs on. LinuxHardware reads a real machine (/proc,
// /sys) and writes a real block device; simulators/agent provides a simulated one whose disk is
// a file. Everything else (image writing, partitions, erasing) works on a disk path and is shared.
import { execFile } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../common/logger.ts';
import { ipmiLanAddress, redfishHostInterface, smbiosTable } from './bmc-address.ts';
import type { Inventory, InventoryDisk, InventoryInterface, PciDevice } from './inventory.ts';
import { captureLldp, type LldpTlvs } from './lldp-capture.ts';
import { pickRootDisk } from './root-device.ts';

export interface RootDisk {
  /** The disk's name in the inventory (/dev/sda). */
  name: string;
  /** A block device (/dev/sda) or a file standing for one. */
  path: string;
  sizeBytes: number;
  blockDevice: boolean;
}

export interface Hardware {
  /** withoutLldp: now, without waiting for what the NICs hear (the agent's own address needs no LLDP). */
  inventory(opts?: { withoutLldp?: boolean }): Promise<Inventory>;
  /** Starts listening for LLDP at once, so that the wait overlaps the agent's start-up and lookup; inventory() takes what was heard. */
  listenForLldp?(): void;
  /** The machine's PCI devices (IPA's pci-devices collector; plugin data, not inventory). */
  pciDevices(): Promise<PciDevice[]>;
  /** MAC addresses the agent looks its node up by. */
  macAddresses(): Promise<string[]>;
  /** The disk images are written to: the one matching the root device hints, else the smallest big enough. */
  rootDisk(hints?: Record<string, unknown> | null): Promise<RootDisk>;
  powerOff(): Promise<void>;
  reboot(): Promise<void>;
  /** Rescue mode: the `rescue` user's password becomes this sha512-crypt hash, and the machine offers its login once the agent ends. */
  setRescuePassword(hash: string): Promise<void>;
  /** Test hook: an error message when the named step/command is told to fail, else null. */
  injectedFailure?(step: string): string | null;
}

const exec = promisify(execFile);

async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}

const MIN_ROOT_DISK_BYTES = 4 * 1024 ** 3;

/** A real machine, as seen from a Linux ramdisk. */
export interface LinuxHardwareOptions {
  rootDevice?: string;
  /** BOOTIF: the MAC the machine PXE-booted from. */
  bootif?: string;
  /** Listen for LLDP on every NIC for the inventory (ipa-collect-lldp; lldp-capture.ts); absent: no LLDP. */
  lldp?: { timeoutMs: number; linkWaitMs: number };
  logger?: Logger;
}

export class LinuxHardware implements Hardware {
  /** What the NICs heard, once per boot: the switch does not change while the ramdisk runs. */
  private lldp: Promise<Map<string, LldpTlvs>> | undefined;

  constructor(private readonly opts: LinuxHardwareOptions = {}) {}

  private async neighbours(): Promise<Map<string, LldpTlvs>> {
    const { lldp, logger } = this.opts;
    if (lldp === undefined || !logger) return new Map();
    this.lldp ??= this.interfaces().then((nics) => captureLldp(nics.map((i) => i.name), { ...lldp, logger }));
    return this.lldp;
  }

  listenForLldp(): void {
    void this.neighbours();
  }

  /** The BMC's address: IPMI's LAN channel, else the Redfish host interface of the SMBIOS table. */
  private async bmcAddress(): Promise<string | null> {
    const ipmi = await ipmiLanAddress();
    if (ipmi) return ipmi;
    const table = await smbiosTable();
    return (table && redfishHostInterface(table)?.address) ?? null;
  }

  async macAddresses(): Promise<string[]> {
    return (await this.interfaces()).map((i) => i.mac_address);
  }

  private async interfaces(): Promise<InventoryInterface[]> {
    const out: InventoryInterface[] = [];
    const nets = await readdir('/sys/class/net').catch(() => [] as string[]);
    const addrs = os.networkInterfaces();
    for (const name of nets.sort()) {
      const base = path.join('/sys/class/net', name);
      if (name === 'lo' || (await readText(path.join(base, 'type'))) !== '1') continue;
      // Only physical NICs (with a device link), as IPA does.
      const device = await readText(path.join(base, 'device', 'uevent'));
      if (device === null) continue;
      const mac = (await readText(path.join(base, 'address')))?.toLowerCase();
      if (!mac) continue;
      const speed = Number(await readText(path.join(base, 'speed')));
      const pci = /PCI_SLOT_NAME=(\S+)/.exec(device)?.[1] ?? null;
      out.push({
        name,
        mac_address: mac,
        ipv4_address: addrs[name]?.find((a) => a.family === 'IPv4')?.address ?? null,
        ipv6_address: addrs[name]?.find((a) => a.family === 'IPv6')?.address ?? null,
        has_carrier: (await readText(path.join(base, 'carrier'))) === '1',
        vendor: await readText(path.join(base, 'device', 'vendor')),
        product: await readText(path.join(base, 'device', 'device')),
        speed_mbps: Number.isFinite(speed) && speed > 0 ? speed : null,
        pci_address: pci,
        biosdevname: null,
        client_id: null,
        lldp: null,
      });
    }
    return out;
  }

  private async disks(): Promise<InventoryDisk[]> {
    const out: InventoryDisk[] = [];
    for (const name of (await readdir('/sys/block').catch(() => [] as string[])).sort()) {
      if (/^(loop|ram|zram|dm-|sr|fd|md)/.test(name)) continue;
      const base = path.join('/sys/block', name);
      const sectors = Number(await readText(path.join(base, 'size')));
      if (!sectors) continue;
      out.push({
        name: `/dev/${name}`,
        model: (await readText(path.join(base, 'device', 'model'))) ?? '',
        size: sectors * 512,
        rotational: (await readText(path.join(base, 'queue', 'rotational'))) === '1',
        wwn: await readText(path.join(base, 'device', 'wwid')),
        serial: await readText(path.join(base, 'device', 'serial')),
        vendor: await readText(path.join(base, 'device', 'vendor')),
        wwn_with_extension: null,
        wwn_vendor_extension: null,
        hctl: null,
        by_path: null,
      });
    }
    return out;
  }

  async inventory(opts: { withoutLldp?: boolean } = {}): Promise<Inventory> {
    const cpuinfo = (await readText('/proc/cpuinfo')) ?? '';
    const meminfo = (await readText('/proc/meminfo')) ?? '';
    const field = (text: string, key: string) => new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    const totalKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
    const dmi = (f: string) => readText(`/sys/class/dmi/id/${f}`);
    const interfaces = await this.interfaces();
    const bootif = this.opts.bootif ?? null;
    const inventory: Inventory = {
      interfaces,
      cpu: {
        model_name: field(cpuinfo, 'model name'),
        frequency: field(cpuinfo, 'cpu MHz'),
        count: os.cpus().length,
        architecture: os.machine(),
        flags: field(cpuinfo, 'flags').split(/\s+/).filter(Boolean),
      },
      disks: await this.disks(),
      memory: { total: totalKb * 1024, physical_mb: Math.round((totalKb * 1024) / 1024 ** 2) },
      bmc_address: await this.bmcAddress(),
      bmc_v6address: null,
      system_vendor: {
        product_name: (await dmi('product_name')) ?? '',
        serial_number: (await dmi('product_serial')) ?? '',
        manufacturer: (await dmi('sys_vendor')) ?? '',
        firmware: { vendor: (await dmi('bios_vendor')) ?? '', version: (await dmi('bios_version')) ?? '', build_date: (await dmi('bios_date')) ?? '' },
      },
      boot: { current_boot_mode: (await readdir('/sys/firmware/efi').then(() => true, () => false)) ? 'uefi' : 'bios', pxe_interface: bootif },
      hostname: os.hostname(),
    };
    // What the NICs heard last: the rest is read while they may still be listening.
    const heard = opts.withoutLldp ? new Map<string, LldpTlvs>() : await this.neighbours();
    for (const nic of interfaces) nic.lldp = heard.get(nic.name) ?? null;
    return inventory;
  }

  async pciDevices(): Promise<PciDevice[]> {
    const root = '/sys/bus/pci/devices';
    const out: PciDevice[] = [];
    for (const bus of (await readdir(root).catch(() => [] as string[])).sort()) {
      const read = async (f: string) => ((await readText(path.join(root, bus, f))) ?? '').replace(/^0x/, '');
      out.push({ vendor_id: await read('vendor'), product_id: await read('device'), class: await read('class'), revision: await read('revision'), bus });
    }
    return out;
  }

  async rootDisk(hints?: Record<string, unknown> | null): Promise<RootDisk> {
    // --root-device wins over the node's hints: it is how the ramdisk was told what to use.
    const chosen = pickRootDisk(await this.disks(), this.opts.rootDevice ? { name: this.opts.rootDevice } : hints ?? null, MIN_ROOT_DISK_BYTES);
    return { name: chosen.name, path: chosen.name, sizeBytes: chosen.size, blockDevice: true };
  }

  async setRescuePassword(hash: string): Promise<void> {
    // Root's uid: busybox has no sudo, and IPA's rescue user may sudo anything.
    await appendFile('/etc/passwd', `rescue:x:0:0:rescue:/root:/bin/sh\n`);
    await writeFile('/etc/shadow', `root:*:1:0:99999:7:::\nrescue:${hash}:1:0:99999:7:::\n`, { mode: 0o600 });
    // init.sh offers the serial console's login instead of starting the agent again.
    await mkdir('/run/anvil', { recursive: true });
    await writeFile('/run/anvil/rescue', '');
  }

  async powerOff(): Promise<void> {
    await exec('sync').catch(() => undefined);
    // sysrq "o" powers off at once; `poweroff` when sysrq is not there.
    try {
      await writeFile('/proc/sysrq-trigger', 'o');
    } catch {
      await exec('poweroff', ['-f']);
    }
  }

  async reboot(): Promise<void> {
    await exec('sync').catch(() => undefined);
    try {
      await writeFile('/proc/sysrq-trigger', 'b');
    } catch {
      await exec('reboot', ['-f']);
    }
  }
}
