// The SSH CLI switch driver (network.switches.NAME.driver: ssh), networking-generic-switch's job:
//   dialect: cisco_ios | cisco_nxos | arista_eos | dell_os10 | cumulus_nclu | sonic | ovs
//   host, port (22), username, password or privateKeyFile, hostKeySha256, timeout (seconds, 30)
//   bridge, vsctl (ovs dialect)
// One connection per switch, one batch at a time (a per-switch lock), every line of a batch in one
// session. A line the switch refuses, or a switch that stops answering, fails the batch: a dialect
// with a transaction aborts it; one without gets the ports' previous setting applied again.
import { errorMessage } from '../../common/errors.ts';
import type { SwitchConfig } from '../switch/config.ts';
import { isolatedBatch } from '../switch/plan.ts';
import { SwitchError, type SwitchBatch, type SwitchDriver } from '../switch/types.ts';
import { DIALECTS, type Dialect, type DialectOptions } from './dialects.ts';
import { SshSession } from './session.ts';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

export function sshSwitch(cfg: SwitchConfig, isolationVlan: number): SwitchDriver {
  const o = cfg.options;
  const found: Dialect | undefined = DIALECTS[String(o.dialect)];
  if (!found) throw new SwitchError(cfg.name, undefined, `an ssh switch needs a dialect: ${Object.keys(DIALECTS).join(', ')}`);
  const dialect = found;
  const host = str(o.host);
  const username = str(o.username);
  if (!host || !username) throw new SwitchError(cfg.name, undefined, 'an ssh switch needs host and username');
  const timeoutSec = typeof o.timeout === 'number' ? o.timeout : 30;
  const session = new SshSession({
    host, username, port: typeof o.port === 'number' ? o.port : 22, password: str(o.password), privateKeyFile: str(o.privateKeyFile),
    hostKeySha256: str(o.hostKeySha256), timeoutMs: timeoutSec * 1000,
  });
  const opts: DialectOptions = { bridge: str(o.bridge), vsctl: str(o.vsctl), timeoutSec };
  const run = async (lines: readonly string[]) => {
    for (const line of lines) {
      if (dialect.mode === 'exec') await session.exec(line);
      else await session.type(line, dialect.prompt, dialect.errors);
    }
  };
  let queue: Promise<unknown> = Promise.resolve();

  async function applyNow(batch: SwitchBatch, previous: SwitchBatch | undefined): Promise<void> {
    try {
      await run([...dialect.begin, ...dialect.lines(batch, previous, opts), ...dialect.end]);
      return;
    } catch (err) {
      let recovery: string;
      try {
        if (dialect.mode === 'exec') recovery = 'nothing changed (one transaction)';
        else if (dialect.abort) {
          await run(dialect.abort);
          recovery = 'the change was aborted';
        } else {
          const back = previous ?? isolatedBatch(batch, isolationVlan);
          await run([...dialect.begin, ...dialect.lines(back, batch, opts), ...dialect.end]);
          recovery = previous ? 'the ports were put back as they were' : `the ports were parked on VLAN ${isolationVlan}`;
        }
      } catch (undoErr) {
        recovery = `undoing failed too: ${errorMessage(undoErr)}`;
      }
      throw new SwitchError(cfg.name, undefined, `(ssh ${dialect.name} at ${host}) ${errorMessage(err)}; ${recovery}`);
    }
  }

  return {
    name: cfg.name,
    kind: 'ssh',
    apply(batch, previous) {
      const p = queue.then(() => applyNow(batch, previous));
      queue = p.catch(() => undefined);
      return p;
    },
    async close() {
      session.close();
    },
  };
}
