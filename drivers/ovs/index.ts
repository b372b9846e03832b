// The Open vSwitch switch driver (network.switches.NAME.driver: ovs), over OVSDB on its socket:
//   socket: unix:/run/openvswitch/db.sock (or tcp:HOST:PORT)   bridge: br0   timeout: seconds (10)
// Each batch is read and written in one connection, the write as one OVSDB transaction, so it
// applies whole or not at all; batches to one switch go one at a time.
import { errorMessage } from '../../common/errors.ts';
import type { SwitchConfig } from '../switch/config.ts';
import { SwitchError, type SwitchBatch, type SwitchDriver } from '../switch/types.ts';
import { OvsdbClient } from './client.ts';
import { parseBridge, readOps, writeOps } from './ops.ts';

const DB = 'Open_vSwitch';

export function ovsSwitch(cfg: SwitchConfig): SwitchDriver {
  const { socket, bridge, timeout } = cfg.options as { socket?: unknown; bridge?: unknown; timeout?: unknown };
  if (typeof socket !== 'string' || typeof bridge !== 'string') throw new SwitchError(cfg.name, undefined, 'an ovs switch needs socket (unix:PATH or tcp:HOST:PORT) and bridge');
  const client = new OvsdbClient(socket, typeof timeout === 'number' ? timeout * 1000 : 10_000);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    name: cfg.name,
    kind: 'ovs',
    apply(batch: SwitchBatch, _previous, signal) {
      const run = queue.then(async () => {
        try {
          const state = parseBridge(cfg.name, bridge, await client.transact(DB, readOps(bridge), signal));
          await client.transact(DB, writeOps(cfg.name, state, batch, `anvil: ${batch.ports.length} ports, ${batch.bonds.length} bonds`), signal);
        } catch (err) {
          if (err instanceof SwitchError) throw err;
          const touched = [...batch.ports.map((p) => p.port), ...batch.bonds.map((b) => `bond ${b.name}`)].join(', ');
          throw new SwitchError(cfg.name, undefined, `(ovs at ${socket}, bridge ${bridge}) changing ${touched}, nothing changed: ${errorMessage(err)}`);
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      client.close();
    },
  };
}
