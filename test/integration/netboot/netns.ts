// Network namespaces for netboot tests: a routed spine/leaf in miniature. Names carry a random
// run id so parallel runs never meet; remove() deletes everything, even after a failed setup.
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';

export interface Namespaces {
  id: string;
  /** ns name by role. */
  name(role: string): string;
  add(role: string): Promise<string>;
  /** Runs a command inside a namespace and returns stdout. */
  run(role: string, cmd: string[], opts?: { timeout?: number }): Promise<string>;
  /** Starts a long-running process inside a namespace; it is killed by remove(). */
  spawn(role: string, cmd: string[], opts?: { env?: Record<string, string> }): ResultPromise;
  /** A veth pair between two namespaces, addressed "a/len" and "b/len" (either may be empty). */
  link(a: { role: string; ifname: string; addr?: string; mac?: string }, b: { role: string; ifname: string; addr?: string; mac?: string }): Promise<void>;
  remove(): Promise<void>;
}

export async function canUseNetns(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespace tests need root';
  const probe = `anvprobe${randomBytes(3).toString('hex')}`;
  try {
    await execa('ip', ['netns', 'add', probe]);
    await execa('ip', ['netns', 'del', probe]);
    return undefined;
  } catch (err) {
    return `cannot create network namespaces: ${(err as Error).message}`;
  }
}

export function createNamespaces(): Namespaces {
  const id = randomBytes(3).toString('hex');
  const created: string[] = [];
  const children: ResultPromise[] = [];
  const name = (role: string): string => `anv${id}-${role}`;
  const ns: Namespaces = {
    id,
    name,
    async add(role) {
      const n = name(role);
      await execa('ip', ['netns', 'add', n]);
      created.push(n);
      await execa('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
      return n;
    },
    async run(role, cmd, opts = {}) {
      const r = await execa('ip', ['netns', 'exec', name(role), ...cmd], { timeout: opts.timeout ?? 15000 });
      return r.stdout;
    },
    spawn(role, cmd, opts = {}) {
      const child = execa('ip', ['netns', 'exec', name(role), ...cmd], { reject: false, env: opts.env, buffer: true, all: true });
      children.push(child);
      return child;
    },
    async link(a, b) {
      await execa('ip', ['-n', name(a.role), 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', name(b.role)]);
      for (const end of [a, b]) {
        if (end.mac) await execa('ip', ['-n', name(end.role), 'link', 'set', end.ifname, 'address', end.mac]);
        if (end.addr) await execa('ip', ['-n', name(end.role), 'addr', 'add', end.addr, 'dev', end.ifname]);
        await execa('ip', ['-n', name(end.role), 'link', 'set', end.ifname, 'up']);
      }
    },
    async remove() {
      for (const child of children) {
        child.kill('SIGTERM');
        await Promise.race([child, new Promise((r) => setTimeout(r, 2000))]);
        child.kill('SIGKILL');
      }
      for (const n of created.reverse()) await execa('ip', ['netns', 'del', n], { reject: false });
    },
  };
  return ns;
}
