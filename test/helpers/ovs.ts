// A private Open vSwitch for a test: ovsdb-server and ovs-vswitchd (Debian's openvswitch-switch)
// on a run directory of its own, on the userspace datapath (no kernel module here), and hosts as
// network namespaces plugged in by veth pairs. Every name starts with `nt` and a random tag, so
// tests of other worktrees never collide with it; stop() removes all of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface TestOvs {
  dir: string;
  /** The OVSDB socket, as the ovs switch driver's `socket` option. */
  socket: string;
  /** A short random tag for names of this test (netns, veth, bridges). */
  tag: string;
  vsctl(...args: string[]): Promise<string>;
  addBridge(name: string): Promise<void>;
  /** A host: namespace `ns` with one end of a veth pair (address `cidr`), the other end `port` plugged into `bridge`. */
  addHost(ns: string, port: string, bridge: string, cidr?: string): Promise<void>;
  /**
   * Whether `ns` gets an answer from `ip` within `seconds` (busybox ping, one echo a second until one
   * is answered): a loaded machine's userspace datapath may drop the first packets of a new flow.
   */
  ping(ns: string, ip: string, seconds?: number): Promise<boolean>;
  /**
   * Every value a Port row's `tag` took, oldest first, from the database's own transaction log
   * (ovsdb-tool show-log): the switch's record of each VLAN move, not a sample of it.
   */
  tagHistory(port: string): Promise<string[]>;
  /** Freezes ovsdb-server (SIGSTOP): the switch stops answering, mid-batch; the returned function thaws it. */
  freezeDatabase(): () => void;
  stop(): Promise<void>;
}

/** The `tag=` values of Port row `port` in `ovsdb-tool -mm show-log` output, in order. */
export function tagsInLog(log: string, port: string): string[] {
  const tags: string[] = [];
  let row: string | undefined;
  for (const line of log.split('\n')) {
    const table = /^\s+table (\w+) (?:insert )?row "?([^"\s]+)"?/.exec(line);
    if (table) row = table[1] === 'Port' ? table[2] : undefined;
    else if (/^record \d+/.test(line)) row = undefined;
    else if (row === port) {
      const tag = /^\s+tag=(.*)$/.exec(line);
      if (tag) tags.push(tag[1]);
    }
  }
  return tags;
}

async function waitFor(file: string, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(file)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not create ${file}`);
}

/** netns: ovs-vswitchd runs in that network namespace, so its ports are that namespace's devices (a QEMU machine's tap...). */
export async function startOvs(opts: { netns?: string } = {}): Promise<TestOvs> {
  const tag = randomBytes(2).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), `nt-ovs-${tag}-`));
  const socket = path.join(dir, 'db.sock');
  // OVS_RUNDIR keeps the bridges' management sockets in the private directory, not /var/run.
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const db = path.join(dir, 'conf.db');
  await execa('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
  const children: ChildProcess[] = [];
  const inNetns = (cmd: string, args: string[]): [string, string[]] => (opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, args]);
  /** `ip` arguments that address the switch's namespace. */
  const at = opts.netns ? ['-n', opts.netns] : [];
  const start = (cmd: string, args: string[]) => {
    // ip netns exec execs the command itself: the child is the daemon, its signals reach it.
    const child = spawn(...inNetns(cmd, args), { env, stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const database = start('ovsdb-server', [db, `--remote=punix:${socket}`, `--unixctl=${path.join(dir, 'ovsdb.ctl')}`, `--log-file=${path.join(dir, 'ovsdb.log')}`]);
  await waitFor(socket, 'ovsdb-server');
  const vsctl = async (...args: string[]) => (await execa('ovs-vsctl', [`--db=unix:${socket}`, '--timeout=20', ...args], { env })).stdout;
  await vsctl('--no-wait', 'init');
  start('ovs-vswitchd', [`unix:${socket}`, `--unixctl=${path.join(dir, 'vswitchd.ctl')}`, `--log-file=${path.join(dir, 'vswitchd.log')}`]);
  await waitFor(path.join(dir, 'vswitchd.ctl'), 'ovs-vswitchd');
  const namespaces: string[] = [];
  const links: string[] = [];
  const bridges: string[] = [];
  return {
    dir,
    socket: `unix:${socket}`,
    tag,
    vsctl,
    async addBridge(name) {
      await vsctl('add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev');
      bridges.push(name);
    },
    async addHost(ns, port, bridge, cidr) {
      const inner = `${port}i`;
      await execa('ip', ['netns', 'add', ns]);
      namespaces.push(ns);
      await execa('ip', [...at, 'link', 'add', port, 'type', 'veth', 'peer', 'name', inner, 'netns', ns]);
      links.push(port);
      if (cidr) await execa('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', inner]);
      await execa('ip', ['-n', ns, 'link', 'set', inner, 'up']);
      await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await execa('ip', [...at, 'link', 'set', port, 'up']);
      await vsctl('add-port', bridge, port);
    },
    async ping(ns, ip, seconds = 10) {
      for (let left = seconds; left > 0; left--) {
        const r = await execa('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '1', ip], { reject: false });
        if (r.exitCode === 0) return true;
      }
      return false;
    },
    async tagHistory(port) {
      return tagsInLog((await execa('ovsdb-tool', ['-mm', 'show-log', db])).stdout, port);
    },
    freezeDatabase() {
      database.kill('SIGSTOP');
      return () => { database.kill('SIGCONT'); };
    },
    async stop() {
      // A frozen database would never end.
      database.kill('SIGCONT');
      // The userspace datapath's bridge devices (taps) outlive ovs-vswitchd unless the bridge goes first.
      for (const b of bridges) await vsctl('del-br', b).catch(() => undefined);
      for (const c of children.reverse()) {
        c.kill('SIGTERM');
        if (c.exitCode === null) await new Promise((r) => c.once('exit', r));
      }
      for (const l of links) await execa('ip', [...at, 'link', 'del', l], { reject: false });
      for (const ns of namespaces) await execa('ip', ['netns', 'del', ns], { reject: false });
      for (const b of bridges) await execa('ip', [...at, 'link', 'del', b], { reject: false });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
