// The reference transport, as Ironic does it: one `ipmitool` process per request, run through execa
// with an argument list (no shell), the password in the environment (-E reads IPMI_PASSWORD), never
// on the command line or in a log. Requests go as `raw`, so both transports share every decoder.
import { BmcTimeout, DriverError } from '../../common/errors.ts';
import { bmcLabel, type IpmiTarget, type IpmiTransport, type RawResponse } from './transport.ts';

const PRIVILEGE_NAMES: Readonly<Record<number, string>> = { 1: 'CALLBACK', 2: 'USER', 3: 'OPERATOR', 4: 'ADMINISTRATOR', 5: 'OEM' };

/** Errors worth another process: the BMC was busy or the network lost a packet (Ironic's list, plus lost sessions). */
const TRANSIENT = [/insufficient resource/i, /node busy/i, /timeout/i, /out of space/i, /BMC initialization in progress/i, /Unable to establish IPMI v2/i, /Unable to establish LAN session/i];

/**
 * ipmitool's signs that an answer came later than its -N wait. It then retransmits, and may take
 * the late answer to its first message as the answer to its retransmission: a BMC slower than -N
 * shows up as "RAKP 2 HMAC is invalid" or "invalid session ID", which say nothing true.
 */
const TOO_SLOW = /no response from|timeout|IPMI Request Match NOT FOUND/i;

/** The longest -N a slow BMC gets, in seconds. */
const MAX_WAIT_SEC = 8;

export interface IpmitoolOptions {
  /** The ipmitool binary. */
  command?: string;
  /** Processes tried per request when the error is transient. */
  attempts?: number;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** `verbose` false leaves -v out, for a console whose stderr its user reads (ipmitool-socat). */
export function ipmitoolArgs(target: IpmiTarget, suite: number | null, extra: string[], verbose = true): string[] {
  const args = [
    '-I', target.protocolVersion === '1.5' ? 'lan' : 'lanplus',
    '-H', target.address, '-p', String(target.port), '-U', target.username, '-E',
    '-L', PRIVILEGE_NAMES[target.privilege] ?? 'ADMINISTRATOR',
    '-N', String(Math.max(1, Math.ceil(target.timeoutMs / 1000))), '-R', String(Math.max(1, target.retries)),
    // -v so that authentication failures say why ("RAKP 2 HMAC is invalid"); it writes to stderr only.
    ...(verbose ? ['-v'] : []),
  ];
  if (target.protocolVersion === '2.0' && suite !== null) args.push('-C', String(suite));
  const b = target.bridging;
  if (b) {
    args.push('-b', String(b.targetChannel), '-t', hex(b.targetAddress));
    if (b.localAddress !== undefined) args.push('-m', hex(b.localAddress));
    if (b.mode === 'dual') args.push('-B', String(b.transitChannel ?? 0), '-T', hex(b.transitAddress ?? 0));
  }
  return [...args, ...extra];
}

export class IpmitoolTransport implements IpmiTransport {
  readonly name = 'ipmitool';
  private readonly command: string;
  private readonly attempts: number;
  /** Cipher suite found to work per BMC when the node leaves it unset. */
  private readonly suiteOf = new Map<string, number>();
  /** The -N (seconds) that worked for a BMC slower than its ipmi_command_timeout: later requests start there. */
  private readonly waitOf = new Map<string, number>();

  constructor(opts: IpmitoolOptions = {}) {
    this.command = opts.command ?? 'ipmitool';
    this.attempts = opts.attempts ?? 2;
  }

  async request(target: IpmiTarget, netFn: number, cmd: number, data: readonly number[] | Buffer): Promise<RawResponse> {
    const raw = ['raw', hex(netFn), hex(cmd), ...Array.from(data, hex)];
    const key = bmcLabel(target);
    const suites = target.protocolVersion === '1.5' ? [null] : target.cipherSuite !== null ? [target.cipherSuite] : this.suiteOf.has(key) ? [this.suiteOf.get(key)!] : [3, 17];
    let last: Error | undefined;
    for (const suite of suites) {
      try {
        const res = await this.run(target, suite, raw);
        if (suite !== null) this.suiteOf.set(key, suite);
        return res;
      } catch (err) {
        last = err as Error;
        // Only a session that could not be set up is worth the other suite.
        if (!(err instanceof BmcTimeout) && !/cipher suite|authentication algorithm|integrity algorithm|confidentiality algorithm/i.test(last.message)) throw err;
      }
    }
    throw last!;
  }

  async close(): Promise<void> {}

  /**
   * Runs ipmitool until it answers, up to `attempts` processes for transient errors. An attempt that
   * shows the BMC answering later than -N is retried with -N doubled (up to MAX_WAIT_SEC), without
   * counting against `attempts`, so a slow BMC works and its errors are not mistaken for a wrong
   * password. Such an attempt's completion code is not trusted either: late answers interleaved with
   * retransmissions can leave ipmitool believing in a session it never opened, and it then sends its
   * commands outside any session ("Insufficient privilege level" from the BMC).
   */
  private async run(target: IpmiTarget, suite: number | null, raw: string[]): Promise<RawResponse> {
    const { execa } = await import('execa');
    const key = bmcLabel(target);
    const configured = Math.max(1, Math.ceil(target.timeoutMs / 1000));
    let wait = Math.max(configured, this.waitOf.get(key) ?? 0);
    let lastText = '';
    let slow = false;
    let waited = wait;
    let runs = 0;
    for (let attempt = 1; attempt <= this.attempts;) {
      waited = wait;
      runs++;
      const result = await execa(this.command, ipmitoolArgs({ ...target, timeoutMs: wait * 1000 }, suite, raw), {
        env: { IPMI_PASSWORD: target.password },
        extendEnv: true,
        reject: false,
        stdin: 'ignore',
        // ipmitool's own -N/-R bound each of its ~8 exchanges; this only stops a process that hangs.
        timeout: wait * 1000 * (target.retries + 1) * 8 + 5000,
      });
      if (result.exitCode === 0 && !result.timedOut) {
        if (wait > configured) this.waitOf.set(key, wait);
        return { completion: 0, data: parseHex(result.stdout) };
      }
      const stderr = String(result.stderr ?? '');
      slow = TOO_SLOW.test(stderr) || Boolean(result.timedOut);
      const completion = /rsp=0x([0-9a-f]{1,2})\)/i.exec(stderr);
      lastText = lastLines(stderr) || (result.timedOut ? 'ipmitool did not finish' : `ipmitool exited with ${result.exitCode}`);
      if (slow && wait < MAX_WAIT_SEC) {
        wait = Math.min(wait * 2, MAX_WAIT_SEC);
        continue;
      }
      if (completion) return { completion: parseInt(completion[1], 16), data: Buffer.alloc(0) };
      attempt++;
      if (slow) continue;
      if (/RAKP 2 HMAC is invalid/i.test(stderr)) throw new DriverError(`Authentication to BMC ${key} failed for user "${target.username}": wrong password (RAKP 2 HMAC is invalid)`);
      const rakpError = /RAKP \d message indicates an error : (.*)/i.exec(stderr) ?? /Open Session Response.*?: (.*)/i.exec(stderr);
      if (rakpError) {
        if (/unauthorized name/i.test(rakpError[1])) throw new DriverError(`BMC ${key} does not know IPMI user "${target.username}" (RAKP 2: unauthorized name)`);
        // The BMC no longer knows the session ipmitool names: its Open Session answer came after
        // ipmitool had given up and asked again (a loaded BMC or link). A new process starts afresh.
        if (/invalid session id/i.test(rakpError[1]) && attempt <= this.attempts) {
          lastText = rakpError[1].trim();
          continue;
        }
        throw new DriverError(`BMC ${key} refused the session: ${rakpError[1].trim()}`);
      }
      if (result.failed && result.exitCode === undefined && !result.timedOut) throw new DriverError(`Cannot run ${this.command}: ${result.message}`);
      if (!TRANSIENT.some((re) => re.test(stderr))) throw new DriverError(`ipmitool failed on BMC ${key}: ${lastText}`);
    }
    if (slow) throw new BmcTimeout(`BMC ${key} did not answer ipmitool within its wait (${runs} runs, the last waiting ${waited} s for each message, ${target.retries} retransmissions): ${lastText}`);
    throw new BmcTimeout(`BMC ${key} did not answer ipmitool (${this.attempts} attempts): ${lastText}`);
  }
}

/** ipmitool prints raw answers as hex bytes, 16 to a line. */
function parseHex(stdout: string): Buffer {
  const bytes = stdout.trim().split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16));
  if (bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new DriverError(`Unexpected ipmitool output: ${stdout.slice(0, 200)}`);
  return Buffer.from(bytes);
}

/** The useful end of ipmitool's verbose stderr (its -v chatter removed). */
function lastLines(stderr: string): string {
  return stderr.split('\n').map((l) => l.trim())
    .filter((l) => l && !/^(Loading IANA|Running Get VSO|Invalid completion code received: Invalid command|Discovered IPMB|RAW REQ|RAW RSP|RAW REQUEST|[0-9a-f ]+$)/i.test(l))
    .slice(-2).join('; ');
}
