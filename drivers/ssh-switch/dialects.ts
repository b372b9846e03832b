// Per-vendor command templates of the SSH CLI switch driver, as data (networking-generic-switch's
// devices, written anew): how to put a port on an access VLAN or a trunk, make a LAG of ports,
// take a port out of one, keep the change, and whether the switch has a transaction to commit or
// abort. Pure functions from a batch to command lines; the session (session.ts) runs them.
// Only the ovs dialect has run against a real switch (Open vSwitch); the vendor dialects are
// checked against recorded transcripts (test/fixtures/switch-transcripts), not real gear.
import type { BondSetting, PortSetting, SwitchBatch, VlanSetting } from '../switch/types.ts';

export interface Dialect {
  name: string;
  /** How commands run: one exec per batch (a shell command), or lines typed into the CLI. */
  mode: 'exec' | 'cli';
  /** Lines before the batch (enter configuration; open a transaction). */
  begin: readonly string[];
  /** Lines after it (commit, leave configuration, save). */
  end: readonly string[];
  /** Lines that throw the batch away when a line failed; undefined: no transaction, the driver re-applies the ports' previous setting. */
  abort?: readonly string[];
  /** The lines of the batch itself. `previous` is what Anvil last applied to these ports. */
  lines(batch: SwitchBatch, previous: SwitchBatch | undefined, opts: DialectOptions): string[];
  /** Output that means the switch refused a line. */
  errors: readonly RegExp[];
  /** The CLI prompt after which the next line may be typed. */
  prompt: RegExp;
}

export interface DialectOptions {
  /** The OVS bridge (ovs dialect). */
  bridge?: string;
  /** The ovs-vsctl command line, e.g. "sudo ovs-vsctl" or "ovs-vsctl --db=unix:/run/ovs.sock" (ovs dialect). */
  vsctl?: string;
  /** Seconds the driver waits for a line (its `timeout`). */
  timeoutSec?: number;
}

const list = (vlans: readonly number[]) => vlans.join(',');

/** A LAG's number on switches that number them (Port-channel 12): the digits of the bond's name, else a stable hash. */
export function lagNumber(name: string): number {
  const digits = /(\d+)$/.exec(name);
  if (digits) return Number(digits[1]) % 4096 || 4096;
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 4000;
  return h + 1;
}

/** The vlan lines of an IOS-like switchport (IOS, NX-OS, EOS, OS10 spell them alike). */
function switchport(v: VlanSetting): string[] {
  if (v.tagged.length === 0) return ['switchport mode access', `switchport access vlan ${v.untagged}`];
  return ['switchport mode trunk', ...(v.untagged === null ? [] : [`switchport trunk native vlan ${v.untagged}`]), `switchport trunk allowed vlan ${list(v.tagged)}`];
}

/** IOS-like CLIs: interface blocks, channel-group for LAG membership, a port-channel interface for the LAG's VLANs. */
function iosLike(name: string, opts: { lag: (n: number) => string; begin: string[]; end: string[]; abort?: string[]; errors: RegExp[]; prompt: RegExp; noChannel: string }): Dialect {
  return {
    name,
    mode: 'cli',
    begin: opts.begin,
    end: opts.end,
    abort: opts.abort,
    errors: opts.errors,
    prompt: opts.prompt,
    lines(batch) {
      const out: string[] = [];
      const single = (p: PortSetting) => out.push(`interface ${p.port}`, opts.noChannel, ...switchport(p.vlans), 'exit');
      const bond = (b: BondSetting) => {
        const n = lagNumber(b.name);
        out.push(`interface ${opts.lag(n)}`, ...switchport(b.vlans), 'exit');
        for (const m of b.members) out.push(`interface ${m}`, `channel-group ${n} mode ${b.lacp ? 'active' : 'on'}`, 'exit');
      };
      batch.ports.forEach(single);
      batch.bonds.forEach(bond);
      return out;
    },
  };
}

const CISCO_ERRORS = [/^% ?Invalid/m, /^% ?Incomplete/m, /^% ?Ambiguous/m, /^% ?(Error|ERROR)/m, /^ERROR:/m];

export const DIALECTS: Readonly<Record<string, Dialect>> = {
  cisco_ios: iosLike('cisco_ios', {
    lag: (n) => `Port-channel${n}`, begin: ['configure terminal'], end: ['end', 'write memory'], noChannel: 'no channel-group',
    errors: CISCO_ERRORS, prompt: /[>#]\s*$/,
  }),
  // NX-OS and EOS configuration sessions: the batch commits whole or is aborted.
  cisco_nxos: iosLike('cisco_nxos', {
    lag: (n) => `port-channel${n}`, begin: ['configure session anvil'], end: ['commit', 'end', 'copy running-config startup-config'], abort: ['configure session anvil', 'abort'], noChannel: 'no channel-group',
    errors: CISCO_ERRORS, prompt: /[>#]\s*$/,
  }),
  arista_eos: iosLike('arista_eos', {
    lag: (n) => `Port-Channel${n}`, begin: ['configure session anvil'], end: ['commit', 'write memory'], abort: ['configure session anvil', 'abort'], noChannel: 'no channel-group',
    errors: CISCO_ERRORS, prompt: /[>#]\s*$/,
  }),
  dell_os10: iosLike('dell_os10', {
    lag: (n) => `port-channel${n}`, begin: ['configure terminal'], end: ['end', 'write memory'], noChannel: 'no channel-group',
    errors: [/^% ?Error/m, ...CISCO_ERRORS], prompt: /[>#]\s*$/,
  }),
  // Cumulus Linux NCLU: changes are staged and committed at once (net commit), or thrown away (net abort).
  cumulus_nclu: {
    name: 'cumulus_nclu',
    mode: 'cli',
    begin: [],
    end: ['net commit'],
    abort: ['net abort'],
    errors: [/^ERROR:/m, /^Couldn't/m, /is not a valid/m],
    prompt: /[$#]\s*$/,
    lines(batch) {
      const vlans = (target: string, v: VlanSetting) => v.tagged.length === 0
        ? [`net del interface ${target} bridge vids`, `net add interface ${target} bridge access ${v.untagged}`]
        : [`net del interface ${target} bridge access`, `net add interface ${target} bridge vids ${list(v.tagged)}`, ...(v.untagged === null ? [] : [`net add interface ${target} bridge pvid ${v.untagged}`])];
      const out: string[] = [];
      for (const p of batch.ports) out.push(...vlans(p.port, p.vlans));
      for (const b of batch.bonds) {
        out.push(`net add bond ${b.name} bond slaves ${b.members.join(',')}`, `net add bond ${b.name} bond mode ${b.lacp ? '802.3ad' : 'balance-xor'}`, ...vlans(b.name, b.vlans));
      }
      return out;
    },
  },
  // SONiC's config command: VLAN membership is added and removed, so the previous setting says what to remove.
  sonic: {
    name: 'sonic',
    mode: 'cli',
    begin: [],
    end: ['sudo config save -y'],
    errors: [/^Error:/m, /^Usage:/m],
    prompt: /[$#]\s*$/,
    lines(batch, previous) {
      const before = new Map<string, VlanSetting>();
      for (const p of previous?.ports ?? []) before.set(p.port, p.vlans);
      for (const b of previous?.bonds ?? []) before.set(b.name, b.vlans);
      const members = new Map<string, string>();
      for (const b of previous?.bonds ?? []) for (const m of b.members) members.set(m, b.name);
      const out: string[] = [];
      const clear = (target: string) => {
        const old = before.get(target);
        for (const vlan of old ? [old.untagged, ...old.tagged].filter((x): x is number => x !== null) : []) out.push(`sudo config vlan member del ${vlan} ${target}`);
      };
      const set = (target: string, v: VlanSetting) => {
        clear(target);
        if (v.untagged !== null) out.push(`sudo config vlan member add -u ${v.untagged} ${target}`);
        for (const vlan of v.tagged) out.push(`sudo config vlan member add ${vlan} ${target}`);
      };
      for (const p of batch.ports) {
        const lag = members.get(p.port);
        if (lag) out.push(`sudo config portchannel member del ${lag} ${p.port}`);
        set(p.port, p.vlans);
      }
      for (const b of batch.bonds) {
        const pc = `PortChannel${lagNumber(b.name)}`;
        if (!previous?.bonds.some((x) => x.name === b.name)) out.push(`sudo config portchannel add ${pc}${b.lacp ? '' : ' --fallback true'}`);
        // A port joins a PortChannel only without VLANs of its own.
        for (const m of b.members) {
          if (members.get(m) === b.name) continue;
          clear(m);
          out.push(`sudo config portchannel member add ${pc} ${m}`);
        }
        set(pc, b.vlans);
      }
      return out;
    },
  },
  // Open vSwitch through ovs-vsctl (networking-generic-switch's OVS device): the whole batch is one
  // ovs-vsctl run, one OVSDB transaction, so it applies whole or not at all.
  ovs: {
    name: 'ovs',
    mode: 'exec',
    begin: [],
    end: [],
    errors: [],
    prompt: /[$#]\s*$/,
    lines(batch, _previous, opts) {
      const br = opts.bridge ?? 'br0';
      const cols = (v: VlanSetting) => v.tagged.length === 0
        ? [`tag=${v.untagged}`]
        : [...(v.untagged === null ? [] : [`tag=${v.untagged}`]), `trunks=${list(v.tagged)}`, `vlan_mode=${v.untagged === null ? 'trunk' : 'native-untagged'}`];
      const cmd: string[] = [];
      // Ports and bonds are taken off the bridge and put back as the batch says, in one transaction.
      for (const p of [...batch.ports.map((x) => x.port), ...batch.bonds.flatMap((b) => b.members)]) cmd.push('--', '--if-exists', '--with-iface', 'del-port', br, p);
      for (const b of batch.bonds) cmd.push('--', '--if-exists', 'del-port', br, b.name);
      for (const p of batch.ports) cmd.push('--', 'add-port', br, p.port, ...cols(p.vlans));
      for (const b of batch.bonds) {
        const bond = b.lacp ? ['lacp=active', 'bond_mode=balance-tcp', 'other_config:lacp-fallback-ab=true'] : ['bond_mode=active-backup'];
        if (b.members.length === 1) cmd.push('--', 'add-port', br, b.members[0], ...cols(b.vlans), ...(b.lacp ? ['lacp=active'] : []));
        else cmd.push('--', 'add-bond', br, b.name, ...b.members, ...cols(b.vlans), ...bond);
      }
      // vsctl is the operator's command prefix (sudo, --db=...), taken as written. ovs-vsctl gives up
      // a second before the driver does: a switch whose database stops answering is left before its
      // transaction is sent, instead of the transaction committing after Anvil has undone the rest.
      const giveUp = opts.timeoutSec ? [`--timeout=${Math.max(1, Math.floor(opts.timeoutSec) - 1)}`] : [];
      return [[opts.vsctl ?? 'ovs-vsctl', ...giveUp, ...cmd.map(shellQuote)].join(' ')];
    },
  },
};

/** A word for a POSIX shell, quoted only when it must be. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
