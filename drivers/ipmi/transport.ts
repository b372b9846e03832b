// What both IPMI transports (ipmitool processes, the native RMCP+ client) offer the driver: one raw
// request to one BMC, answered with a completion code and data. Errors a person can act on (wrong
// password, unknown user, no matching cipher suite) are DriverErrors with a clear message; silence is BmcTimeout.
import { DriverError } from '../../common/errors.ts';
import { completionText } from './protocol/constants.ts';
import { urlHost } from '../../common/url-host.ts';

export interface Bridging {
  mode: 'single' | 'dual';
  targetChannel: number;
  targetAddress: number;
  transitChannel?: number;
  transitAddress?: number;
  localAddress?: number;
}

export interface IpmiTarget {
  address: string;
  port: number;
  username: string;
  password: string;
  /** Privilege level number (2 user, 3 operator, 4 administrator). */
  privilege: number;
  /** 3 or 17; null: try 3, then 17 (modern BMCs that disabled suite 3). */
  cipherSuite: number | null;
  protocolVersion: '2.0' | '1.5';
  bridging: Bridging | null;
  /** Wait for one answer, per attempt. */
  timeoutMs: number;
  /** Attempts after the first when the BMC stays silent. */
  retries: number;
}

export interface RawResponse {
  completion: number;
  data: Buffer;
}

export interface IpmiTransport {
  readonly name: 'ipmitool' | 'native';
  request(target: IpmiTarget, netFn: number, cmd: number, data: readonly number[] | Buffer): Promise<RawResponse>;
  /** Closes sessions and sockets (the native client keeps one session per BMC). */
  close(): Promise<void>;
}

export function bmcLabel(t: Pick<IpmiTarget, 'address' | 'port'>): string {
  return `${urlHost(t.address)}:${t.port}`;
}

/** The data of a successful answer; a DriverError naming the command and the completion code otherwise. */
export function expectOk(res: RawResponse, what: string, target: IpmiTarget): Buffer {
  if (res.completion !== 0) {
    throw new DriverError(`IPMI ${what} failed on BMC ${bmcLabel(target)}: ${completionText(res.completion)} (0x${res.completion.toString(16).padStart(2, '0')})`);
  }
  return res.data;
}
