// The driver's one way to a BMC: picks the node's transport and runs the request through the
// per-BMC scheduler (one in flight, a minimum interval), shared by both transports.
import { timeBmcCall } from '../../common/metrics.ts';
import { BmcScheduler } from './bmc-scheduler.ts';
import type { IpmiInfo } from './driver-info.ts';
import { IpmitoolTransport } from './transport-ipmitool.ts';
import { NativeTransport } from './transport-native.ts';
import { bmcLabel, type IpmiTransport, type RawResponse } from './transport.ts';

const scheduler = new BmcScheduler();
/** IPMI has no vendor name on the wire short of Get Device ID's manufacturer number, which is not read. */
const IPMI_LABELS = { driver: 'ipmi', vendor: 'unknown' };
const transports = { ipmitool: new IpmitoolTransport(), native: new NativeTransport() };

/** `read`: a power-state read, which `auto` sends through the native client. */
export type RequestKind = 'read' | 'change';

function transportFor(info: IpmiInfo, kind: RequestKind): IpmiTransport {
  if (info.transport === 'auto') return kind === 'read' ? transports.native : transports.ipmitool;
  return transports[info.transport];
}

export function ipmiRequest(info: IpmiInfo, kind: RequestKind, netFn: number, cmd: number, data: readonly number[] | Buffer = []): Promise<RawResponse> {
  const transport = transportFor(info, kind);
  // A completion code other than 0 is the BMC refusing the command: counted as an error.
  return scheduler.run(bmcLabel(info.target), info.limits, () => timeBmcCall(() => IPMI_LABELS, () => transport.request(info.target, netFn, cmd, data), (r) => r.completion !== 0));
}

/** Closes the native sessions' socket (the ipmi family's close). */
export async function closeIpmiClients(): Promise<void> {
  await transports.native.close();
}
