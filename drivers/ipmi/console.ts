// The `ipmitool-socat` console interface (Ironic's IPMISocatConsole): the node's IPMI Serial over
// LAN, `ipmitool -I lanplus sol activate`, served on a TCP port of the conductor's host by socat
// (drivers/socat-console.ts). ipmitool reads the password from IPMI_PASSWORD (-E): it never shows
// in a process listing.
import { DriverError, errorMessage } from '../../common/errors.ts';
import type { ConsoleInterface, TaskContext } from '../interfaces.ts';
import { proxyRunning, startProxy, stopProxy } from '../socat-console.ts';
import { IPMI_PROPERTIES, parseIpmiInfo, type IpmiInfo } from './driver-info.ts';
import { readPowerState } from './power.ts';
import { bmcLabel } from './transport.ts';
import { ipmitoolArgs } from './transport-ipmitool.ts';

/** Cipher suite when the node names none: ipmitool's own discovery fails on some BMCs (ipmi_sim), 3 is what the power transport tries first. */
const DEFAULT_SUITE = 3;

function sessionArgs(info: IpmiInfo): string[] {
  const t = info.target;
  return ipmitoolArgs({ ...t, protocolVersion: '2.0' }, t.cipherSuite ?? DEFAULT_SUITE, [], false);
}

/**
 * Run by socat for each client: a SOL session the previous client left open (its ipmitool was
 * hung up on) is ended first, or the BMC would refuse the new one. The ipmitool arguments come
 * from IPMI_ARGS, split on spaces (globbing off).
 */
const SOL_COMMAND = 'set -f; ipmitool $IPMI_ARGS sol deactivate >/dev/null 2>&1; exec ipmitool $IPMI_ARGS sol activate';

function terminalPort(ctx: TaskContext): number | undefined {
  const raw = ctx.node.driver_info.ipmi_terminal_port;
  return raw === undefined || raw === null || raw === '' ? undefined : Number(raw);
}

/** Ends a SOL session the BMC may still hold (a client that went away, a previous conductor): a new activate would be refused. */
async function deactivate(info: IpmiInfo): Promise<void> {
  const { execa } = await import('execa');
  await execa('ipmitool', [...sessionArgs(info), 'sol', 'deactivate'], { env: { IPMI_PASSWORD: info.target.password }, reject: false, timeout: 15_000 });
}

export const ipmitoolSocatConsole: ConsoleInterface = {
  name: 'ipmitool-socat',
  properties: {
    ...Object.fromEntries(['ipmi_address', 'ipmi_port', 'ipmi_username', 'ipmi_password', 'ipmi_priv_level', 'ipmi_cipher_suite'].map((k) => [k, IPMI_PROPERTIES[k]!])),
    ipmi_terminal_port: 'TCP port the console proxy listens on. Optional: a free port of conductor.serialConsole.portRange.',
  },
  validate(node) {
    const info = parseIpmiInfo(node);
    if (info.target.protocolVersion === '1.5') throw new DriverError(`Node ${node.uuid}: the ipmitool-socat console needs IPMI 2.0 (Serial over LAN); driver_info/ipmi_protocol_version is 1.5`);
  },
  async start(ctx) {
    const info = parseIpmiInfo(ctx.node);
    const bmc = bmcLabel(info.target);
    try {
      // A BMC that does not answer fails here, with its reason, rather than at the first client.
      await readPowerState(info);
    } catch (err) {
      throw new DriverError(`Cannot start the serial console of node ${ctx.node.uuid}: BMC ${bmc} did not answer: ${errorMessage(err)}`);
    }
    await deactivate(info);
    const args = sessionArgs(info);
    if (args.some((a) => a === '' || /\s/.test(a))) throw new DriverError(`Cannot start the serial console of node ${ctx.node.uuid}: the IPMI user name of BMC ${bmc} is empty or holds whitespace, which the console's ipmitool command line cannot carry`);
    try {
      return await startProxy(ctx.config, ctx.node.uuid, SOL_COMMAND, { IPMI_ARGS: args.join(' '), IPMI_PASSWORD: info.target.password }, terminalPort(ctx));
    } catch (err) {
      throw new DriverError(`Cannot start the serial console of node ${ctx.node.uuid} (SOL of BMC ${bmc}): ${errorMessage(err)}`);
    }
  },
  async stop(ctx) {
    await stopProxy(ctx.node.uuid);
    await deactivate(parseIpmiInfo(ctx.node)).catch(() => undefined);
  },
  running: (node) => proxyRunning(node.uuid),
};
