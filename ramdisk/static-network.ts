// The DHCP-less ramdisk's network, from the node's network_data.json found on its boot medium
// (drivers/in-band/boot-iso.ts puts it there); init.sh runs this before the agent, with busybox's
// programs. Covered: NICs by MAC, MTU, bonds (bonding's sysfs: mode, miimon, xmit_hash_policy,
// lacp_rate, members), VLANs (8021q), static IPv4 and IPv6 addresses and routes, DNS servers,
// ipv4_dhcp (udhcpc on that link), ipv6_slaac (the kernel's autoconfiguration) and DHCPv6, stateful
// or stateless (ramdisk/dhcp6.sh: ISC dhclient -6). The plan is pure; main() carries it out.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { addressWithPrefix, checkNetworkData, prefixLength, type NetworkData, type NetworkLink } from '../common/network-data.ts';

/** A program to run (ip, modprobe, udhcpc, dhcp6.sh), or a sysfs file to write. */
export type Step = { run: string[] } | { write: string; value: string };

export interface Nic { name: string; mac: string }

export interface NetworkPlan {
  steps: Step[];
  /** /etc/resolv.conf's content ('' when network_data names no DNS server). */
  resolv: string;
}

const BOND_OPTIONS = ['miimon', 'xmit_hash_policy', 'lacp_rate', 'updelay', 'downdelay'];

/** network_data's DHCPv6 network types and what ramdisk/dhcp6.sh asks for on them (ipv6_dhcp is stateful, as cloud-init reads it). */
const DHCP6_MODES: Record<string, 'stateful' | 'stateless'> = { ipv6_dhcp: 'stateful', 'ipv6_dhcpv6-stateful': 'stateful', 'ipv6_dhcpv6-stateless': 'stateless' };

/** A kernel interface name for a link: its id when Linux takes it (15 characters, no '/', ':' or spaces). */
function ifname(link: NetworkLink, index: number): string {
  return /^[A-Za-z0-9_.-]{1,15}$/.test(link.id) ? link.id : `${link.type.slice(0, 4)}${index}`;
}

export function planNetwork(data: NetworkData, nics: readonly Nic[]): NetworkPlan {
  checkNetworkData(data);
  const steps: Step[] = [];
  const names = new Map<string, string>();
  const links = data.links ?? [];
  // NICs first (bonds and VLANs are built on them), then bonds, then VLANs (which may sit on bonds).
  const order = [...links].sort((a, b) => rank(a) - rank(b));
  for (const link of order) {
    const index = links.indexOf(link);
    if (link.type === 'bond') {
      // Loaded by hand with no bonds of its own: by default it would make a bond0 that clashes with a link of that name.
      if (!steps.some((st) => 'run' in st && st.run[1] === 'bonding')) steps.push({ run: ['modprobe', 'bonding', 'max_bonds=0'] });
      const name = ifname(link, index);
      names.set(link.id, name);
      steps.push({ run: ['ip', 'link', 'add', 'name', name, 'type', 'bond'] });
      // bonding takes its mode and options only while the bond is down and has no members.
      steps.push({ write: `/sys/class/net/${name}/bonding/mode`, value: link.bond_mode ?? 'active-backup' });
      for (const opt of BOND_OPTIONS) {
        const v = link[`bond_${opt}`];
        if (v !== undefined && v !== null) steps.push({ write: `/sys/class/net/${name}/bonding/${opt}`, value: String(v) });
      }
      for (const member of link.bond_links ?? []) {
        const m = names.get(member)!;
        steps.push({ run: ['ip', 'link', 'set', 'dev', m, 'down'] });
        steps.push({ write: `/sys/class/net/${name}/bonding/slaves`, value: `+${m}` });
      }
    } else if (link.type === 'vlan') {
      if (!steps.some((st) => 'run' in st && st.run[1] === '8021q')) steps.push({ run: ['modprobe', '8021q'] });
      const name = ifname(link, index);
      names.set(link.id, name);
      steps.push({ run: ['ip', 'link', 'add', 'link', names.get(link.vlan_link!)!, 'name', name, 'type', 'vlan', 'id', String(link.vlan_id)] });
    } else {
      const mac = link.ethernet_mac_address?.toLowerCase();
      const nic = nics.find((n) => n.mac.toLowerCase() === mac);
      if (!nic) throw new Error(`network_data link ${link.id} (${mac ?? 'no ethernet_mac_address'}) matches no NIC of this machine (${nics.map((n) => `${n.name} ${n.mac}`).join(', ') || 'none'})`);
      names.set(link.id, nic.name);
    }
    const name = names.get(link.id)!;
    if (link.mtu) steps.push({ run: ['ip', 'link', 'set', 'dev', name, 'mtu', String(link.mtu)] });
  }
  // Members come up with their bond; every link is up before addresses go on.
  for (const link of order) steps.push({ run: ['ip', 'link', 'set', 'dev', names.get(link.id)!, 'up'] });

  const dns: string[] = [];
  for (const net of data.networks ?? []) {
    const dev = names.get(net.link)!;
    if (net.type === 'ipv4_dhcp') {
      steps.push({ run: ['udhcpc', '-i', dev, '-s', '/etc/anvil/udhcpc.sh', '-n', '-q', '-t', '6', '-T', '2'] });
      continue;
    }
    if (DHCP6_MODES[net.type]) {
      steps.push({ run: ['/etc/anvil/dhcp6.sh', dev, DHCP6_MODES[net.type]] });
      continue;
    }
    if (net.type !== 'ipv4' && net.type !== 'ipv6') continue; // SLAAC: the kernel configures it from router advertisements.
    const family = net.type === 'ipv4' ? 4 : 6;
    const { address, prefix } = addressWithPrefix(net.ip_address!, net.netmask, family)!;
    steps.push({ run: ['ip', `-${family}`, 'addr', 'add', `${address}/${prefix}`, 'dev', dev] });
    for (const r of net.routes ?? []) {
      const len = prefixLength(r.netmask, family)!;
      const to = len === 0 ? 'default' : `${r.network}/${len}`;
      steps.push({ run: ['ip', `-${family}`, 'route', 'replace', to, 'via', r.gateway, 'dev', dev] });
    }
    dns.push(...(net.dns_nameservers ?? []));
  }
  for (const s of data.services ?? []) if (s.type === 'dns') dns.push(s.address);
  const unique = [...new Set(dns)];
  return { steps, resolv: unique.map((ns) => `nameserver ${ns}\n`).join('') };
}

function rank(link: NetworkLink): number {
  return link.type === 'bond' ? 1 : link.type === 'vlan' ? 2 : 0;
}

/** The machine's NICs with a device behind them (not lo, not virtual ones). */
function machineNics(): Nic[] {
  return readdirSync('/sys/class/net').filter((n) => n !== 'lo').map((name) => ({ name, mac: readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim() }));
}

/** Carries the plan out with the ramdisk's programs (busybox ip, modprobe, udhcpc and its hook). */
export function applyPlan(plan: NetworkPlan, resolvConf: string, say: (line: string) => void): void {
  for (const step of plan.steps) {
    if ('run' in step) {
      say(step.run.join(' '));
      execFileSync(step.run[0]!, step.run.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    } else {
      say(`${step.write} <- ${step.value}`);
      writeFileSync(step.write, step.value);
    }
  }
  if (plan.resolv) writeFileSync(resolvConf, plan.resolv);
}

/** static-network NETWORK_DATA_JSON [RESOLV_CONF]: exits non-zero, saying why, when the configuration cannot be applied. */
function main(): void {
  const [file, resolvConf = '/etc/resolv.conf'] = process.argv.slice(2);
  const say = (line: string) => process.stdout.write(`static network: ${line}\n`);
  try {
    const plan = planNetwork(JSON.parse(readFileSync(file!, 'utf8')), machineNics());
    applyPlan(plan, resolvConf, say);
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && /static-network\.(ts|mjs)$/.test(process.argv[1])) main();
