// A VirtualBMC equivalent: one IPMI 2.0 BMC per UDP port, BMC k on firstPort + k, each driving one
// simulated machine. The virtual rack and the QEMU backend hand their machines in through this API.
import type { SimulatedMachine } from '../machine.ts';
import { SimulatedBmc } from './bmc.ts';

export interface IpmiSimulatorOptions {
  machines: readonly SimulatedMachine[];
  host?: string;
  /** Port of the first BMC; 0 gives every BMC an ephemeral port. */
  firstPort?: number;
  username?: string;
  password?: string;
  sessionTimeoutMs?: number;
  maxSessions?: number;
  /** Cipher suites offered (default 3 and 17). */
  cipherSuites?: readonly number[];
}

export interface IpmiSimulator {
  /** The port of each machine's BMC, in the order of `machines`. */
  readonly ports: number[];
  readonly host: string;
  readonly bmcs: readonly SimulatedBmc[];
  close(): Promise<void>;
}

export async function startIpmiSimulator(opts: IpmiSimulatorOptions): Promise<IpmiSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const firstPort = opts.firstPort ?? 6230;
  const bmcs = opts.machines.map((machine, k) => new SimulatedBmc({
    machine, host, port: firstPort === 0 ? 0 : firstPort + k, username: opts.username ?? 'admin', password: opts.password ?? 'password',
    sessionTimeoutMs: opts.sessionTimeoutMs, maxSessions: opts.maxSessions, cipherSuites: opts.cipherSuites,
  }));
  const close = async () => { await Promise.all(bmcs.map((b) => b.close())); };
  try {
    await Promise.all(bmcs.map((b) => b.start()));
  } catch (err) {
    await close();
    throw err;
  }
  return { ports: bmcs.map((b) => b.port), host, bmcs, close };
}
